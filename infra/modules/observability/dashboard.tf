locals {
  pod_metric    = ["ClusterName", var.cluster_name, "Namespace", var.namespace, "PodName", var.workload_name]
  target_metric = ["LoadBalancer", var.alb_arn_suffix, "TargetGroup", var.target_group_arn_suffix]
  lb_metric     = ["LoadBalancer", var.alb_arn_suffix]
  # Container Insights counts the running pods behind a Kubernetes Service: the replicas that serve.
  service_metric = ["ClusterName", var.cluster_name, "Namespace", var.namespace, "Service", var.workload_name]
  widgets = [
    { title = "Pod CPU (% of limit)", metrics = [concat(["ContainerInsights", "pod_cpu_utilization_over_pod_limit"], local.pod_metric)], stat = "Average", threshold = var.thresholds.pod_cpu_percent },
    { title = "Pod memory (% of limit)", metrics = [concat(["ContainerInsights", "pod_memory_utilization_over_pod_limit"], local.pod_metric)], stat = "Average", threshold = var.thresholds.pod_memory_percent },
    { title = "Requests", metrics = [concat(["AWS/ApplicationELB", "RequestCount"], local.target_metric)], stat = "Sum", threshold = null },
    { title = "Target response time p50 / p99 (s)", metrics = [
      concat(["AWS/ApplicationELB", "TargetResponseTime"], local.target_metric, [{ stat = "p50" }]),
      concat(["AWS/ApplicationELB", "TargetResponseTime"], local.target_metric, [{ stat = "p99" }]),
    ], stat = "p99", threshold = var.latency_objective_seconds },
    { title = "Target 5xx", metrics = [concat(["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"], local.target_metric)], stat = "Sum", threshold = null },
    { title = "Unhealthy targets", metrics = [concat(["AWS/ApplicationELB", "UnHealthyHostCount"], local.target_metric)], stat = "Maximum", threshold = var.thresholds.unhealthy_hosts_tolerate },
    { title = "Healthy targets", metrics = [concat(["AWS/ApplicationELB", "HealthyHostCount"], local.target_metric)], stat = "Minimum", threshold = var.min_healthy_targets },
    { title = "Load balancer 5xx (its own)", metrics = [concat(["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"], local.lb_metric)], stat = "Sum", threshold = var.thresholds.elb_5xx_per_period },
    { title = "Running replicas", metrics = [concat(["ContainerInsights", "service_number_of_running_pods"], local.service_metric)], stat = "Minimum", threshold = var.min_healthy_targets },
    { title = "Container restarts", metrics = [concat(["ContainerInsights", "pod_number_of_container_restarts"], local.pod_metric)], stat = "Sum", threshold = null },
  ]
  dashboard_body = jsonencode({
    widgets = [for i, w in local.widgets : {
      type   = "metric"
      x      = (i % 2) * 12
      y      = floor(i / 2) * 6
      width  = 12
      height = 6
      properties = merge(
        {
          title   = w.title
          region  = local.region
          metrics = w.metrics
          stat    = w.stat
          period  = var.period_seconds
          view    = "timeSeries"
        },
        w.threshold == null ? {} : { annotations = { horizontal = [{ label = "alarm", value = w.threshold }] } },
      )
    }]
  })
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = local.dashboard_body
}

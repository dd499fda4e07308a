"""The ``eks`` target: plain Kubernetes objects for EKS behind an ALB.

cdk8s-plus-28 builds what it has constructs for (Namespace, ServiceAccount, Deployment, Service,
HorizontalPodAutoscaler, NetworkPolicy, Ingress); the generated L1 class builds the PodDisruptionBudget,
and plain ApiObjects the TargetGroupBinding and SecretProviderClass (validated against their upstream
CRDs). Where cdk8s-plus has no property for a field we need, a JSON patch on the synthesized object adds
it, with the reason next to it.
"""

from __future__ import annotations

import json

import cdk8s
import cdk8s_plus_28 as kplus
import yaml  # type: ignore[import-untyped]
from cdk8s_plus_28 import k8s
from constructs import Construct

from api.settings import setting_variable
from manifests_py import _pod
from manifests_py.portability import PortabilityWarning
from manifests_py.props import (
    CANARY,
    STABLE,
    IngressExposure,
    Probe,
    ServiceProps,
    Target,
    TargetGroupBindingExposure,
)

# The canary's names are public through knative_like, with the rest a release needs.
__all__ = ["NAMESPACE_LABELS_EKS", "PSS_LABELS", "checkov_skips", "namespace_and_account", "render_eks"]

# Pod Security Admission: enforce "restricted" at the version the manifests are written for, and
# warn/audit at "latest" so a stricter future policy shows up before it blocks anything.
PSS_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "v1.28",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
}
# The AWS Load Balancer Controller injects a readiness gate into pods behind a TargetGroupBinding or
# Ingress in this namespace: a new pod counts as ready only once the target group reports it healthy,
# so a rollout never removes an old pod before its replacement takes traffic.
READINESS_GATE_LABEL = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
NAMESPACE_LABELS_EKS = {**PSS_LABELS, **READINESS_GATE_LABEL}
TARGET_GROUP_BINDING_API_VERSION = "elbv2.k8s.aws/v1beta1"
SECRETS_STORE_API_VERSION = "secrets-store.csi.x-k8s.io/v1"
CSI_DRIVER = "secrets-store.csi.k8s.io"
CHECKOV_DIGEST_CHECK = "CKV_K8S_43"
ZONE_KEY = "topology.kubernetes.io/zone"
HOSTNAME_KEY = "kubernetes.io/hostname"
# A stateless pod that starts in about a second can be added at once: react to the first reading (no
# stabilization) and allow doubling, or four more pods when there are few, every 15 s (the HPA's sync
# period), whichever adds more.
SCALE_UP = kplus.ScalingRules(
    stabilization_window=cdk8s.Duration.seconds(0),
    strategy=kplus.ScalingStrategy.MAX_CHANGE,
    policies=[
        kplus.ScalingPolicy(replicas=kplus.Replicas.percent(100), duration=cdk8s.Duration.seconds(15)),
        kplus.ScalingPolicy(replicas=kplus.Replicas.absolute(4), duration=cdk8s.Duration.seconds(15)),
    ],
)
# Removing pods is what risks the latency objective, so it waits for five minutes of lower readings and
# then sheds at most 10 % a minute. The HPA rounds a percentage down to whole pods kept, so at least one
# pod can always go and the HPA still reaches the minimum.
SCALE_DOWN = kplus.ScalingRules(
    stabilization_window=cdk8s.Duration.seconds(300),
    strategy=kplus.ScalingStrategy.MAX_CHANGE,
    policies=[kplus.ScalingPolicy(replicas=kplus.Replicas.percent(10), duration=cdk8s.Duration.seconds(60))],
)


def canary_name(props: ServiceProps) -> str:
    """The canary's Deployment, Service and TargetGroupBinding; the stable ones keep the service's name."""
    return f"{props.name}-{CANARY}"


def _tracks(props: ServiceProps) -> list[str]:
    """The workloads of every track: the stable one (the service's name) and, with a binding, the canary.
    Policies and budgets select their pods by name, a label every pod has had since before tracks existed:
    applied ahead of a release, they still cover the pods serving from an older one."""
    canary = [canary_name(props)] if isinstance(props.exposure, TargetGroupBindingExposure) else []
    return [props.name, *canary]


def _metadata(
    props: ServiceProps, annotations: dict[str, str] | None = None, *, name: str | None = None
) -> cdk8s.ApiObjectMetadata:
    labels = _pod.common_labels(props, name)
    return cdk8s.ApiObjectMetadata(
        name=name or props.name, namespace=props.namespace, labels=labels, annotations=annotations
    )


def _probe(path: str, probe: Probe, port: int) -> kplus.Probe:
    return kplus.Probe.from_http_get(
        path,
        port=port,
        scheme=kplus.ConnectionScheme.HTTP,
        period_seconds=cdk8s.Duration.seconds(probe.period_seconds),
        timeout_seconds=cdk8s.Duration.seconds(probe.timeout_seconds),
        failure_threshold=probe.failure_threshold,
        success_threshold=1,
    )


def _pod_annotations(props: ServiceProps) -> dict[str, str]:
    if props.metrics_path is None:
        return {}
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(props.port),
        "prometheus.io/path": props.metrics_path,
    }


def checkov_skips(props: ServiceProps) -> dict[str, str]:
    """checkov skip annotations for a workload, each with its reason; none once the image has a digest."""
    if props.image.pinned_by_digest:
        return {}
    # "Image should use a digest": the committed manifests name the release tag because the digest exists
    # only after CI pushes the image; CI synthesizes with the pushed digest, and then this skip is gone.
    reason = "committed manifests pin the release tag; CI deploys the pushed digest"
    return {"checkov.io/skip1": f"{CHECKOV_DIGEST_CHECK}={reason}"}


def _container(scope: Construct, props: ServiceProps) -> kplus.ContainerProps:
    security = _pod.container_security_context(props)
    resources = props.resources
    tmp = kplus.Volume.from_empty_dir(
        scope, "tmp-volume", _pod.TMP_VOLUME, size_limit=cdk8s.Size.mebibytes(props.tmp_size_limit_mebibytes)
    )
    env: dict[str, kplus.EnvValue] = {
        name: kplus.EnvValue.from_value(value) for name, value in props.environment.items()
    }
    # The CSI driver rewrites the file when the secret rotates; the app re-reads it, so no restart.
    keys = props.api_keys
    env[setting_variable("api_keys_file")] = kplus.EnvValue.from_value(keys.path)
    class_name = {"secretProviderClass": props.name}
    csi = kplus.Volume.from_csi(
        scope, "keys", CSI_DRIVER, name="api-keys", read_only=True, attributes=class_name
    )
    return kplus.ContainerProps(
        name=props.name,
        image=str(props.image),
        image_pull_policy=kplus.ImagePullPolicy.ALWAYS,
        ports=[kplus.ContainerPort(number=props.port, name=_pod.PORT_NAME, protocol=kplus.Protocol.TCP)],
        env_variables=dict(sorted(env.items())),
        resources=kplus.ContainerResources(
            cpu=kplus.CpuResources(
                request=kplus.Cpu.millis(resources.cpu_request_millicores),
                limit=kplus.Cpu.millis(resources.cpu_limit_millicores),
            ),
            memory=kplus.MemoryResources(
                request=cdk8s.Size.mebibytes(resources.memory_request_mebibytes),
                limit=cdk8s.Size.mebibytes(resources.memory_limit_mebibytes),
            ),
        ),
        startup=_probe(props.health.startup, props.probes.startup, props.port),
        readiness=_probe(props.health.readiness, props.probes.readiness, props.port),
        liveness=_probe(props.health.liveness, props.probes.liveness, props.port),
        lifecycle=kplus.ContainerLifecycle(
            pre_stop=kplus.Handler.from_command(["sleep", str(props.shutdown.pre_stop_sleep_seconds)])
        ),
        security_context=kplus.ContainerSecurityContextProps(
            ensure_non_root=security["runAsNonRoot"],
            user=security["runAsUser"],
            group=security["runAsGroup"],
            privileged=security["privileged"],
            allow_privilege_escalation=security["allowPrivilegeEscalation"],
            read_only_root_filesystem=security["readOnlyRootFilesystem"],
            capabilities=kplus.ContainerSecutiryContextCapabilities(drop=[kplus.Capability.ALL]),
            seccomp_profile=kplus.SeccompProfile(type=kplus.SeccompProfileType.RUNTIME_DEFAULT),
        ),
        volume_mounts=[
            kplus.VolumeMount(path=_pod.TMP_MOUNT_PATH, volume=tmp),
            kplus.VolumeMount(path=keys.directory, volume=csi, read_only=True),
        ],
    )


def _spread_constraints(props: ServiceProps, name: str) -> list[dict[str, object]]:
    selector = {"matchLabels": _pod.selector_labels(props, name)}
    # Zones are a hard constraint (an AZ outage must not take most pods); hosts are best effort.
    # matchLabelKeys keeps each ReplicaSet balanced on its own during a rollout.
    return [
        {
            "labelSelector": selector,
            "matchLabelKeys": ["pod-template-hash"],
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": when,
        }
        for key, when in ((ZONE_KEY, "DoNotSchedule"), (HOSTNAME_KEY, "ScheduleAnyway"))
    ]


def _deployment(
    scope: Construct, props: ServiceProps, service_account: kplus.ServiceAccount, track: str
) -> kplus.Deployment:
    name = canary_name(props) if track == CANARY else props.name
    deployment = kplus.Deployment(
        scope,
        "deployment",
        metadata=_metadata(props, checkov_skips(props), name=name),
        pod_metadata=cdk8s.ApiObjectMetadata(
            labels=_pod.pod_labels(props, track, name), annotations=_pod_annotations(props)
        ),
        containers=[_container(scope, props)],
        select=False,
        service_account=service_account,
        automount_service_account_token=False,
        security_context=kplus.PodSecurityContextProps(
            ensure_non_root=True,
            user=props.run_as_user,
            group=props.run_as_user,
            fs_group=props.run_as_user,
            fs_group_change_policy=kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
        ),
        termination_grace_period=cdk8s.Duration.seconds(props.shutdown.termination_grace_period_seconds),
        # Never below the desired count during a rollout: surge first, retire old pods after.
        strategy=kplus.DeploymentStrategy.rolling_update(
            max_surge=kplus.PercentOrAbsolute.percent(props.max_surge_percent),
            max_unavailable=kplus.PercentOrAbsolute.absolute(0),
        ),
    )
    deployment.select(kplus.LabelSelector.of(labels=_pod.selector_labels(props, name)))
    pod_spec = "/spec/template/spec"
    if track == CANARY:
        # At rest the canary runs nothing: the deploy scales it up for a release and back to 0 after.
        cdk8s.ApiObject.of(deployment).add_json_patch(cdk8s.JsonPatch.add("/spec/replicas", 0))
    cdk8s.ApiObject.of(deployment).add_json_patch(
        # cdk8s-plus labels pods with their construct path; the path is not the app's identity, and a
        # template label that changes with it would restart every pod for nothing.
        cdk8s.JsonPatch.remove("/spec/template/metadata/labels/cdk8s.io~1metadata.addr"),
        # Service links would inject PREDICTOR_SERVICE_HOST and friends for a Service named like the app,
        # and the app refuses unknown PREDICTOR_* variables at start-up.
        cdk8s.JsonPatch.add(f"{pod_spec}/enableServiceLinks", value=False),
        # cdk8s-plus sets seccomp per container only; the pod-level default covers any container added later.
        cdk8s.JsonPatch.add(f"{pod_spec}/securityContext/seccompProfile", value={"type": "RuntimeDefault"}),
        # cdk8s-plus spreads with pod anti-affinity only; topology spread constraints keep zones balanced
        # as the HPA scales, and node autoscalers provision into the zone they point at.
        cdk8s.JsonPatch.add(f"{pod_spec}/topologySpreadConstraints", value=_spread_constraints(props, name)),
    )
    return deployment


def _network_policy(scope: Construct, props: ServiceProps, pods: kplus.Pods) -> None:
    # In: the app port, from the ALB's subnets (target type ip: the ALB's own addresses) and the metrics
    # scraper's pods. The kubelet's probes need no rule: the VPC CNI's network policy agent always admits
    # the node's own IP (aws/aws-network-policy-agent#56, fixed in VPC CNI v1.15.1 per
    # aws/amazon-vpc-cni-k8s#2571).
    sources: list[kplus.INetworkPolicyPeer] = [
        kplus.NetworkPolicyIpBlock.ipv4(scope, f"load-balancer-{i}", cidr)
        for i, cidr in enumerate(props.load_balancer_cidrs)
    ]
    sources.append(kplus.Namespaces.select(scope, "scraper", names=[props.metrics_scraper_namespace]))
    # Out: DNS to the cluster's resolver only, in the shape the agent's maintainers give
    # (aws/aws-network-policy-agent#230). The app calls nothing; the CSI driver fetches the API keys on
    # the node, not from the pod.
    system = kplus.Namespaces.select(scope, "kube-system", names=["kube-system"])
    kube_dns = kplus.Pods.select(scope, "kube-dns", labels={"k8s-app": "kube-dns"}, namespaces=system)
    app_port = [kplus.NetworkPolicyPort.tcp(props.port)]
    dns = [kplus.NetworkPolicyPort.udp(53), kplus.NetworkPolicyPort.tcp(53)]
    kplus.NetworkPolicy(
        scope,
        "network-policy",
        metadata=_metadata(props),
        selector=pods,
        ingress=kplus.NetworkPolicyTraffic(
            default=kplus.NetworkPolicyTrafficDefault.DENY,
            rules=[kplus.NetworkPolicyRule(peer=peer, ports=app_port) for peer in sources],
        ),
        egress=kplus.NetworkPolicyTraffic(
            default=kplus.NetworkPolicyTrafficDefault.DENY,
            rules=[kplus.NetworkPolicyRule(peer=kube_dns, ports=dns)],
        ),
    )


def _api_keys_provider_class(scope: Construct, props: ServiceProps) -> None:
    # The AWS provider fetches the secret with the pod's own EKS Pod Identity (the association infra/ makes
    # for the ServiceAccount) and writes it as the file the pods' CSI volume holds.
    keys = props.api_keys
    secret = {"objectName": keys.secret_name, "objectType": "secretsmanager", "objectAlias": keys.file_name}
    parameters = {"region": keys.region, "usePodIdentity": "true", "objects": yaml.safe_dump([secret])}
    spec = {"provider": "aws", "parameters": parameters}
    cdk8s.ApiObject(
        scope,
        "api-keys",
        api_version=SECRETS_STORE_API_VERSION,
        kind="SecretProviderClass",
        metadata=_metadata(props),
    ).add_json_patch(cdk8s.JsonPatch.add("/spec", spec))


def _disruption_budget(scope: Construct, props: ServiceProps) -> None:
    k8s.KubePodDisruptionBudget(
        scope,
        "disruption-budget",
        metadata=k8s.ObjectMeta(name=props.name, namespace=props.namespace, labels=_pod.common_labels(props)),
        # Over both tracks: a drain takes one pod at a time whichever it is; the canary at 0 adds none.
        spec=k8s.PodDisruptionBudgetSpec(
            max_unavailable=k8s.IntOrString.from_number(props.max_unavailable),
            selector=k8s.LabelSelector(
                match_expressions=[
                    k8s.LabelSelectorRequirement(key=_pod.NAME_LABEL, operator="In", values=_tracks(props))
                ]
            ),
            # A crash-looping pod must not block node drains.
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
    )


def _ingress_annotations(exposure: IngressExposure) -> dict[str, str]:
    balancer = exposure.load_balancer
    check = balancer.health_check
    prefix = "alb.ingress.kubernetes.io"
    return {
        f"{prefix}/scheme": "internet-facing",
        f"{prefix}/target-type": "ip",
        f"{prefix}/backend-protocol": "HTTP",
        # HTTPS only: 443 serves with the certificate and a TLS 1.3 policy; 80 only redirects to 443.
        f"{prefix}/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}], separators=(",", ":")),
        f"{prefix}/ssl-redirect": "443",
        f"{prefix}/certificate-arn": exposure.certificate_arn,
        f"{prefix}/ssl-policy": balancer.tls_policy,
        f"{prefix}/healthcheck-path": exposure.health_check_path,
        f"{prefix}/healthcheck-port": "traffic-port",
        f"{prefix}/healthcheck-interval-seconds": str(check.interval_seconds),
        f"{prefix}/healthcheck-timeout-seconds": str(check.timeout_seconds),
        f"{prefix}/healthy-threshold-count": str(check.healthy_threshold),
        f"{prefix}/unhealthy-threshold-count": str(check.unhealthy_threshold),
        f"{prefix}/success-codes": "200",
        f"{prefix}/target-group-attributes": (
            f"deregistration_delay.timeout_seconds={balancer.deregistration_delay_seconds}"
        ),
        f"{prefix}/load-balancer-attributes": (
            f"idle_timeout.timeout_seconds={balancer.idle_timeout_seconds},"
            "routing.http.drop_invalid_header_fields.enabled=true"
        ),
    }


def _service(scope: Construct, props: ServiceProps, name: str) -> kplus.Service:
    pods = kplus.Pods.select(scope, "pods", labels=_pod.selector_labels(props, name))
    port = kplus.ServicePort(
        name=_pod.PORT_NAME, port=props.port, target_port=props.port, protocol=kplus.Protocol.TCP
    )
    return kplus.Service(
        scope,
        "service",
        metadata=_metadata(props, name=name),
        type=kplus.ServiceType.CLUSTER_IP,
        selector=pods,
        ports=[port],
    )


def _target_group_binding(scope: Construct, props: ServiceProps, service: kplus.Service, arn: str) -> None:
    binding = cdk8s.ApiObject(
        scope,
        "target-group-binding",
        api_version=TARGET_GROUP_BINDING_API_VERSION,
        kind="TargetGroupBinding",
        metadata=_metadata(props, name=service.name),
    )
    spec = {
        "serviceRef": {"name": service.name, "port": props.port},
        "targetGroupARN": arn,
        "targetType": "ip",
    }
    binding.add_json_patch(cdk8s.JsonPatch.add("/spec", spec))


def _expose(
    scope: Construct, props: ServiceProps, service: kplus.Service, service_account: kplus.ServiceAccount
) -> None:
    exposure = props.exposure
    if isinstance(exposure, TargetGroupBindingExposure):
        _target_group_binding(scope, props, service, exposure.target_group_arn)
        # The canary: its own Deployment, Service and binding to the target group the listener weighs
        # against the stable one (Terraform owns both groups and the listener; the deploy moves weights).
        canary = Construct(scope, CANARY)
        _deployment(canary, props, service_account, CANARY)
        canary_service = _service(canary, props, canary_name(props))
        _target_group_binding(canary, props, canary_service, exposure.canary_target_group_arn)
    elif isinstance(exposure, IngressExposure):
        kplus.Ingress(
            scope,
            "ingress",
            metadata=_metadata(props, _ingress_annotations(exposure)),
            class_name="alb",
            default_backend=kplus.IngressBackend.from_service(service, port=props.port),
        )


def _not_carried(props: ServiceProps) -> list[PortabilityWarning]:
    warnings: list[PortabilityWarning] = []
    scale = props.autoscaling

    def warn(setting: str, detail: str) -> None:
        warnings.append(PortabilityWarning(target=Target.EKS, setting=setting, detail=detail))

    if scale.min == 0:
        warn("min_scale=0", "scale to zero needs Knative's activator; the HPA keeps minReplicas at 1")
    if scale.concurrency_target is not None:
        warn(
            f"concurrency_target={scale.concurrency_target}",
            "the HPA has no request-concurrency metric; "
            f"it scales on CPU at {scale.cpu_target_percent}% of the request",
        )
    if scale.container_concurrency:
        warn(
            f"container_concurrency={scale.container_concurrency}",
            "nothing caps concurrent requests per pod without Knative's queue-proxy",
        )
    if props.request_timeout_seconds is not None:
        warn(
            f"request_timeout_seconds={props.request_timeout_seconds}",
            "no per-request timeout on plain EKS; the ALB idle timeout bounds idle requests",
        )
    if not isinstance(props.exposure, TargetGroupBindingExposure):
        warn(
            f"traffic.steps={list(props.traffic.steps)}",
            "canary weights live on Terraform's listener: without a TargetGroupBinding exposure "
            "no canary is rendered and a release replaces every pod at once",
        )
    return warnings


def namespace_and_account(
    scope: Construct, props: ServiceProps, namespace_labels: dict[str, str]
) -> kplus.ServiceAccount:
    """The service's Namespace and its pods' ServiceAccount, the same on both targets."""
    labels = _pod.common_labels(props)
    kplus.Namespace(
        scope,
        "namespace",
        metadata=cdk8s.ApiObjectMetadata(name=props.namespace, labels={**labels, **namespace_labels}),
    )
    return kplus.ServiceAccount(
        scope,
        "service-account",
        metadata=cdk8s.ApiObjectMetadata(
            name=props.service_account,
            namespace=props.namespace,
            labels=labels,
        ),
        # Pod Identity credentials come through the agent's own projected token; the pod never talks to the
        # API server.
        automount_token=False,
    )


def render_eks(scope: Construct, props: ServiceProps) -> list[PortabilityWarning]:
    service_account = namespace_and_account(scope, props, NAMESPACE_LABELS_EKS)
    deployment = _deployment(scope, props, service_account, STABLE)
    service = _service(scope, props, props.name)
    # The policy covers every pod of the service, canary included.
    in_tracks = kplus.LabelExpression.in_(key=_pod.NAME_LABEL, values=_tracks(props))
    _network_policy(scope, props, kplus.Pods.select(scope, "all-pods", expressions=[in_tracks]))
    _api_keys_provider_class(scope, props)
    _disruption_budget(scope, props)
    scale = props.autoscaling
    # The HPA scales the stable Deployment; the canary's replicas are the deploy's, step by step.
    kplus.HorizontalPodAutoscaler(
        scope,
        "autoscaler",
        metadata=_metadata(props),
        target=deployment,
        min_replicas=max(scale.min, 1),
        max_replicas=scale.max,
        metrics=[kplus.Metric.resource_cpu(kplus.MetricTarget.average_utilization(scale.cpu_target_percent))],
        scale_up=SCALE_UP,
        scale_down=SCALE_DOWN,
    )
    _expose(scope, props, service, service_account)
    return _not_carried(props)

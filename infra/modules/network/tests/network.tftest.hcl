mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"] }
  }
}

variables {
  name               = "predictor-production"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

run "three_zones_of_public_and_private_subnets_with_a_nat_gateway_each" {
  command = plan

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 3
    error_message = "One public and one private subnet per zone."
  }
  assert {
    condition     = tolist([for s in aws_subnet.private : s.availability_zone]) == var.availability_zones
    error_message = "Private subnets must span the three zones."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "Nothing in the public subnets gets a public IP implicitly."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3
    error_message = "Each zone egresses through its own NAT gateway."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.tags["kubernetes.io/role/elb"] == "1"]) && alltrue([for s in aws_subnet.private : s.tags["kubernetes.io/role/internal-elb"] == "1"])
    error_message = "Subnets carry the Kubernetes load balancer role tags."
  }
  assert {
    condition     = length(distinct(concat([for s in aws_subnet.public : s.cidr_block], [for s in aws_subnet.private : s.cidr_block]))) == 6
    error_message = "Subnet CIDRs must not overlap."
  }
}

run "flow_logs_capture_all_traffic_into_an_encrypted_group" {
  command = plan

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination_type == "cloud-watch-logs"
    error_message = "Flow logs must capture all traffic into CloudWatch Logs."
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days == 365
    error_message = "Flow logs are kept a year by default."
  }
}

run "a_single_nat_gateway_serves_every_zone_when_asked" {
  command = plan

  variables {
    single_nat_gateway = true
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_route.private_nat) == 3
    error_message = "One NAT gateway, still one route per zone."
  }
}

run "zones_the_region_does_not_offer_are_rejected" {
  command = plan

  variables {
    availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1z"]
  }

  override_data {
    target = data.aws_availability_zones.requested
    values = { names = ["eu-west-1a", "eu-west-1b"] }
  }

  expect_failures = [data.aws_availability_zones.requested]
}

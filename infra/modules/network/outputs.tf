output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones the subnets span, in subnet order."
  value       = data.aws_availability_zones.requested.names
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (one per zone), for the internet-facing ALB."
  value       = aws_subnet.public[*].id
}

output "public_subnet_cidrs" {
  description = "IPv4 CIDRs of the public subnets, where the internet-facing ALB's nodes take their addresses."
  value       = aws_subnet.public[*].cidr_block
}

output "private_subnet_cidrs" {
  description = "IPv4 CIDRs of the private subnets (nodes, pods with the VPC CNI, the EKS API endpoint's ENIs)."
  value       = aws_subnet.private[*].cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (one per zone), for the nodes and the EKS control plane ENIs."
  value       = aws_subnet.private[*].id
}

output "nat_public_ips" {
  description = "Public IPs the nodes egress from (allow-list them where needed)."
  value       = aws_eip.nat[*].public_ip
}

output "flow_log_group_name" {
  description = "CloudWatch log group receiving the VPC flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}

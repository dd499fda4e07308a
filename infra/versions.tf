terraform {
  # 1.10 brought the S3 backend's native lock file (use_lockfile, GA in 1.11): no DynamoDB table to
  # create, pay for and clean up. Modules themselves need only 1.9.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # Partial configuration: bucket, key and region come from `terraform init -backend-config=backend.hcl`
  # (see backend.hcl.example), so each environment points at its own state.
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }
}

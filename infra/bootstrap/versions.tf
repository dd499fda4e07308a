terraform {
  # Creates the bucket the root configuration's S3 backend (native lock file, Terraform >= 1.10)
  # stores its state in. Its own state is local first; see README to move it into the bucket.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

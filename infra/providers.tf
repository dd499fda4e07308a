provider "aws" {
  region = var.region
  # Refuse to touch any account but the one the variables describe (ARNs in policies are composed from it).
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}

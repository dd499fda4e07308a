# Tags are immutable: an image tag (the git SHA) always names the same bytes, so a deploy or a rollback
# can never pick up a different image than the one that was scanned.
resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = module.key.arn
  }

  tags = var.tags
}

module "key" {
  source = "../kms_key"

  alias       = "ecr/${var.name}"
  description = "Encrypts the images of the ${var.name} ECR repository"
  tags        = var.tags
}

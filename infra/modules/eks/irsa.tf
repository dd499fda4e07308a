# The IAM OIDC provider that lets service accounts assume roles (IRSA). IAM trusts the EKS issuer's
# certificate through its own CA library, so no thumbprint (and no tls provider) is needed.
resource "aws_iam_openid_connect_provider" "this" {
  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

locals {
  oidc_issuer = trimprefix(aws_eks_cluster.this.identity[0].oidc[0].issuer, "https://")
}

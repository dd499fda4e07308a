variable "name" {
  description = "Name of the repository (the image name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name))
    error_message = "name must be a valid ECR repository name (lowercase letters, digits, . _ - and / separators)."
  }
}

variable "untagged_image_expiry_days" {
  description = "Untagged images (interrupted pushes, superseded layers) are expired after this many days."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_image_expiry_days >= 1
    error_message = "untagged_image_expiry_days must be at least 1."
  }
}

variable "max_image_count" {
  description = "How many images to keep in total; older ones are expired (keep enough to roll back)."
  type        = number
  default     = 200

  validation {
    condition     = var.max_image_count >= 10
    error_message = "max_image_count must be at least 10 so that rollbacks stay possible."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}

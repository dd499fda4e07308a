"""The project's tooling: load tools, Terraform helpers, the deploy script; run from the repository root."""

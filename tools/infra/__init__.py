"""Terraform tooling: the provider source, static checks, README tables, and the offline plan."""

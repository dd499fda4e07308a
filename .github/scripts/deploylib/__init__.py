"""The deploy script's parts, one job each (deploy.py composes them)."""

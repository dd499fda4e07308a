"""The delivery pipeline's tools: the deploy phases (``python -m tools.deploy``) and the plan summary."""

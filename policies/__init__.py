"""Policy gates: one command (`make policy`) that judges the infrastructure, manifests, image and workflows.

Each gate runs a pinned tool (or, for the plan and schema gates, this package's own code) over what the
repository would ship, and reports what it checked and what failed. Rules, their IDs and the decisions
behind them are in policies/README.md.
"""

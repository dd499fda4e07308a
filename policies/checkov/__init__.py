"""Custom checkov checks (CKV_PRED_*), loaded by `checkov --external-checks-dir policies/checkov`.

A rule that compares attributes with values is a checkov YAML policy (pred_*.yaml). The others are Python:
checkov loads every module in this folder by file name (it needs this __init__.py to load any), outside
this repository's environment: the modules import only what checkov ships, and each holds one check, a
pred_common.K8sCheck. Helpers shared by several checks live there.
"""

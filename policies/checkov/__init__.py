"""Custom checkov checks (CKV_PRED_*), loaded by `checkov --external-checks-dir policies/checkov`.

checkov loads every module in this folder by file name (it needs this __init__.py to load any), outside
this repository's environment: the modules import only what checkov ships, and each holds one check (or
a family of checks on one kind), a pred_common.K8sCheck. Helpers shared by several checks live there.
"""

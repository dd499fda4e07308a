"""Custom checkov checks (CKV_PRED_*), loaded by `checkov --external-checks-dir policies/checkov`.

checkov loads every module in this folder by file name (it needs this __init__.py to load any), outside
this repository's environment: the modules import only checkov and the standard library, and each holds
one check (or a family of checks on one object). Helpers shared by several checks live in pred_common.py.
"""

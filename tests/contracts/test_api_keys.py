"""The API keys' path from Secrets Manager to the app: the SecretProviderClass names the planned secret,
the pod mounts that class read-only, the app's key-file setting points at the mounted file, and the
planned CSI driver rewrites that file when the secret rotates."""

from __future__ import annotations

import json

import pytest
import yaml

from api.settings import setting_variable
from tests.contracts.conftest import broken, change_after, one, output

pytestmark = [pytest.mark.slow, pytest.mark.system]

SECRET = "module.secrets.aws_secretsmanager_secret.this"  # noqa: S105 - an address, not a password
CSI_ADDON = "module.eks.aws_eks_addon.secrets_store_csi"
READ_POLICY = 'module.secrets.module.reader_role.aws_iam_role_policy.this["read-api-keys-secret"]'


def check_api_keys_reach_the_app(plan: dict, objects: list[dict]) -> None:
    secret = change_after(plan, SECRET)["name"]
    assert output(plan, "api_keys_secret_name") == secret
    (statement,) = json.loads(change_after(plan, READ_POLICY)["policy"])["Statement"]
    assert statement["Resource"].endswith(f":secret:{secret}-??????"), "the reader role reads another secret"
    provider_class = one(objects, "SecretProviderClass")
    spec = provider_class["spec"]
    assert spec["provider"] == "aws"
    assert spec["parameters"]["region"] == output(plan, "region")
    # The provider fetches with the pod's Pod Identity role: without this it looks for an IRSA token.
    assert spec["parameters"].get("usePodIdentity") == "true", "the provider does not use Pod Identity"
    (fetched,) = yaml.safe_load(spec["parameters"]["objects"])
    assert (fetched["objectName"], fetched["objectType"]) == (secret, "secretsmanager"), fetched
    deployment = one(objects, "Deployment")
    assert deployment["metadata"]["namespace"] == provider_class["metadata"]["namespace"]
    pod = deployment["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if "csi" in v]
    assert volume["csi"]["driver"] == "secrets-store.csi.k8s.io"
    assert volume["csi"]["readOnly"] is True
    assert volume["csi"]["volumeAttributes"]["secretProviderClass"] == provider_class["metadata"]["name"]
    (container,) = pod["containers"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    env = {e["name"]: e.get("value") for e in container["env"]}
    expected = f"{mount['mountPath']}/{fetched.get('objectAlias', fetched['objectName'])}"
    assert env.get(setting_variable("api_keys_file")) == expected, "the app reads another file"
    # A rotated key reaches the running pods only if the driver re-fetches mounted secrets.
    addon = change_after(plan, CSI_ADDON)
    assert addon["addon_name"] == "aws-secrets-store-csi-driver-provider"
    driver = json.loads(addon["configuration_values"] or "{}").get("secrets-store-csi-driver", {})
    assert driver.get("enableSecretRotation") is True, "the CSI driver never re-fetches the keys"


def test_the_api_keys_secret_reaches_the_apps_key_file(plans, dist):
    check_api_keys_reach_the_app(plans["root"], dist)


def _pod(objects: list[dict]) -> dict:
    return one(objects, "Deployment")["spec"]["template"]["spec"]


def _objects(objects: list[dict], **replacement: str) -> None:
    spec = one(objects, "SecretProviderClass")["spec"]["parameters"]
    (fetched,) = yaml.safe_load(spec["objects"])
    spec["objects"] = yaml.safe_dump([{**fetched, **replacement}])


@pytest.mark.parametrize(
    ("break_plan", "break_dist"),
    [
        (lambda p: change_after(p, SECRET).update(name="predictor/production/config"), None),
        (lambda p: change_after(p, CSI_ADDON).update(configuration_values=None), None),
        (None, lambda d: _objects(d, objectName="predictor/production/other")),
        (None, lambda d: _objects(d, objectAlias="keys.txt")),
        (None, lambda d: one(d, "SecretProviderClass")["spec"]["parameters"].pop("usePodIdentity")),
        (None, lambda d: _pod(d)["containers"][0]["env"][0].update(value="/run/secrets/other/api-keys")),
        (
            None,
            lambda d: _pod(d)["volumes"][-1]["csi"]["volumeAttributes"].update(secretProviderClass="other"),
        ),
        (None, lambda d: _pod(d)["containers"][0]["volumeMounts"][-1].update(readOnly=False)),
    ],
    ids=[
        "other-secret",
        "no-rotation",
        "other-object",
        "other-file",
        "no-pod-identity",
        "other-path",
        "other-class",
        "writable",
    ],
)
def test_the_api_keys_contract_fails_on_a_broken_side(plans, dist, break_plan, break_dist):
    assert _pod(dist)["containers"][0]["env"][0]["name"] == setting_variable("api_keys_file")
    plan = broken(plans["root"], break_plan) if break_plan else plans["root"]
    objects = broken(dist, break_dist) if break_dist else dist
    with pytest.raises(AssertionError):
        check_api_keys_reach_the_app(plan, objects)

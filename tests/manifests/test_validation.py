"""Strict schema validation of dist/: unknown fields fail, for Kubernetes 1.28 through the newest bundled."""

from __future__ import annotations

import copy

import pytest

from manifests_py.validation import (
    CRD_SCHEMA_FILES,
    CrdSchemaMissingError,
    kubernetes_versions,
    validate_against_crd,
    validate_builtin,
    validate_objects,
)
from tests.manifests.conftest import DIST, committed_folders, load_folder

# The newest Kubernetes minor EKS offers as this is written. kubernetes_versions() runs every bundled
# minor from 1.28 up, so this one is always among them; the test below says so if a bump removes it.
NEWEST_EKS_KUBERNETES = "1.36"


def builtin_objects():
    return [
        pytest.param(document, id=f"{folder}-{document['kind']}")
        for folder in committed_folders()
        for document in load_folder(DIST / folder)
        if (document["apiVersion"], document["kind"]) not in CRD_SCHEMA_FILES
    ]


def custom_objects():
    return [
        pytest.param(document, id=f"{folder}-{document['kind']}")
        for folder in committed_folders()
        for document in load_folder(DIST / folder)
        if (document["apiVersion"], document["kind"]) in CRD_SCHEMA_FILES
    ]


def test_versions_span_the_cdk8s_plus_line_to_the_newest_eks():
    versions = kubernetes_versions()
    assert versions[0] == "1.28"
    assert NEWEST_EKS_KUBERNETES in versions
    minors = [int(v.split(".")[1]) for v in versions]
    assert minors == list(range(minors[0], minors[-1] + 1)), "no minor skipped"


@pytest.mark.parametrize("version", kubernetes_versions())
@pytest.mark.parametrize("document", builtin_objects())
def test_builtin_objects_validate_strictly(document, version):
    assert validate_builtin(document, version) == []


@pytest.mark.parametrize("document", custom_objects())
def test_custom_resources_validate_against_their_crd(document):
    assert validate_against_crd(document) == []


def test_dist_holds_both_custom_resources():
    kinds = {(d["apiVersion"], d["kind"]) for d in (p.values[0] for p in custom_objects())}
    assert kinds == set(CRD_SCHEMA_FILES), "every custom resource kind the app renders is in dist/"


def _first(kind, api_version):
    for folder in committed_folders():
        for document in load_folder(DIST / folder):
            if (document["apiVersion"], document["kind"]) == (api_version, kind):
                return copy.deepcopy(document)
    raise AssertionError(kind)


@pytest.mark.parametrize("version", ["1.28", NEWEST_EKS_KUBERNETES])
def test_an_unknown_field_fails_strict_validation(version):
    deployment = _first("Deployment", "apps/v1")
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFileSystem"] = True  # misspelt
    (problem,) = validate_builtin(deployment, version)
    assert problem.path == "spec.template.spec.containers.0"
    assert "readOnlyRootFileSystem" in problem.message


def test_a_wrong_type_fails_validation():
    autoscaler = _first("HorizontalPodAutoscaler", "autoscaling/v2")
    autoscaler["spec"]["minReplicas"] = "3"
    (problem,) = validate_builtin(autoscaler, "1.28")
    assert problem.path == "spec.minReplicas"


def test_an_unknown_kind_is_a_failure_not_a_pass():
    (problem,) = validate_builtin(
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "1.28"
    )
    assert "Widget" in problem.message


def test_an_unknown_field_in_a_target_group_binding_fails():
    binding = _first("TargetGroupBinding", "elbv2.k8s.aws/v1beta1")
    binding["spec"]["targetGroupArn"] = binding["spec"].pop("targetGroupARN")  # the classic misspelling
    (problem,) = validate_against_crd(binding)
    assert problem.path == "spec"
    assert "targetGroupArn" in problem.message


def test_an_unknown_field_in_a_knative_service_fails():
    service = _first("Service", "serving.knative.dev/v1")
    service["spec"]["template"]["spec"]["containers"][0]["lifecycle"] = {
        "preStop": {"exec": {"command": ["true"]}}
    }
    service["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    paths = {p.path: p.message for p in validate_against_crd(service)}
    assert "lifecycle" in paths["spec.template.spec.containers.0"]
    assert "creationTimestamp" in paths["metadata"]


def test_a_missing_crd_schema_is_reported_by_name(tmp_path):
    binding = _first("TargetGroupBinding", "elbv2.k8s.aws/v1beta1")
    with pytest.raises(CrdSchemaMissingError, match=r"elbv2-targetgroupbinding-crd\.yaml"):
        validate_objects([binding], versions=["1.28"], schema_dir=tmp_path)

"""Deterministic YAML files, one per object, in apply order, published without ever leaving a partial dist/.

``kubectl apply -f dist/<folder>/`` reads a directory's files in name order, so each file name starts with
the rank of its kind: the Namespace first, the objects that bind to others last.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

__all__ = ["UnorderedKindError", "file_name", "publish", "render_yaml", "staging_directory", "write_folder"]

# (apiVersion, kind) -> (apply rank, file slug). A kind missing here stops synthesis: decide its place.
APPLY_ORDER: dict[tuple[str, str], tuple[int, str]] = {
    # Cluster folders: the node class first, since the NodePool refers to it.
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): (10, "ec2nodeclass"),
    ("karpenter.sh/v1", "NodePool"): (20, "nodepool"),
    # The deploy role's RBAC in the service's namespace (created first, from the service folder).
    ("rbac.authorization.k8s.io/v1", "Role"): (30, "role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (40, "rolebinding"),
    # Service folders.
    ("v1", "Namespace"): (0, "namespace"),
    ("v1", "ServiceAccount"): (10, "serviceaccount"),
    ("networking.k8s.io/v1", "NetworkPolicy"): (20, "networkpolicy"),
    ("v1", "Service"): (30, "service"),
    # Before the Deployment: a pod whose CSI volume names a missing class does not start.
    ("secrets-store.csi.x-k8s.io/v1", "SecretProviderClass"): (30, "secretproviderclass"),
    ("apps/v1", "Deployment"): (40, "deployment"),
    ("serving.knative.dev/v1", "Service"): (40, "knative-service"),
    ("policy/v1", "PodDisruptionBudget"): (50, "poddisruptionbudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"): (60, "horizontalpodautoscaler"),
    ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding"): (70, "targetgroupbinding"),
    ("networking.k8s.io/v1", "Ingress"): (70, "ingress"),
}
_TOP_LEVEL = ("apiVersion", "kind", "metadata")


class UnorderedKindError(KeyError):
    """A synthesized object whose kind has no place in APPLY_ORDER."""


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]
    """Block style with indented sequences, the layout kubectl and cdk8s print."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: FBT001, FBT002, ARG002 - PyYAML's signature
        super().increase_indent(flow, indentless=False)


def _text(dumper: _Dumper, text: str) -> Any:  # noqa: ANN401 - PyYAML's node, untyped
    # Multi-line text (the SecretProviderClass's objects) as a literal block, as it is written by hand.
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _text)


def render_yaml(document: Mapping[str, Any], *, header: str) -> str:
    # apiVersion, kind and metadata first (already in sorted order), then the rest: yaml.dump's sort_keys
    # sorts every mapping within each part.
    head = {key: document[key] for key in _TOP_LEVEL if key in document}
    rest = {key: value for key, value in document.items() if key not in _TOP_LEVEL}
    body = "".join(
        yaml.dump(part, Dumper=_Dumper, sort_keys=True, width=4096, allow_unicode=True)
        for part in (head, rest)
        if part
    )
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return f"{comment}{body}"


def _placement(document: Mapping[str, Any]) -> tuple[int, str]:
    key = (str(document.get("apiVersion")), str(document.get("kind")))
    if key not in APPLY_ORDER:
        msg = f"{key[0]} {key[1]} has no place in manifests_py.output.APPLY_ORDER"
        raise UnorderedKindError(msg)
    return APPLY_ORDER[key]


def file_name(document: Mapping[str, Any]) -> str:
    rank, slug = _placement(document)
    return f"{rank:02d}-{slug}-{document['metadata']['name']}.yaml"


def write_folder(folder: Path, documents: Iterable[Mapping[str, Any]], *, header: str) -> None:
    folder.mkdir(parents=True)
    for document in sorted(documents, key=lambda d: (*_placement(d), d["metadata"]["name"])):
        path = folder / file_name(document)
        if path.exists():
            msg = f"two objects would both be written to {path.name}"
            raise FileExistsError(msg)
        path.write_text(render_yaml(document, header=header), encoding="utf-8")


@contextmanager
def staging_directory(out_dir: Path) -> Iterator[Path]:
    """A tree to stage ``out_dir`` in, inside a scratch directory beside it (same filesystem, so publishing
    is a rename) that also receives the trees publishing replaces; all of it is removed on exit."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent) as scratch:
        staging = Path(scratch) / "new"
        staging.mkdir()
        yield staging


def _swap(new: Path, target: Path, retired: Path) -> None:
    """Put ``new`` at ``target`` by renames only, moving the old tree (if any) to ``retired``."""
    if target.exists():
        target.replace(retired)
    try:
        new.replace(target)
    except OSError:
        if retired.exists():
            retired.replace(target)
        raise


def publish(staging: Path, out_dir: Path, folders: Sequence[str], *, whole: bool) -> None:
    """Replace all of ``out_dir`` (``whole``) or just ``folders`` inside it with the staged tree; what is
    replaced goes to the scratch directory around ``staging``, removed with it."""
    retired = staging.parent / "old"
    if whole:
        _swap(staging, out_dir, retired)
        return
    retired.mkdir()
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        _swap(staging / folder, out_dir / folder, retired / folder)

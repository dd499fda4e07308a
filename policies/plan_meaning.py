"""Plan rules that judge meaning where a feature can only match spelling (policies/README.md, "Meaning").

IAM matches an action glob (`*`, `?`) case-insensitively, so whether a statement grants iam:PassRole is
decided by matching its globs against the name; a resource is every resource when an ARN position before
the resource name holds a glob. A set of CIDRs is judged by the internet address space it covers
together, and a role's AWS-managed policies by its allowlist. The lists: policies/allowlists.toml.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from policies.model import Evaluation, Verdict, evaluations
from policies.plan_facts import resource_config, split_address, walk

ALLOWED = tomllib.loads(Path(__file__).with_name("allowlists.toml").read_text(encoding="utf-8"))
TITLES = {
    "POL_PLAN_004": "iam:PassRole, however spelled, names the roles it may pass",
    "POL_PLAN_005": "No set of CIDRs admits the internet but to the load balancer's HTTP and HTTPS ports",
    "POL_PLAN_006": "Roles carry only the AWS-managed policies allowed for them",
}
IDENTITY_POLICIES = {"aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"}
_NOT_INTERNET = [ipaddress.ip_network(cidr) for cidr in ALLOWED["not_internet"]]


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def every_resource(arn: str) -> bool:
    """`*`, or a glob in an ARN's partition, service, region, account, or bucket/resource type."""
    parts = arn.split(":", 5)
    return any(c in "".join([*parts[1:5], re.split("[/:]", parts[-1])[0]]) for c in "*?")


def _internet_addresses(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    overlaps = (r.num_addresses for r in _NOT_INTERNET if r.version == net.version and net.overlaps(r))
    return net.num_addresses - sum(min(net.num_addresses, size) for size in overlaps)


def admits_internet(cidrs: list[str]) -> bool:
    """The CIDRs together cover as many internet addresses as a /8 of their family, or more."""
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]
    return any(
        sum(map(_internet_addresses, ipaddress.collapse_addresses(n for n in networks if n.version == v)))
        >= 2 ** (bits - 8)
        for v, bits in ((4, 32), (6, 128))
    )


def _grants_pass_role(action: object) -> bool:
    glob = re.escape(str(action).lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(glob, "iam:passrole") is not None


def _pass_role(address: str, policy: object) -> Iterator[Verdict]:
    for i, statement in enumerate(_list(json.loads(policy)["Statement"]) if isinstance(policy, str) else []):
        if statement.get("Effect") == "Allow" and any(map(_grants_pass_role, _list(statement.get("Action")))):
            # A resource that is no role passes nothing; a role name of globs only passes any role.
            roles = [(r, *r.partition(":role/")[1:]) for r in map(str, _list(statement.get("Resource")))]
            wide = [r for r, role, name in roles if every_resource(r) or (role and not name.strip("*?/"))]
            yield "POL_PLAN_004", f"{address} {statement.get('Sid', i)}: iam:PassRole on {wide}", bool(wide)


def _managed_policies(plan: Mapping[str, Any], change: Mapping[str, Any], role: str) -> Iterator[Verdict]:
    after, arns = change["change"]["after"], _list(change["change"]["after"].get("managed_policy_arns"))
    if change["type"] == "aws_iam_role_policy_attachment":  # the role it names, by its address
        calls, arns = split_address(change["address"])[0], [after.get("policy_arn")]
        config = resource_config(plan.get("configuration", {}), calls, change["type"], change["name"])
        refs = walk(config, ("expressions", "role", "references")) or []
        owner = next((r for r in refs if r.startswith("aws_iam_role.") and r.count(".") == 1), after["role"])
        role = "".join(f"module.{call}." for call in calls) + str(owner)
    allowed = ALLOWED["aws_managed_policies"].get(role, [])
    for arn in map(str, arns):
        name = re.sub(r"^arn:[^:]+:iam::aws:policy/", "", arn)
        yield "POL_PLAN_006", f"{role} carries {arn}, allowed: {allowed}", name not in {arn, *allowed}


def judge(plan: Mapping[str, Any]) -> list[Evaluation]:
    verdicts: list[Verdict] = []
    peers: dict[tuple[object, ...], list[str]] = {}  # (who, protocol, from, to) -> CIDRs that may connect
    for change in plan.get("resource_changes", []):
        type_, address, after = change["type"], change["address"], change["change"].get("after") or {}
        unindexed = re.sub(r"\[[^\]]*\]", "", address)
        verdicts += _pass_role(address, after.get("policy")) if type_ in IDENTITY_POLICIES else []
        if type_ in {"aws_iam_role", "aws_iam_role_policy_attachment"} and after:
            verdicts += _managed_policies(plan, change, unindexed)
        vpc = _list(after.get("vpc_config"))[0] if type_ == "aws_eks_cluster" else {}
        if vpc.get("endpoint_public_access"):
            peers[(f"{address} public endpoint",)] = _list(vpc.get("public_access_cidrs"))
        for rule in _list(after.get("ingress")) if type_ == "aws_security_group" else []:
            key = (address, rule["protocol"], rule["from_port"], rule["to_port"])
            peers.setdefault(key, []).extend(_list(rule["cidr_blocks"]) + _list(rule["ipv6_cidr_blocks"]))
        if type_ == "aws_vpc_security_group_ingress_rule":
            key = (after.get("security_group_id") or unindexed, after.get("ip_protocol"))
            cidrs = [c for c in (after.get("cidr_ipv4"), after.get("cidr_ipv6")) if c]
            peers.setdefault((*key, after.get("from_port"), after.get("to_port")), []).extend(cidrs)
    for (who, *ports), cidrs in peers.items():
        door = ports[:1] == ["tcp"] and ports[1] == ports[2] and ports[1] in ALLOWED["internet_ports"]
        verdicts += [("POL_PLAN_005", f"{who} {ports} admits {cidrs}", not door and admits_internet(cidrs))]
    return evaluations(TITLES, verdicts)

"""The image registry: is a commit's image there, logging in to it, and the scan gate."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter

from manifests_py.image import Digest
from tools.deploy import DeployError, say, sh
from tools.deploy.inputs import Target

# Findings at these severities stop a deploy.
BLOCKING_SEVERITIES = ("CRITICAL", "HIGH")
# `aws ecr wait image-scan-complete` polls every 5 s, 60 times.
_SCAN_WAIT_TIMEOUT_SECONDS = 420
_SHOWN_FINDINGS = 20
# What a digest is, by the rule every image reference is held to.
_DIGEST = TypeAdapter(Digest)


class Registry:
    def __init__(self, target: Target) -> None:
        self.target = target

    def _aws_ecr(self, *arguments: str) -> list[str]:
        region, repository = self.target.region, self.target.repository_name
        return ["aws", "ecr", *arguments, "--region", region, "--repository-name", repository]

    def digest_of(self, tag: str) -> str | None:
        """The digest ECR holds under ``tag``, or None when there is no such image."""
        result = sh([*self._aws_ecr("describe-images"), "--image-ids", f"imageTag={tag}", "--output", "json"])
        if result.returncode != 0:
            if "ImageNotFoundException" in result.stderr:
                return None
            msg = f"looking up {self.target.repository_url}:{tag} failed:\n{result.stderr.strip()}"
            raise DeployError(msg)
        try:
            return _DIGEST.validate_python(json.loads(result.stdout)["imageDetails"][0]["imageDigest"])
        except (ValueError, LookupError, TypeError) as error:  # pydantic's ValidationError is a ValueError
            msg = f"aws ecr describe-images answered no sha256 digest: {result.stdout[:200]!r}"
            raise DeployError(msg) from error

    def require_digest(self, tag: str) -> str:
        digest = self.digest_of(tag)
        if digest is None:
            msg = f"no image tagged {tag} in {self.target.repository_url}: run the publish phase first"
            raise DeployError(msg)
        return digest

    def log_in(self) -> None:
        login = ["aws", "ecr", "get-login-password", "--region", self.target.region]
        password = sh(login, what="aws ecr get-login-password").stdout
        registry = self.target.registry
        docker = ["docker", "login", "--username", "AWS", "--password-stdin", registry]
        sh(docker, stdin=password, what=f"docker login {registry}")

    def scan_gate(self, digest: str) -> None:
        """Wait for the scan of ``digest``; DeployError unless it completed without blocking findings."""
        reference = f"{self.target.repository_url}@{digest}"
        image = ["--image-id", f"imageDigest={digest}"]
        waited = sh(
            [*self._aws_ecr("wait", "image-scan-complete"), *image], timeout=_SCAN_WAIT_TIMEOUT_SECONDS
        )
        if waited.returncode != 0:
            msg = f"the ECR scan of {reference} did not complete: {waited.stderr.strip()}; nothing deployed"
            raise DeployError(msg)
        findings = [*self._aws_ecr("describe-image-scan-findings"), *image, "--output", "json"]
        say(judge_scan(sh(findings, what="aws ecr describe-image-scan-findings").stdout, reference))


def judge_scan(output: str, reference: str) -> str:
    """The verdict on ``describe-image-scan-findings`` JSON: a summary, or DeployError when it blocks."""
    try:
        report = json.loads(output)
        status = report["imageScanStatus"]["status"]
        findings = report.get("imageScanFindings") or {}
        counts: dict[str, int] = findings.get("findingSeverityCounts") or {}
    except (ValueError, LookupError, TypeError, AttributeError) as error:
        msg = f"cannot read the scan report of {reference}: {error}; nothing deployed"
        raise DeployError(msg) from error
    if status != "COMPLETE":
        msg = f"the ECR scan of {reference} is {status}, not COMPLETE; nothing deployed"
        raise DeployError(msg)
    summary = ", ".join(f"{count} {severity}" for severity, count in sorted(counts.items())) or "no findings"
    blocking = {severity: counts[severity] for severity in BLOCKING_SEVERITIES if counts.get(severity)}
    if not blocking:
        return f"scan gate passed for {reference}: {summary}"
    listed = [
        finding
        for finding in [*(findings.get("findings") or []), *(findings.get("enhancedFindings") or [])]
        if finding.get("severity") in blocking
    ]
    lines = [
        f"  {finding.get('severity')}: {finding.get('name') or finding.get('title')} "
        f"{_finding_package(finding)}".rstrip()
        for finding in listed[:_SHOWN_FINDINGS]
    ]
    if len(listed) > _SHOWN_FINDINGS:
        lines.append(f"  ... and {len(listed) - _SHOWN_FINDINGS} more")
    verdict = ", ".join(f"{count} {severity}" for severity, count in blocking.items())
    msg = f"scan gate: {verdict} finding(s) in {reference}; nothing deployed\n" + "\n".join(lines)
    raise DeployError(msg.rstrip())


def _finding_package(finding: Mapping[str, Any]) -> str:
    attributes = {item.get("key"): item.get("value") for item in finding.get("attributes") or []}
    package, version = attributes.get("package_name"), attributes.get("package_version")
    return f"({package} {version})" if package else ""

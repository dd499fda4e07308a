"""The run's reports: the summary table on the console, JUnit XML for people and CI, SARIF for code scanning.

Gates whose tool writes SARIF (checkov, hadolint, zizmor) keep its own file; the others get one written
here from their findings, one SARIF file per gate, each a run of its own tool name.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from policies.model import Finding, GateResult
from tools.common import markdown_table, write_atomic, write_json

# SARIF wants an absolute URI here; the plan gate is this package's own (policies/README.md).
_GATE_URIS = {
    "terraform-compliance": "https://terraform-compliance.com/",
    "kubernetes-schema": "https://github.com/willthames/kubernetes-validate",
}
# Characters XML 1.0 cannot carry (control characters other than tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_VERDICT = {True: "pass", False: "FAIL"}


def _where(finding: Finding) -> str:
    return f"{finding.path or '-'}{f':{finding.line}' if finding.line else ''}"


def summary(results: list[GateResult], seconds: float) -> str:
    rows = [
        [r.name, f"{r.checked} {r.unit}", str(r.failures), f"{r.seconds:.1f}", _VERDICT[r.passed]]
        for r in results
    ]
    total = str(sum(r.failures for r in results))
    rows.append(["total", "", total, f"{seconds:.1f}", _VERDICT[all(r.passed for r in results)]])
    return markdown_table(["gate", "checked", "failures", "seconds", "result"], rows)


def details(results: list[GateResult], limit: int = 20) -> str:
    """What failed, gate by gate (the first `limit` findings each), and the notes worth reading."""
    out: list[str] = []
    for result in results:
        out.extend(f"[{result.name}] {note}" for note in result.notes)
        out.extend(f"[{result.name}] ERROR {error}" for error in result.errors)
        findings = result.findings
        for evaluation, finding in findings[:limit]:
            where = f" ({_where(finding)})" if finding.path else ""
            out.append(f"[{result.name}] FAIL {evaluation.rule}{where}: {finding.message}")
        if len(findings) > limit:
            out.append(f"[{result.name}] ... and {len(findings) - limit} more (see the JUnit report)")
    return "\n".join(out)


def write_junit(results: list[GateResult], path: Path) -> None:
    suites = ET.Element("testsuites", name="make policy")
    for result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.name,
            failures=str(len(result.findings)),
            errors=str(len(result.errors)),
            time=f"{result.seconds:.3f}",
        )
        for error in result.errors:
            case = ET.SubElement(suite, "testcase", classname=result.name, name="inputs read")
            ET.SubElement(case, "error", message=error.splitlines()[0][:300]).text = error
        for evaluation in result.evaluations:
            name = " ".join(dict.fromkeys([evaluation.rule, evaluation.title])).strip()
            case = ET.SubElement(suite, "testcase", classname=result.name, name=name)
            if evaluation.findings:
                ET.SubElement(
                    case, "failure", message=f"{len(evaluation.findings)} failed", type=evaluation.rule
                ).text = "\n".join(f"{_where(f)}: {f.message}" for f in evaluation.findings)
        if not result.evaluations and not result.errors:
            ET.SubElement(
                suite, "testcase", classname=result.name, name=f"{result.checked} {result.unit} clean"
            )
        suite.set("tests", str(len(suite)))
    # Tool output can carry anything: make every text and attribute representable.
    for node in suites.iter():
        node.text = node.text and _NOT_XML.sub("?", node.text)
        node.attrib = {key: _NOT_XML.sub("?", value) for key, value in node.attrib.items()}
    write_atomic(path, ET.tostring(suites, encoding="unicode", xml_declaration=True))


def write_sarif(result: GateResult, path: Path) -> None:
    rules = {e.rule: {"id": e.rule, "shortDescription": {"text": e.title}} for e, _ in result.findings}
    entries: list[dict[str, object]] = []
    for evaluation, finding in result.findings:
        location = {"artifactLocation": {"uri": finding.path}}
        if finding.line:
            location["region"] = {"startLine": finding.line}
        entry = {"ruleId": evaluation.rule, "level": "error", "message": {"text": finding.message}}
        entries.append({**entry, "locations": [{"physicalLocation": location}]} if finding.path else entry)
    if result.errors:
        rules["INPUT"] = {"id": "INPUT", "shortDescription": {"text": "The gate read its input"}}
        entries += [
            {"ruleId": "INPUT", "level": "error", "message": {"text": error}} for error in result.errors
        ]
    driver = {"name": f"policy-{result.name}", "rules": list(rules.values())}
    if result.name in _GATE_URIS:
        driver["informationUri"] = _GATE_URIS[result.name]
    document = {"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": entries}]}
    write_json(path, {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", **document})

"""The run's reports: the summary table on the console, JUnit XML for people and CI, SARIF for code scanning.

Gates whose tool writes SARIF (checkov, hadolint, zizmor) keep its own file; the others get one written
here from their findings, one SARIF file per gate, each a run of its own tool name.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from policies.model import GateResult
from tools.common import write_atomic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF wants an absolute URI here; the plan gate is this package's own (policies/README.md).
_GATE_URIS = {
    "terraform-compliance": "https://terraform-compliance.com/",
    "kubernetes-schema": "https://github.com/willthames/kubernetes-validate",
}


def summary(results: list[GateResult], seconds: float) -> str:
    def verdict(passed: bool) -> str:  # noqa: FBT001 -- one flag, read at the call
        return "pass" if passed else "FAIL"

    header = ("gate", "checked", "failures", "seconds", "result")
    rows = [
        (r.name, f"{r.checked} {r.unit}", str(r.failures), f"{r.seconds:.1f}", verdict(r.passed))
        for r in results
    ]
    total = str(sum(r.failures for r in results))
    last = ("total", "", total, f"{seconds:.1f}", verdict(all(r.passed for r in results)))
    widths = [max(len(row[i]) for row in [header, *rows, last]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows), rule, line(last)])


def details(results: list[GateResult], limit: int = 20) -> str:
    """What failed, gate by gate (the first `limit` findings each), and the notes worth reading."""
    out: list[str] = []
    for result in results:
        out.extend(f"[{result.name}] {note}" for note in result.notes)
        out.extend(f"[{result.name}] ERROR {error}" for error in result.errors)
        if not result.passed and result.checked == 0 and not result.errors:
            out.append(f"[{result.name}] ERROR checked nothing")
        findings = result.findings
        for finding in findings[:limit]:
            where = f" ({finding.path}{f':{finding.line}' if finding.line else ''})" if finding.path else ""
            out.append(f"[{result.name}] FAIL {finding.rule}{where}: {finding.message}")
        if len(findings) > limit:
            out.append(f"[{result.name}] ... and {len(findings) - limit} more (see the JUnit report)")
    return "\n".join(out)


# Characters XML 1.0 cannot carry (control characters other than tab, newline and carriage return).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_safe(element: ET.Element) -> None:
    """Make every attribute and text of the tree representable: tool output can carry anything."""
    for node in element.iter():
        if node.text:
            node.text = _NOT_XML.sub("?", node.text)
        for key, value in node.attrib.items():
            node.set(key, _NOT_XML.sub("?", value))


def write_junit(results: list[GateResult], path: Path) -> None:
    suites = ET.Element("testsuites", name="make policy")
    for result in results:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=result.name,
            tests="0",
            failures=str(len(result.findings)),
            errors=str(len(result.errors)),
            time=f"{result.seconds:.3f}",
        )
        tests = 0
        for error in result.errors or (["checked nothing"] if result.checked == 0 else []):
            case = ET.SubElement(suite, "testcase", classname=result.name, name="inputs read")
            ET.SubElement(case, "error", message=error.splitlines()[0][:300]).text = error
            tests += 1
        for evaluation in result.evaluations:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=result.name,
                name=f"{evaluation.rule} {evaluation.title}".strip()
                if evaluation.title != evaluation.rule
                else evaluation.rule,
            )
            if evaluation.findings:
                text = "\n".join(
                    f"{f.path or '-'}{f':{f.line}' if f.line else ''}: {f.message}"
                    for f in evaluation.findings
                )
                ET.SubElement(
                    case, "failure", message=f"{len(evaluation.findings)} failed", type=evaluation.rule
                ).text = text
            tests += 1
        if not result.evaluations and not result.errors and result.checked:
            ET.SubElement(
                suite, "testcase", classname=result.name, name=f"{result.checked} {result.unit} clean"
            )
            tests += 1
        suite.set("tests", str(tests))
    _xml_safe(suites)
    write_atomic(path, ET.tostring(suites, encoding="unicode", xml_declaration=True))


def write_sarif(result: GateResult, path: Path) -> None:
    rules: dict[str, dict[str, object]] = {}
    sarif_results = []
    for finding in result.findings:
        rules.setdefault(finding.rule, {"id": finding.rule, "shortDescription": {"text": finding.title}})
        entry: dict[str, object] = {
            "ruleId": finding.rule,
            "level": "error",
            "message": {"text": finding.message},
        }
        if finding.path:
            region = {"startLine": finding.line} if finding.line else {}
            entry["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.path},
                        **({"region": region} if region else {}),
                    }
                }
            ]
        sarif_results.append(entry)
    for error in result.errors:
        rules.setdefault("INPUT", {"id": "INPUT", "shortDescription": {"text": "The gate read its input"}})
        sarif_results.append({"ruleId": "INPUT", "level": "error", "message": {"text": error}})
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": f"policy-{result.name}",
                        **({"informationUri": _GATE_URIS[result.name]} if result.name in _GATE_URIS else {}),
                        "rules": list(rules.values()),
                    }
                },
                "results": sarif_results,
            }
        ],
    }
    write_atomic(path, json.dumps(document, indent=1))

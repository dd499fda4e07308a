"""Keep the jsii runtime's Node.js support banners out of the output.

cdk8s runs on jsii, which starts a Node.js child process the moment a cdk8s module is imported, and that
process prints a large banner when Node.js is past its end of life. The banner is about the machine, not
about the manifests, and it buries real warnings. jsii silences it only when
``JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION`` lists the running Node.js *major version* (a value
such as ``1`` is not enough), so this module adds that major to whatever the environment already lists.
Call ``silence_jsii_node_banners`` before anything imports cdk8s.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from tools.common import CommandError, run

__all__ = ["silence_jsii_node_banners"]

_END_OF_LIFE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
# These two are plain switches in jsii: any non-empty value silences them.
_SWITCHES = ("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION")


def _node_major(node: str) -> str | None:
    try:
        completed = run([node, "--version"], timeout=10)  # the Node.js that jsii itself would run
    except CommandError:  # no such Node.js
        return None
    major = completed.stdout.strip().removeprefix("v").split(".", 1)[0]
    return major if major.isdigit() else None


def silence_jsii_node_banners(environ: MutableMapping[str, str]) -> None:
    for switch in _SWITCHES:
        environ.setdefault(switch, "1")
    major = _node_major(environ.get("JSII_NODE", "node"))
    if major is None:
        return
    listed = [item.strip() for item in environ.get(_END_OF_LIFE, "").split(",") if item.strip()]
    if major not in listed:
        environ[_END_OF_LIFE] = ",".join([*listed, major])

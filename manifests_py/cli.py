"""``python -m manifests_py``: synthesize dist/ (what ``make synth`` and ``cdk8s synth`` run).

Exit status 0 when written, 2 when the configuration, image reference or an object is invalid (nothing
is written then). Warnings about settings a target cannot honour go to stderr; they never fail the run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from manifests_py.config import ENVIRONMENTS_DIR
from manifests_py.synth import SynthesisError, synthesize

__all__ = ["main"]

EXIT_INVALID = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m manifests_py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("CDK8S_OUTDIR", "dist")),
        help="output directory (default: $CDK8S_OUTDIR as set by `cdk8s synth`, else dist)",
    )
    parser.add_argument(
        "--environment",
        action="append",
        dest="environments",
        metavar="NAME",
        help="synthesize only the renderings of this environment (repeatable; default: all)",
    )
    parser.add_argument(
        "--image",
        help="deploy this image instead of the configured one: REPO@sha256:... (CI passes the pushed digest)",
    )
    parser.add_argument(
        "--environments-dir",
        type=Path,
        default=ENVIRONMENTS_DIR,
        help="directory of <environment>.toml files (default: manifests_py/environments)",
    )
    parser.add_argument("--quiet", action="store_true", help="print errors only (no warnings, no summary)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        rendered = synthesize(
            args.out,
            environments=args.environments,
            image=args.image or None,
            environments_dir=args.environments_dir,
        )
    except SynthesisError as error:
        for problem in error.problems:
            sys.stderr.write(f"error: {problem}\n")
        sys.stderr.write(f"error: nothing written to {args.out}/\n")
        return EXIT_INVALID
    if args.quiet:
        return 0
    for folder in rendered:
        for warning in folder.warnings:
            sys.stderr.write(f"warning: {folder.rendering.folder}: {warning}\n")
    elapsed = time.perf_counter() - started
    summary = ", ".join(
        f"{folder.rendering.folder} ({folder.rendering.description}, {len(folder.objects)} objects)"
        for folder in rendered
    )
    sys.stdout.write(f"synthesized {summary} into {args.out}/ in {elapsed:.2f} s\n")
    return 0

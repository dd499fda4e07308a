"""A moto server on loopback, over HTTPS, with a bounded lifetime: the AWS a plan talks to offline.

HTTPS matters: the state bucket's policy denies plain HTTP (aws:SecureTransport), and moto enforces
bucket policies. A throwaway CA and a certificate for 127.0.0.1 are made per run (trustme) and the CA is
handed to Terraform through AWS_CA_BUNDLE; nothing about the emulator is baked into the configuration.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tools.common import LOOPBACK, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

READY_TIMEOUT_SECONDS = 30.0


class EmulatorError(RuntimeError):
    """moto could not be started; the message says why."""


@dataclass(frozen=True)
class Emulator:
    endpoint: str
    ca_bundle: Path

    def env(self) -> dict[str, str]:
        """AWS settings for a client of the emulator: endpoint, trust and dummy credentials only."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CA_BUNDLE": str(self.ca_bundle),
            "AWS_ACCESS_KEY_ID": "emulator",
            "AWS_SECRET_ACCESS_KEY": "emulator",
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def _certificates(workdir: Path) -> tuple[Path, Path]:
    """(CA bundle, server key + certificate PEM): a throwaway CA of this run, a certificate for LOOPBACK."""
    import trustme  # noqa: PLC0415 -- the infra dependency group; needed only when the emulator runs

    authority = trustme.CA()
    bundle, server = workdir / "emulator-ca.pem", workdir / "emulator-server.pem"
    authority.cert_pem.write_to_path(str(bundle))
    authority.issue_cert(LOOPBACK).private_key_and_cert_chain_pem.write_to_path(str(server))
    server.chmod(0o600)
    return bundle, server


def _wait_ready(endpoint: str, ca_bundle: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    context = ssl.create_default_context(cafile=str(ca_bundle))
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"moto exited with {process.returncode} before answering:\n{log.read_text()}"
            msg += "\n(moto[server] is in the infra dependency group: run `make bootstrap`)"
            raise EmulatorError(msg)
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", context=context, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    msg = f"moto did not answer on {endpoint} within {READY_TIMEOUT_SECONDS:.0f}s:\n{log.read_text()}"
    raise EmulatorError(msg)


@contextmanager
def running(workdir: Path, lifetime_seconds: int = 900) -> Iterator[Emulator]:
    """Start moto on a free loopback port; it is killed on exit and, at the latest, after its lifetime."""
    workdir.mkdir(parents=True, exist_ok=True)
    ca_bundle, server = _certificates(workdir)
    port = free_port()
    log = workdir / "moto.log"
    # timeout(1) bounds the server's life even if this process dies without cleaning up.
    # moto's server module, run by this interpreter: the environment that has moto[server] installed.
    command = ["timeout", "--kill-after=5s", f"{lifetime_seconds}s", sys.executable, "-m", "moto.server"]
    # The one PEM holds both: the certificate is read from its certificate block, the key from its key block.
    command += ["--host", LOOPBACK, "--port", str(port), "--ssl-cert", str(server), "--ssl-key", str(server)]
    with log.open("wb") as log_handle:
        process = subprocess.Popen(  # noqa: S603 -- fixed argv
            command, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    emulator = Emulator(endpoint=f"https://{LOOPBACK}:{port}", ca_bundle=ca_bundle)
    try:
        _wait_ready(emulator.endpoint, ca_bundle, process, log)
        yield emulator
    finally:
        # moto holds its state in memory only: there is nothing a gentler signal would let it save.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

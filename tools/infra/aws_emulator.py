"""A moto server on loopback, over HTTPS, with a bounded lifetime: the AWS a plan talks to offline.

HTTPS matters: the state bucket's policy denies plain HTTP (aws:SecureTransport), and moto enforces
bucket policies. A throwaway self-signed certificate for 127.0.0.1 is made per run and handed to
Terraform through AWS_CA_BUNDLE; nothing about the emulator is baked into the configuration.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
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
    workdir: Path

    def env(self) -> dict[str, str]:
        """AWS settings for a client of the emulator: endpoint, trust and dummy credentials only."""
        empty = self.workdir / "empty-aws-config"
        empty.touch()
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CA_BUNDLE": str(self.ca_bundle),
            "AWS_ACCESS_KEY_ID": "emulator",
            "AWS_SECRET_ACCESS_KEY": "emulator",
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_CONFIG_FILE": str(empty),
            "AWS_SHARED_CREDENTIALS_FILE": str(empty),
            "AWS_EC2_METADATA_DISABLED": "true",
        }


def _self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    from cryptography import x509  # noqa: PLC0415 -- moto's own dependency, needed only here
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aws-emulator.local")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = workdir / "emulator-cert.pem"
    key_path = workdir / "emulator-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pkcs8 = serialization.PrivateFormat.PKCS8
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


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
    cert, key = _self_signed_certificate(workdir)
    port = free_port()
    log = workdir / "moto.log"
    # timeout(1) bounds the server's life even if this process dies without cleaning up.
    # moto's server module, run by this interpreter: the environment that has moto[server] installed.
    command = ["timeout", "--kill-after=5s", f"{lifetime_seconds}s", sys.executable, "-m", "moto.server"]
    command += ["--host", LOOPBACK, "--port", str(port), "--ssl-cert", str(cert), "--ssl-key", str(key)]
    with log.open("wb") as log_handle:
        process = subprocess.Popen(  # noqa: S603 -- fixed argv
            command, stdout=log_handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    emulator = Emulator(endpoint=f"https://{LOOPBACK}:{port}", ca_bundle=cert, workdir=workdir)
    try:
        _wait_ready(emulator.endpoint, cert, process, log)
        yield emulator
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

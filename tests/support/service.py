"""The live-server helper of the load tools, under the name the tests have always imported it by."""

from tools.common import REPO_ROOT
from tools.load.service import (
    LOOPBACK,
    ServiceProcess,
    free_port,
    get,
    running_service,
    start_service,
)

__all__ = [
    "LOOPBACK",
    "REPO_ROOT",
    "ServiceProcess",
    "free_port",
    "get",
    "running_service",
    "start_service",
]

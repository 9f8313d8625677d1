"""End-to-end fixtures: the real service in its own process, and the node tools that test it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.service_process import ServiceProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
NEWMAN = REPO_ROOT / "node_modules" / ".bin" / "newman"


@pytest.fixture(scope="session")
def newman() -> Path:
    """The newman binary installed by ``npm ci``; missing tools fail the test, never skip it."""
    if shutil.which("node") is None:
        pytest.fail(
            "node is not on PATH: install Node.js, then run `npm ci` in the repository root"
        )
    if not NEWMAN.exists():
        pytest.fail(f"newman is not installed ({NEWMAN} is missing): run `npm ci` in {REPO_ROOT}")
    return NEWMAN


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    """``sentoffers serve`` on a fresh SQLite database, answering /health."""
    process = ServiceProcess(
        database_url=f"sqlite:///{tmp_path / 'sentoffers.db'}",
        log_path=tmp_path / "service.log",
    )
    try:
        process.start()
    except RuntimeError as error:
        pytest.fail(f"the service did not start:\n{error}")
    try:
        yield process
    finally:
        process.stop()

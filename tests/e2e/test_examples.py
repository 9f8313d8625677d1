"""The examples under ``examples/`` run to the end against a real service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.service_process import ServiceProcess, create_key

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(
    name: str, service: ServiceProcess, account: str
) -> subprocess.CompletedProcess[str]:
    key = create_key(service.database_url, account)
    env = {
        **os.environ,
        "SENTOFFERS_URL": service.base_url,
        "SENTOFFERS_APP_KEY": key.app_key,
        "SENTOFFERS_APP_TOKEN": key.app_token,
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--account", account],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("runs", [1, 2], ids=["fresh account", "run again"])
def test_the_sdk_document_flow_example_runs_to_the_end(
    shared_service: ServiceProcess, account: str, runs: int
) -> None:
    for _ in range(runs):
        done = run_example("sdk_document_flow.py", shared_service, account)
        assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    # The price and inventory flows of the document (Info logs stating Synchronized) end Synced.
    assert "SKU 1 after the price update: synced 124 BRL" in done.stdout
    assert "SKU 1 after the inventory update: synced inventory 8" in done.stdout
    assert "SKU 2 after the refused description: error ['CTLG-006-001']" in done.stdout
    assert "SKU 3 after the refused price: error" in done.stdout
    assert "SKU 3 after the next price update: synced" in done.stdout
    assert "SKU 1 after the unified contract: notification, synced" in done.stdout
    assert "the SDK document's flow ran to the end" in done.stdout

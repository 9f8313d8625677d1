"""``sentoffers sandbox`` in its own process: it prints where the platform and the marketplace
listen with their credentials, serves both, runs the initial load, takes the marketplace's
limits and faults as options, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from typing import IO

import httpx
import pytest
from typer.testing import CliRunner

from sentoffers import cli
from tests.support.sandbox import receiver_on_loopback

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

LINE_TIMEOUT_S = 30.0


def _lines(stream: IO[str]) -> tuple[queue.Queue[str], threading.Thread]:
    """The stream's lines as they come, and the thread reading them (done at end of file)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return lines, reader


def test_the_sandbox_command_serves_both_apps_and_prints_their_credentials() -> None:
    with receiver_on_loopback() as (receiver, notify_url):
        command = [
            sys.executable,
            "-m",
            "sentoffers",
            "sandbox",
            "--json",
            "--seed",
            "9",
            "--skus",
            "12",
            "--notify-url",
            notify_url,
            "--initial-load",
            "--client-secret",
            "cli-secret",
            "--rate-limit",
            "7",
            "--max-lot-size",
            "9",
            "--lost-answer-rate",
            "0.25",
            "--fault-seed",
            "3",
            "--down-after",
            "600",
            "--down-for",
            "5",
            "--no-unique-skus",
            "--notification-concurrency",
            "4",
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        lines, reader = _lines(process.stdout)
        try:
            printed = json.loads(lines.get(timeout=LINE_TIMEOUT_S))
            loaded = lines.get(timeout=LINE_TIMEOUT_S)
            assert loaded.startswith("initial load of sandbox: 12/12 delivered in "), loaded
            assert len(receiver.take()) == 12

            headers = {
                "X-VTEX-API-AppKey": printed["appKey"],
                "X-VTEX-API-AppToken": printed["appToken"],
            }
            base = printed["catalogBaseUrl"].replace("{account}", printed["accounts"][0])
            ids = httpx.get(
                f"{base}/api/catalog_system/pvt/sku/stockkeepingunitidsbysaleschannel",
                params={"sc": printed["salesChannel"], "onlyAssigned": "false"},
                headers=headers,
            )
            assert ids.status_code == 200
            assert len(ids.json()) == 12
            token = httpx.post(
                f"{printed['marketplaceUrl']}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": printed["clientId"],
                    "client_secret": "cli-secret",
                },
            )
            assert token.status_code == 200
            limits = httpx.get(f"{printed['marketplaceUrl']}/limits").json()
            assert limits == {"requestsPerSecond": 7, "maxLotSize": 9}
            stats = httpx.get(f"{printed['marketplaceUrl']}/_sandbox/stats").json()
            assert (stats["lostAnswerRate"], stats["uniqueSkus"]) == (0.25, False)
            assert stats["downForSeconds"] is None
            assert 590 < stats["downStartsIn"] <= 600
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=15)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=15)
                reader.join(timeout=15)
                process.stdout.close()
        assert code == 0


def test_the_initial_load_needs_a_notify_url() -> None:
    result = CliRunner().invoke(cli.app, ["sandbox", "--initial-load"])
    assert result.exit_code == 2
    assert "--notify-url" in result.output

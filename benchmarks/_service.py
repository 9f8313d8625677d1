"""What the benchmark scripts share: a service process started on a loopback port."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK_NAMES = {"localhost"}
SERVICE_START_TIMEOUT = 90.0


def require_loopback(base_url: str) -> None:
    """Benchmarks send their load to this machine only."""
    host = urlsplit(base_url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host.lower() in LOOPBACK_NAMES
    if not loopback:
        sys.exit(f"error: the service must be on a loopback address, not {host!r}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_log(path: Path) -> str:
    """The service's output, tokens masked (it prints a first admin key on a new store)."""
    text = path.read_text(errors="replace").strip()
    return re.sub(r"(?i)(apptoken\S*\s*[:=]\s*)\S+", r"\1<masked>", text)


RATE_LIMITS = ("KEY_PER_SECOND", "KEY_PER_MINUTE", "IP_PER_SECOND", "IP_PER_MINUTE")


@contextlib.contextmanager
def started_service(
    database_url: str, workdir: Path, *, background_jobs: bool = False
) -> Iterator[str]:
    """``python -m sentoffers serve`` on a free loopback port, stopped on the way out.

    Background jobs (the idle sweep, the hourly purge) are off by default so they never
    run into the measures.
    """
    port = free_port()
    log_path = workdir / "service.log"
    command = [
        *(sys.executable, "-m", "sentoffers", "serve", "--host", "127.0.0.1"),
        *("--port", str(port), "--database-url", database_url, "--log-level", "warning"),
    ]
    env = {
        **os.environ,
        "SENTOFFERS_BACKGROUND_JOBS": "true" if background_jobs else "false",
        # A benchmark drives one key far past a tenant's fair share: the per-key and per-IP
        # rate limits would measure themselves, not the service.
        **{f"SENTOFFERS_RATE_LIMIT_{name}": "0" for name in RATE_LIMITS},
    }
    base_url = f"http://127.0.0.1:{port}"
    require_loopback(base_url)
    failed = True  # until the run ends normally; the log is shown only then
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + SERVICE_START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise SystemExit(
                    f"error: the service exited with {process.returncode}:\n"
                    + service_log(log_path)[-4000:]
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base_url}/health", timeout=2.0).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"error: no /health answer in {SERVICE_START_TIMEOUT:.0f}s:\n"
                    + service_log(log_path)[-4000:]
                )
            time.sleep(0.2)
        print(f"service: pid {process.pid} on {base_url}, store {database_url}", flush=True)
        yield base_url
        failed = process.poll() is not None  # it died under the benchmark
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if failed:
            print("--- service log (tail) ---\n" + service_log(log_path)[-3000:] + "\n---")

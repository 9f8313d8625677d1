"""The real service in a child process, on a free port of 127.0.0.1, for end-to-end tests.

``ServiceProcess`` runs ``python -m sentoffers serve`` with the test's own interpreter (so no
``uv`` is needed inside the tests), waits for ``GET /health`` to answer 200, and stops the
process with SIGTERM, then SIGKILL after a timeout. Its stdout and stderr go to a log file
whose tail ends up in every failure message. ``create_key`` runs ``sentoffers keys create``
the same way.

Nothing here skips: a service that does not come up raises ``RuntimeError`` with the log tail.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 60.0
START_ATTEMPTS = 3
"""Attempts with a new port each, in case another process takes the free port first."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **(extra or {}), "PYTHONUNBUFFERED": "1"}


@dataclass(frozen=True, slots=True)
class ApiKey:
    app_key: str
    app_token: str


def create_key(database_url: str, account: str | None, role: str = "connector") -> ApiKey:
    """A new API key for ``account`` (none for a platform key), made by the
    ``sentoffers keys create`` command."""
    accounts = ["--account", account] if account is not None else []
    command = [
        sys.executable,
        *("-m", "sentoffers", "keys", "create", *accounts, "--role", role),
        *("--database-url", database_url),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, env=_env(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"`sentoffers keys create` exited {done.returncode}\n"
            f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    return ApiKey(app_key=printed["appKey"], app_token=printed["appToken"])


class ServiceProcess:
    """``sentoffers serve`` on ``database_url``, logging to ``log_path``.

    ``env`` adds to (or overrides) the test process's environment, e.g. ``SENTOFFERS_*``
    settings the command line has no option for.
    """

    def __init__(
        self, database_url: str, log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.env = dict(env or {})
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the service is not started")
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        failures = []
        for _ in range(START_ATTEMPTS):
            try:
                self._start_once(free_port())
            except RuntimeError as error:
                failures.append(str(error))
                self.stop()
                if "address already in use" not in self.log_tail().lower():
                    break
            else:
                return
        raise RuntimeError("\n\n".join(failures))

    def _start_once(self, port: int) -> None:
        self.port = port
        self._log = self.log_path.open("ab")
        command = [
            sys.executable,
            "-m",
            "sentoffers",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--database-url",
            self.database_url,
        ]
        self._log.write(f"$ {' '.join(command)}\n".encode())
        self._log.flush()
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=_env(self.env)
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last_problem = "no answer yet"
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self._process is not None
                code = self._process.poll()
                if code is not None:
                    raise RuntimeError(
                        f"the service exited with code {code} before answering /health\n"
                        f"{self.log_tail()}"
                    )
                try:
                    response = client.get("/health")
                except httpx.TransportError as error:
                    last_problem = repr(error)
                else:
                    if response.status_code == 200:
                        return
                    last_problem = f"/health answered {response.status_code}: {response.text}"
                time.sleep(0.1)
        raise RuntimeError(
            f"the service did not answer GET /health with 200 within {START_TIMEOUT_S:.0f}s "
            f"({last_problem})\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return f"(no service log at {self.log_path})"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last {lines} lines of the service log {self.log_path} ---\n{tail}"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

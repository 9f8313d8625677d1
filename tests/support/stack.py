"""The whole chain as separate processes on loopback: the service, the sandbox, the connector
(its endpoint, and worker processes sharing its PostgreSQL database) and Redis.

Shared by ``benchmarks/initial_load.py`` and ``tests/e2e/test_connector_chaos.py``::

    with Stack(workdir, StackOptions(skus=300)) as stack:
        stack.start_service()
        stack.start_sandbox()
        stack.start_connector()
        stack.trigger_initial_load()
        settled = stack.wait_settled(timeout=60)

Every process runs the interpreter running this module (``python -m sentoffers ...``; no
``uv`` needed inside), in a session of its own (so a signal reaches a process's children,
the worker command's included), its output in ``<name>.log`` under ``workdir``; it is told
to die with this process (``PR_SET_PDEATHSIG``), and ``close()`` stops every one of them,
SIGTERM then SIGKILL to the whole group. A failure raises ``StackError`` with the tail of
every log.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from sentoffers.client import OfferSummary, SentOffersClient, SentOffersCredentials
from tests.support.postgres import PostgresServer, postgres_server_from_env

__all__ = [
    "Process",
    "Settled",
    "Stack",
    "StackError",
    "StackOptions",
    "epoch",
    "free_port",
]

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
PAGE = 100  # the service's largest page
_PR_SET_PDEATHSIG = 1


class StackError(RuntimeError):
    """Something in the chain failed; the message ends with the tail of every log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def epoch(iso: str) -> float:
    """An ISO 8601 date of the service (UTC, ``Z``) as epoch seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _read_proc(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read()
    except OSError:
        return None


def peak_memory_kib(pid: int) -> int | None:
    """``VmHWM`` of a live process (its resident set's high-water mark), in KiB."""
    status = _read_proc(f"/proc/{pid}/status") or ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a live process so far."""
    stat = _read_proc(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU time of a live process's main thread (``main``: the event loop, in the
    connector) and of all its other threads together (``others``)."""
    found = {"main": 0.0, "others": 0.0}
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            stat = _read_proc(f"/proc/{pid}/task/{tid}/stat")
            if stat is None:
                continue
            fields = stat.rpartition(")")[2].split()
            seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            found["main" if int(tid) == pid else "others"] += seconds
    return found


def child_pids(pid: int) -> list[int]:
    """The children of a live process (``/proc/<pid>/task/<pid>/children``)."""
    found = _read_proc(f"/proc/{pid}/task/{pid}/children") or ""
    return [int(child) for child in found.split()]


class Process:
    """A child process in a session of its own, its output appended to ``log_path``."""

    def __init__(
        self, name: str, command: list[str], log_path: Path, env: Mapping[str, str]
    ) -> None:
        self.name, self.command, self.log_path = name, command, log_path
        # uvicorn re-raises the signal that stopped it: SIGINT lets cProfile write its file
        self.stop_signal = signal.SIGTERM
        self.peak_kib: dict[str, int] = {}
        self.cpu: dict[str, float] = {}
        with log_path.open("ab") as log:
            log.write(f"$ {' '.join(command)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env={**env, "PYTHONUNBUFFERED": "1"},
                start_new_session=True, preexec_fn=_die_with_parent,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def members(self) -> dict[str, int]:
        """This process and its children by label: ``worker``, ``worker/1``, ``worker/2``
        (and ``worker/tracker``, multiprocessing's resource tracker)."""
        found = {self.name: self.pid}
        index = 0
        for child in child_pids(self.pid):
            command = _read_proc(f"/proc/{child}/cmdline") or ""
            if "resource_tracker" in command:
                found[f"{self.name}/tracker"] = child
            else:
                index += 1
                found[f"{self.name}/{index}"] = child
        return found

    def measure(self) -> None:
        """Keep the peak memory and CPU time of the process and its children, as now."""
        if not self.alive:
            return
        for label, pid in self.members().items():
            peak, cpu = peak_memory_kib(pid), cpu_seconds(pid)
            if peak is not None:
                self.peak_kib[label] = peak
            if cpu is not None:
                self.cpu[label] = cpu

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL the process and its children, at once, and reap it."""
        self._signal_group(signal.SIGKILL)
        self.popen.wait(STOP_TIMEOUT_S)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Measure, then SIGTERM the group; SIGKILL what is left after ``timeout``."""
        self.measure()
        if self.alive:
            self._signal_group(self.stop_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        # children may outlive their parent: the group goes, whatever is left of it
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        kept = "\n".join(text.splitlines()[-lines:])
        return kept.replace(os.environ.get("HOME", "\0"), "~")


@dataclass(frozen=True, slots=True)
class StackOptions:
    """The sandbox's catalog and marketplace, and the connector's settings."""

    skus: int = 5000
    seed: int = 1
    flaw_rate: float = 0.2
    account: str = "sandbox"
    # The sample marketplace's limits (its defaults) ...
    marketplace_rate_limit: int = 20
    lot_size: int = 50
    failure_rate: float = 0.0
    lost_answer_rate: float = 0.0
    fault_seed: int = 0
    unique_skus: bool = True
    # ... and what the connector is told of them (default: the same).
    connector_requests_per_second: float | None = None
    # Any other SENTOFFERS_CONNECTOR_* setting, by its name without the prefix.
    connector_settings: Mapping[str, str | int | float] = field(default_factory=dict)
    log_level: str = "warning"
    # Run the connector's endpoint under cProfile, writing its stats to this file on exit.
    profile_connector: Path | None = None


@dataclass(frozen=True, slots=True)
class Settled:
    """The chain at rest: the catalog, the offers in the service, the dead letters."""

    catalog: dict[str, list[str]]
    """SKU id -> its flaws, as the sandbox tells them."""
    offers: dict[str, OfferSummary]
    dead_letters: dict[str, dict[str, Any]]
    status: dict[str, Any]
    """The connector's status at the end."""


class Stack:
    """The processes of one run, in ``workdir``; ``close()`` (or ``with``) stops them all."""

    def __init__(self, workdir: Path, options: StackOptions | None = None) -> None:
        self.workdir = workdir
        self.options = options or StackOptions()
        self.processes: dict[str, Process] = {}
        self.stopped: list[Process] = []
        self.service_url = ""
        self.service_db = f"sqlite:///{workdir / 'service.db'}"
        self.connector_db = f"sqlite:///{workdir / 'connector.db'}"
        self.connector_port = free_port()
        self.connector_url = f"http://{HOST}:{self.connector_port}"
        self.admin_token = secrets.token_urlsafe(16)
        self.notification_secret = secrets.token_urlsafe(24)
        self.redis_url: str | None = None
        self.postgres: PostgresServer | None = None
        self.postgres_database = f"connector_{secrets.token_hex(4)}"
        self.sandbox: dict[str, Any] = {}
        self.connector_key: tuple[str, str] = ("", "")
        self.viewer: SentOffersCredentials | None = None
        self._http = httpx.Client(timeout=30.0)

    # Starting ----------------------------------------------------------------------------

    def _spawn(
        self, name: str, command: list[str], env: Mapping[str, str] | None = None
    ) -> Process:
        process = Process(name, command, self.workdir / f"{name.split('/')[0]}.log", {
            **os.environ, **(env or {}),
        })  # fmt: skip
        self.processes[name] = process
        return process

    def _wait(self, what: str, ready: Callable[[], bool], *processes: Process) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for process in processes:
                if not process.alive:
                    raise self.error(f"{process.name} exited with {process.popen.returncode}")
            with contextlib.suppress(httpx.HTTPError, OSError, ValueError):
                if ready():
                    return
            if time.monotonic() > deadline:
                raise self.error(f"{what} was not ready within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.1)

    def _healthy(self, base_url: str) -> Callable[[], bool]:
        return lambda: self._http.get(f"{base_url}/health", timeout=2).status_code == 200

    def start_service(self) -> None:
        """``sentoffers serve`` on a fresh SQLite store, with a connector and a viewer key
        for the account (made through the store before the service starts)."""
        from sentoffers.domain.model import Role
        from sentoffers.server.app import open_database
        from sentoffers.server.features.keys import create_key
        from sentoffers.server.settings import Settings

        db = open_database(Settings(database_url=self.service_db))
        try:
            account = [self.options.account]
            made = create_key(db, Role.CONNECTOR, account, label="connector (stack)")
            seen = create_key(db, Role.VIEWER, account, label="viewer (stack)")
        finally:
            db.dispose()
        self.connector_key = (made.app_key, made.app_token)
        self.viewer = SentOffersCredentials(app_key=seen.app_key, app_token=seen.app_token)
        port = free_port()
        self.service_url = f"http://{HOST}:{port}"
        process = self._spawn("service", [
            sys.executable, "-m", "sentoffers", "serve", "--host", HOST, "--port", str(port),
            "--database-url", self.service_db, "--log-level", self.options.log_level,
        ], {"SENTOFFERS_BACKGROUND_JOBS": "false"})  # fmt: skip
        self._wait("the service", self._healthy(self.service_url), process)

    def start_sandbox(self) -> None:
        """``sentoffers sandbox`` notifying the connector's endpoint (started later)."""
        o = self.options
        process = self._spawn("sandbox", [
            sys.executable, "-m", "sentoffers", "sandbox", "--json", "--seed", str(o.seed),
            "--skus", str(o.skus), "--flaw-rate", str(o.flaw_rate), "--account", o.account,
            "--notify-url",
            f"{self.connector_url}/api/notification/?secret={self.notification_secret}",
            "--rate-limit", str(o.marketplace_rate_limit), "--max-lot-size", str(o.lot_size),
            "--failure-rate", str(o.failure_rate), "--lost-answer-rate", str(o.lost_answer_rate),
            "--fault-seed", str(o.fault_seed), "--host", HOST,
            "--unique-skus" if o.unique_skus else "--no-unique-skus",
        ])  # fmt: skip

        def printed() -> bool:
            for line in process.log_path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    self.sandbox = json.loads(line)
                    return True
            return False

        self._wait("the sandbox", printed, process)

    @property
    def vtex_headers(self) -> dict[str, str]:
        return {
            "X-VTEX-API-AppKey": self.sandbox["appKey"],
            "X-VTEX-API-AppToken": self.sandbox["appToken"],
        }

    @property
    def account_url(self) -> str:
        return f"{self.sandbox['platformUrl']}/{self.options.account}"

    def connector_env(self) -> dict[str, str]:
        """The connector's settings for this sandbox and service, as its variables."""
        o = self.options
        store = {
            "account": o.account, "vtexBaseUrl": self.account_url,
            "appKey": self.sandbox["appKey"], "appToken": self.sandbox["appToken"],
            "affiliateId": self.sandbox["affiliateId"],
            "salesChannel": self.sandbox["salesChannel"],
        }  # fmt: skip
        per_second = o.connector_requests_per_second or o.marketplace_rate_limit
        values: dict[str, Any] = {
            "SERVICE_URL": self.service_url,
            "SERVICE_APP_KEY": self.connector_key[0],
            "SERVICE_APP_TOKEN": self.connector_key[1],
            "DATABASE_URL": self.connector_db,
            "STORES": json.dumps([store]),
            "MARKETPLACE_URL": self.sandbox["marketplaceUrl"],
            "MARKETPLACE_CLIENT_ID": self.sandbox["clientId"],
            "MARKETPLACE_CLIENT_SECRET": self.sandbox["clientSecret"],
            "MARKETPLACE_LOT_SIZE": o.lot_size,
            "ADMIN_TOKEN": self.admin_token,
            "NOTIFICATION_SECRET": self.notification_secret,
            "SWEEP_INTERVAL_SECONDS": 3600,
            **({"MARKETPLACE_REQUESTS_PER_SECOND": per_second} if per_second else {}),
            **({"REDIS_URL": self.redis_url} if self.redis_url else {}),
            **{name.upper(): value for name, value in o.connector_settings.items()},
        }
        return {f"SENTOFFERS_CONNECTOR_{name}": str(value) for name, value in values.items()}

    def start_connector(self, *, workers: bool = True) -> Process:
        """``sentoffers connector`` on its port (again, after a crash: the same database,
        its queues included); ``workers=False``: the endpoint alone (``--no-workers``)."""
        previous = self.processes.pop("connector", None)
        if previous is not None:
            self.stopped.append(previous)
        profile = self.options.profile_connector
        profiled = ["-m", "cProfile", "-o", str(profile)] if profile else []
        command = [
            sys.executable, *profiled, "-m", "sentoffers", "connector", "--host", HOST,
            "--port", str(self.connector_port), "--log-level", self.options.log_level,
        ]  # fmt: skip
        if not workers:
            command.append("--no-workers")
        process = self._spawn("connector", command, self.connector_env())
        if profile:
            process.stop_signal = signal.SIGINT
        self._wait("the connector", self._healthy(self.connector_url), process)
        return process

    def start_workers(self, processes: int = 2) -> Process:
        """``sentoffers connector worker --processes N`` on the connector's PostgreSQL
        database; returns once every worker process has started and gone quiet (imports
        done, queues polled)."""
        assert self.postgres, "start_postgres() first"
        process = self._spawn("worker", [
            sys.executable, "-m", "sentoffers", "connector", "worker",
            "--processes", str(processes), "--database-url", self.connector_db,
            "--log-level", self.options.log_level,
        ], self.connector_env())  # fmt: skip
        last: dict[int, float] = {}

        def quiet() -> bool:
            members = process.members()
            workers = [pid for label, pid in members.items() if label[-1].isdigit()]
            now = {pid: cpu_seconds(pid) or 0.0 for pid in workers or [process.pid]}
            settled = len(now) >= processes and all(
                cpu > 0.5 and abs(cpu - last.get(pid, -1.0)) < 0.05 for pid, cpu in now.items()
            )
            last.clear()
            last.update(now)
            time.sleep(0.3)
            return settled

        self._wait("the worker processes", quiet, process)
        return process

    def start_postgres(self) -> str:
        """A PostgreSQL server (``tests/support/postgres.py``: a private one, or the one
        ``SENTOFFERS_TEST_POSTGRES_URL`` names) with a fresh database for the connector,
        which its endpoint and worker processes share; returns its URL."""
        self.postgres = postgres_server_from_env()
        self.postgres.create_database(self.postgres_database)
        self.connector_db = self.postgres.url(self.postgres_database)
        return self.connector_db

    def start_redis(self) -> str:
        """A private ``redis-server`` (no persistence), where the connector's processes share
        the marketplace's rate limit and circuit breaker."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise StackError("redis-server is not installed (scripts/test installs it)")
        port = free_port()
        (self.workdir / "redis").mkdir(exist_ok=True)
        process = self._spawn("redis", [
            binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", str(self.workdir / "redis"),
        ])  # fmt: skip
        self.redis_url = f"redis://{HOST}:{port}/0"

        def answers() -> bool:
            import redis

            client = redis.Redis.from_url(self.redis_url or "")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False
            finally:
                client.close()

        self._wait("redis-server", answers, process)
        return self.redis_url

    # Driving and reading -----------------------------------------------------------------

    def trigger_initial_load(self, *, wait: bool = False) -> dict[str, Any]:
        """``POST /_sandbox/initial-load`` on the platform: every SKU notified (in the
        background unless ``wait``)."""
        answer = self._http.post(
            f"{self.account_url}/_sandbox/initial-load",
            params={"wait": str(wait).lower()},
            headers=self.vtex_headers,
            timeout=600.0,
        )
        if answer.status_code not in (200, 202):
            raise self.error(f"the initial load answered {answer.status_code}: {answer.text}")
        return dict(answer.json())

    def platform(self, path: str, **params: Any) -> Any:
        """A ``/_sandbox`` GET of the platform (``stats``, ``skus``, ``notifications``)."""
        answer = self._http.get(
            f"{self.account_url}/_sandbox/{path}", params=params, headers=self.vtex_headers
        )
        answer.raise_for_status()
        return answer.json()

    def marketplace(self, method: str, path: str, body: Any = None) -> Any:
        """A ``/_sandbox`` call of the marketplace (``stats``, ``faults``, ``down``...)."""
        url = f"{self.sandbox['marketplaceUrl']}/_sandbox/{path}"
        answer = self._http.request(method, url, json=body)
        answer.raise_for_status()
        return answer.json()

    def connector(self, path: str) -> Any:
        """A GET of the connector's operating routes (``status``, ``dead-letters``)."""
        answer = self._http.get(
            f"{self.connector_url}/api/connector/{path}",
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        answer.raise_for_status()
        return answer.json()

    def catalog(self) -> dict[str, list[str]]:
        """Every SKU of the sandbox's catalog and its flaws."""
        return {str(sku["skuId"]): list(sku["flaws"]) for sku in self.platform("skus")}

    def service_client(self) -> SentOffersClient:
        """An SDK client of the service with the viewer key of the account."""
        return SentOffersClient(self.service_url, credentials=self.viewer)

    def offers(self) -> dict[str, OfferSummary]:
        """Every offer of the account in the service, paging through the offer list."""
        found: dict[str, OfferSummary] = {}
        with self.service_client() as client:
            start = 0
            while True:
                page = client.list_offers(
                    self.options.account, sort="skuId:asc", from_=start, to=start + PAGE - 1
                ).raise_for_errors()
                for offer in page.items:
                    found[offer.sku_id] = offer
                if len(page.items) < PAGE:
                    return found
                start += PAGE

    def dead_letters(self) -> dict[str, dict[str, Any]]:
        return {item["skuId"]: item for item in self.connector("dead-letters")["items"]}

    def wait_settled(
        self, timeout: float, *, progress: Callable[[dict[str, Any]], None] | None = None
    ) -> Settled:
        """Wait until every notification was delivered, the connector's ledger is empty and
        the service has an offer for every SKU that is not a dead letter."""
        catalog = self.catalog()
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        missing: set[str] = set(catalog)
        while time.monotonic() < deadline:
            for process in self.processes.values():
                if not process.alive:
                    raise self.error(f"{process.name} exited with {process.popen.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                sent = self.platform("stats")["notifications"] or {}
                status = self.connector("status")
                if progress is not None:
                    progress(status)
                if sent.get("pending", 1) == 0 and status["pending"] == 0:
                    dead = self.dead_letters()
                    offers = self.offers()
                    missing = set(catalog) - set(offers) - set(dead)
                    if not missing:
                        return Settled(catalog, offers, dead, status)
            time.sleep(0.25)
        raise self.error(
            f"not settled within {timeout:.0f} s: {len(missing)} SKU(s) without an offer or "
            f"a dead letter (e.g. {sorted(missing)[:5]}); connector status "
            f"{json.dumps({k: status.get(k) for k in ('pending', 'running', 'work')})}"
        )

    # Stopping ----------------------------------------------------------------------------

    def measure(self) -> None:
        """Keep every live process's peak memory and CPU time, as now."""
        for process in self.processes.values():
            process.measure()

    def error(self, message: str) -> StackError:
        return StackError(f"{message}\n{self.logs()}")

    def logs(self, lines: int = 30) -> str:
        """The tail of every process's log."""
        parts = []
        for process in [*self.stopped, *self.processes.values()]:
            state = "running" if process.alive else f"exited {process.popen.returncode}"
            parts.append(f"--- {process.name} (pid {process.pid}, {state}) {process.log_path}")
            parts.append(process.tail(lines))
        return "\n".join(parts)

    def close(self) -> None:
        """Stop every process (measured first), the last started first, then PostgreSQL."""
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.stopped.extend(self.processes.values())
        self.processes.clear()
        self._http.close()
        if self.postgres is not None:
            if self.postgres.is_external:
                self.postgres.drop_database(self.postgres_database)
            self.postgres.stop()
            self.postgres = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> None:
        self.close()

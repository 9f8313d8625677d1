"""Throwaway PostgreSQL server for the test suite.

``PostgresServer`` either starts a private PostgreSQL server (``initdb`` + ``pg_ctl``)
in a temporary directory on a free port of 127.0.0.1, or, when the environment
variable ``SENTOFFERS_TEST_POSTGRES_URL`` is set, uses that external server instead.

PostgreSQL refuses to run as root, so when the tests run as root (as CI does) the
server binaries are run as the ``postgres`` user through ``runuser``.

Nothing here skips silently: if the server cannot start, ``RuntimeError`` is raised
with the tail of the server log.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

ENV_VAR = "SENTOFFERS_TEST_POSTGRES_URL"
"""Environment variable naming an external server to use instead of starting one."""

SQLALCHEMY_DRIVER = "postgresql+psycopg"
POSTGRES_OS_USER = "postgres"
DB_SUPERUSER = "postgres"
HOST = "127.0.0.1"
BINARIES = ("initdb", "pg_ctl", "postgres")
START_TIMEOUT_S = 60.0
START_ATTEMPTS = 3


def find_bin_dir() -> Path:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    /usr/local/bin first, then the newest /usr/lib/postgresql/*/bin.
    """
    candidates = [Path("/usr/local/bin")]

    def version_key(path: str) -> int:
        name = Path(path).parent.name
        return int(name) if name.isdigit() else -1

    candidates += [
        Path(p)
        for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)
    ]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in BINARIES):
            return directory
    searched = ", ".join(str(c) for c in candidates)
    raise RuntimeError(
        f"PostgreSQL server binaries ({', '.join(BINARIES)}) not found; searched: {searched}"
    )


def find_runuser() -> str:
    """Path of ``runuser`` (also looked for in the sbin directories, often not on PATH)."""
    found = shutil.which("runuser") or shutil.which(
        "runuser", path=os.pathsep.join(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
    )
    if found is None:
        raise RuntimeError(
            "running as root, but `runuser` (needed to run PostgreSQL as the "
            f"{POSTGRES_OS_USER!r} user) is not available"
        )
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def libpq_url(url: str | URL) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a plain libpq URL."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<could not read {path}: {exc}>"
    return "\n".join(text.splitlines()[-lines:]) or "<empty>"


class PostgresServer:
    """A PostgreSQL server for tests: a private throwaway one, or an external one.

    Use ``start()`` / ``stop()`` (or ``with PostgresServer() as server:``).
    ``url(dbname)`` gives a SQLAlchemy URL; ``create_database`` / ``drop_database``
    manage databases on the server.
    """

    def __init__(self, external_url: str | None = None) -> None:
        self._external: URL | None = None
        if external_url:
            parsed = make_url(external_url)
            if parsed.get_backend_name() != "postgresql":
                raise RuntimeError(f"{ENV_VAR} must be a postgresql URL, got {external_url!r}")
            self._external = parsed.set(drivername=SQLALCHEMY_DRIVER)
        self._tmpdir: Path | None = None
        self._port: int | None = None
        self._started = False
        self._as_postgres_user = False
        self._bin_dir: Path | None = None
        self._runuser: str | None = None

    # -- public API -----------------------------------------------------------

    @property
    def is_external(self) -> bool:
        return self._external is not None

    @property
    def started(self) -> bool:
        return self._started

    @property
    def host(self) -> str:
        if self._external is not None:
            return self._external.host or "localhost"
        return HOST

    @property
    def port(self) -> int:
        if self._external is not None:
            return self._external.port or 5432
        if self._port is None:
            raise RuntimeError("PostgreSQL test server not started")
        return self._port

    @property
    def data_dir(self) -> Path | None:
        """The data directory of a private server (None for an external one)."""
        return None if self._tmpdir is None else self._tmpdir / "data"

    @property
    def log_file(self) -> Path | None:
        """The server log of a private server (None for an external one)."""
        return None if self._tmpdir is None else self._tmpdir / "postgres.log"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of database ``dbname``: ``postgresql+psycopg://...``."""
        if self._external is not None:
            return self._external.set(database=dbname).render_as_string(hide_password=False)
        return f"{SQLALCHEMY_DRIVER}://{DB_SUPERUSER}@{HOST}:{self.port}/{dbname}"

    def libpq_url(self, dbname: str) -> str:
        """The same as ``url`` for plain psycopg / libpq: ``postgresql://...``."""
        return libpq_url(self.url(dbname))

    def start(self) -> Self:
        """Start the server (or check that the external one answers). Idempotent."""
        if self._started:
            return self
        if self._external is not None:
            try:
                self._wait_until_accepting(deadline=time.monotonic() + START_TIMEOUT_S)
            except RuntimeError as exc:
                raise RuntimeError(
                    f"external PostgreSQL server from {ENV_VAR} is not reachable: {exc}"
                ) from exc
            self._started = True
            return self
        atexit.register(self.stop)
        try:
            self._start_private()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        """Stop a private server (``pg_ctl stop -m immediate``) and remove its files.

        Does nothing to an external server. Idempotent.
        """
        self._started = False
        if self._external is not None:
            return
        atexit.unregister(self.stop)
        tmpdir, self._tmpdir = self._tmpdir, None
        if tmpdir is None:
            return
        data_dir = tmpdir / "data"
        if (data_dir / "postmaster.pid").exists():
            self._run(
                [self._bin("pg_ctl"), "stop", "-D", str(data_dir), "-m", "immediate", "-w"],
                check=False,
                cwd=tmpdir,
            )
        shutil.rmtree(tmpdir, ignore_errors=True)

    def create_database(self, name: str) -> None:
        """``CREATE DATABASE name`` (UTF8, template0)."""
        self._admin_execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name WITH (FORCE)``: also ends open sessions."""
        self._admin_execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        kind = "external" if self.is_external else "private"
        state = "started" if self._started else "stopped"
        where = f"{self.host}:{self._port if self._port else '?'}"
        if self.is_external:
            where = f"{self.host}:{self.port}"
        return f"<PostgresServer {kind} {state} {where}>"

    # -- internals ------------------------------------------------------------

    def _admin_dbname(self) -> str:
        if self._external is not None and self._external.database:
            return self._external.database
        return "postgres"

    def _admin_execute(self, statement: sql.Composed) -> None:
        if not self._started:
            raise RuntimeError("PostgreSQL test server not started")
        with psycopg.connect(self.libpq_url(self._admin_dbname()), autocommit=True) as conn:
            conn.execute(statement)

    def _bin(self, name: str) -> str:
        if self._bin_dir is None:
            self._bin_dir = find_bin_dir()
        return str(self._bin_dir / name)

    def _run(
        self, args: list[str], *, check: bool = True, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        if self._as_postgres_user:
            args = [self._runuser or find_runuser(), "-u", POSTGRES_OS_USER, "--", *args]
        result = subprocess.run(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"command failed with exit code {result.returncode}: {' '.join(args)}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def _prepare_tmpdir(self) -> Path:
        self._as_postgres_user = os.geteuid() == 0
        tmpdir = Path(tempfile.mkdtemp(prefix="sentoffers-pg-"))
        self._tmpdir = tmpdir
        for sub in ("data", "sock"):
            (tmpdir / sub).mkdir(mode=0o700)
        if self._as_postgres_user:
            try:
                pw = pwd.getpwnam(POSTGRES_OS_USER)
            except KeyError as exc:
                raise RuntimeError(
                    f"running as root, but there is no {POSTGRES_OS_USER!r} user to run "
                    "PostgreSQL as (PostgreSQL refuses to run as root)"
                ) from exc
            self._runuser = find_runuser()
            # Every parent of the data directory must be traversable by postgres.
            for parent in tmpdir.parents:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    raise RuntimeError(
                        f"{parent} is not traversable by the {POSTGRES_OS_USER} user; "
                        "set TMPDIR to a world-traversable directory"
                    )
            for path in (tmpdir, tmpdir / "data", tmpdir / "sock"):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        tmpdir.chmod(0o755)
        return tmpdir

    def _start_private(self) -> None:
        for name in BINARIES:
            self._bin(name)
        tmpdir = self._prepare_tmpdir()
        data_dir = tmpdir / "data"
        sock_dir = tmpdir / "sock"
        log_file = tmpdir / "postgres.log"
        self._run(
            [
                self._bin("initdb"),
                "-D",
                str(data_dir),
                "-A",
                "trust",
                "-U",
                DB_SUPERUSER,
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            cwd=tmpdir,
        )
        last_error = ""
        for _attempt in range(START_ATTEMPTS):
            self._port = free_port()
            options = (
                f"-p {self._port} -k {sock_dir} -h {HOST} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            result = self._run(
                [
                    self._bin("pg_ctl"),
                    "-w",
                    "-t",
                    str(int(START_TIMEOUT_S)),
                    "-D",
                    str(data_dir),
                    "-o",
                    options,
                    "-l",
                    str(log_file),
                    "start",
                ],
                check=False,
                cwd=tmpdir,
            )
            if result.returncode == 0:
                self._wait_until_accepting(deadline=time.monotonic() + START_TIMEOUT_S)
                return
            last_error = (
                f"pg_ctl start failed with exit code {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
                f"server log ({log_file}) tail:\n{_tail(log_file)}"
            )
            # Another process may have taken the port between probing and binding.
            if "could not bind" not in _tail(log_file) and "in use" not in _tail(log_file):
                break
        raise RuntimeError(f"could not start the PostgreSQL test server: {last_error}")

    def _wait_until_accepting(self, *, deadline: float) -> None:
        dsn = self.libpq_url(self._admin_dbname())
        last_exc: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
                    conn.execute("select 1")
                return
            except psycopg.OperationalError as exc:
                last_exc = exc
                time.sleep(0.1)
        message = f"server at {self.host}:{self.port} did not accept connections: {last_exc}"
        if self.log_file is not None:
            message += f"\nserver log ({self.log_file}) tail:\n{_tail(self.log_file)}"
        raise RuntimeError(message)


def postgres_server_from_env() -> PostgresServer:
    """A started server: the external one named by ``SENTOFFERS_TEST_POSTGRES_URL``,
    or else a private throwaway one. The caller must ``stop()`` it."""
    server = PostgresServer(external_url=os.environ.get(ENV_VAR) or None)
    return server.start()

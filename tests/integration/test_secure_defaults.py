"""A fresh install is safe: its own secret, bounded tokens, Secure cookies over HTTPS.

"A default install" here is what `sentoffers serve` runs with no SENTOFFERS_* variable set:
environment development, no secret configured, a SQLite store in its data directory.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from typer.testing import CliRunner
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sentoffers import cli
from sentoffers.domain.model import Role
from sentoffers.server.app import create_app
from sentoffers.server.features.keys import TOKEN_SALT, NewKey, create_key
from sentoffers.server.secret import SECRET_FILE, load_or_create_secret, with_secret
from sentoffers.server.settings import DEVELOPMENT_SECRET, Settings, warn_insecure_settings
from sentoffers.server.web.api.deps import parts_of
from sentoffers.server.web.ui.csrf import CSRF_COOKIE
from sentoffers.server.web.ui.session import SESSION_COOKIE, SESSION_SALT
from sentoffers.sql.db import Database, create_db_engine
from tests.e2e.service_process import HOST, free_port

ACCOUNT = "acme"
FEEDS = "/api/sent-offers/feeds"


@pytest.fixture(autouse=True)
def default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SENTOFFERS_* variable: the settings a fresh install reads."""
    for name in [n for n in os.environ if n.startswith("SENTOFFERS_")]:
        monkeypatch.delenv(name)


@dataclass
class Install:
    """A store in a data directory, and apps built on it as `serve` builds them."""

    directory: Path
    db: Database
    stack: ExitStack

    @property
    def settings(self) -> Settings:
        url = f"sqlite:///{self.directory / 'sentoffers.db'}"
        return Settings(database_url=url, background_jobs=False)

    def client(self, *, https: bool = False, **settings: Any) -> TestClient:
        app = create_app(self.settings.model_copy(update=settings), self.db)
        base_url = "https://testserver" if https else "http://testserver"
        return self.stack.enter_context(TestClient(app, base_url=base_url))

    def key(self) -> NewKey:
        return create_key(self.db, Role.VIEWER, [ACCOUNT])


@pytest.fixture
def installs(sqlite_template: Path, tmp_path: Path) -> Iterator[Callable[[str], Install]]:
    """Fresh installs, each in a data directory of its own under ``tmp_path``."""
    with ExitStack() as stack:

        def install(name: str) -> Install:
            directory = tmp_path / name
            directory.mkdir()
            shutil.copyfile(sqlite_template, directory / "sentoffers.db")
            db = Database(create_db_engine(f"sqlite:///{directory / 'sentoffers.db'}"))
            stack.callback(db.dispose)
            return Install(directory, db, stack)

        yield install


@pytest.fixture
def install(installs: Callable[[str], Install]) -> Install:
    return installs("data")


def login(client: TestClient, key: NewKey) -> str:
    response = client.post(
        "/api/vtexid/apptoken/login", json={"appkey": key.app_key, "apptoken": key.app_token}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def feeds_with_token(client: TestClient, token: str) -> httpx.Response:
    return client.get(FEEDS, params={"an": ACCOUNT}, headers={"VtexIdclientAutCookie": token})


def sign_in(client: TestClient, key: NewKey) -> httpx.Response:
    client.get("/signin")
    return client.post(
        "/signin",
        data={
            "account": ACCOUNT,
            "app_key": key.app_key,
            "app_token": key.app_token,
            "csrf_token": client.cookies[CSRF_COOKIE],
        },
        follow_redirects=False,
    )


def offers_page_with_session(client: TestClient, session: str) -> int:
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, session)
    return client.get("/offers", follow_redirects=False).status_code


def cookies_of(response: httpx.Response) -> dict[str, set[str]]:
    """Each cookie the response sets, by name, with its attributes in lower case."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name] = {part.strip().lower().split("=")[0] for part in rest.split(";")[1:]}
    return found


def keep_logging(*_: object, **__: object) -> None:
    """Instead of `serve`'s logging set-up, which would take the root logger from caplog."""


def never_run(*_: object, **__: object) -> None:
    pytest.fail("the service started")


def old_style_token(secret: str, app_key: str, expires: int) -> str:
    """A token as the service signed them by hand before: base64 JSON, HMAC-SHA256."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = b64(json.dumps({"k": app_key, "exp": expires}).encode())
    signature = b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{signature}"


# The published secret signs nothing ------------------------------------------------------


def test_a_default_install_refuses_tokens_signed_with_the_published_secret(
    install: Install,
) -> None:
    key = install.key()
    client = install.client()
    assert feeds_with_token(client, login(client, key)).status_code == 200
    expires = int(time.time()) + 3600
    claims = {"k": key.app_key, "exp": expires}
    for forged in (
        old_style_token(DEVELOPMENT_SECRET, key.app_key, expires),
        URLSafeSerializer(DEVELOPMENT_SECRET, salt=TOKEN_SALT).dumps(claims),
    ):
        assert feeds_with_token(client, forged).status_code == 401, forged


def test_a_default_install_refuses_sessions_signed_with_the_published_secret(
    install: Install,
) -> None:
    key = install.key()
    client = install.client()
    assert sign_in(client, key).status_code == 303
    assert offers_page_with_session(client, client.cookies[SESSION_COOKIE]) == 200
    forged = URLSafeTimedSerializer(DEVELOPMENT_SECRET, salt=SESSION_SALT).dumps(
        {"k": key.app_key, "a": ACCOUNT}
    )
    assert offers_page_with_session(client, forged) == 303


def test_the_published_secret_configured_stops_the_start(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("uvicorn.run", never_run)
    monkeypatch.setattr(cli, "configure_logging", keep_logging)
    for environment in ("development", "production"):
        result = CliRunner().invoke(
            cli.app,
            ["serve", "--database-url", install.settings.database_url],
            env={
                "SENTOFFERS_SECRET_KEY": DEVELOPMENT_SECRET,
                "SENTOFFERS_ENVIRONMENT": environment,
            },
        )
        # One line saying what to do, not a traceback.
        assert result.exit_code == 2
        assert result.output.startswith(
            "error: SENTOFFERS_SECRET_KEY is the published development secret"
        )
        assert "Traceback" not in result.output
    assert not (install.directory / SECRET_FILE).exists()


# Token lifetimes ----------------------------------------------------------------------------


def test_a_correctly_signed_token_expiring_too_far_ahead_is_refused(install: Install) -> None:
    secret = "a-configured-secret-" + "x" * 40
    key = install.key()
    client = install.client(secret_key=secret)
    signer = URLSafeSerializer(secret, salt=TOKEN_SALT)
    now = int(time.time())

    def token(expires: int) -> str:
        return signer.dumps({"k": key.app_key, "exp": expires})

    assert feeds_with_token(client, token(now + 600)).status_code == 200
    for years in (1, 10):
        far = feeds_with_token(client, token(now + years * 365 * 86400))
        assert far.status_code == 401, years
    assert feeds_with_token(client, token(now + 86400 + 120)).status_code == 401
    expired = feeds_with_token(client, token(now - 5))
    assert (expired.status_code, expired.json()["errors"][0]["code"]) == (401, "token_expired")


def test_a_token_is_issued_for_an_hour_and_never_beyond_the_maximum(install: Install) -> None:
    key = install.key()
    client = install.client(token_max_seconds=600)
    response = client.post(
        "/api/vtexid/apptoken/login", json={"appkey": key.app_key, "apptoken": key.app_token}
    )
    assert response.json()["expires"] <= time.time() + 600
    authenticator = parts_of(client.app).authenticator  # type: ignore[arg-type]
    principal = authenticator.authenticate(key.app_key, key.app_token)
    _, expires = authenticator.issue_token(principal, ttl_seconds=10 * 365 * 86400)
    assert expires <= time.time() + 600
    default = install.client()
    assert (
        default.post(
            "/api/vtexid/apptoken/login", json={"appkey": key.app_key, "apptoken": key.app_token}
        ).json()["expires"]
        <= time.time() + 3600
    )


# The generated secret -----------------------------------------------------------------------


def test_the_generated_secret_outlives_a_restart_and_is_the_data_dir_s_own(
    installs: Callable[[str], Install],
) -> None:
    first = installs("first")
    key = first.key()
    before = first.client()
    token = login(before, key)
    assert sign_in(before, key).status_code == 303
    session = before.cookies[SESSION_COOKIE]
    secret = (first.directory / SECRET_FILE).read_text().strip()

    restarted = first.client()
    assert feeds_with_token(restarted, token).status_code == 200
    assert offers_page_with_session(restarted, session) == 200
    assert (first.directory / SECRET_FILE).read_text().strip() == secret

    other = installs("other")
    create_key(other.db, Role.VIEWER, [ACCOUNT])  # any key: the token names first's
    elsewhere = other.client()
    assert (other.directory / SECRET_FILE).read_text().strip() != secret
    assert feeds_with_token(elsewhere, token).status_code == 401
    assert offers_page_with_session(elsewhere, session) == 303


def test_the_secret_file_is_readable_by_its_owner_only(install: Install) -> None:
    install.client()
    path = install.directory / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert len(secret) >= 48
    assert secret != DEVELOPMENT_SECRET


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "new" / SECRET_FILE
    start = threading.Barrier(8)
    found: list[str] = []

    def starting() -> None:
        start.wait()
        found.append(load_or_create_secret(path))

    threads = [threading.Thread(target=starting) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8
    assert found == [path.read_text().strip()] * 8


def test_a_store_that_is_not_a_file_keeps_its_secret_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(
        database_url="postgresql+psycopg://so@db.internal/sentoffers", data_dir=str(tmp_path)
    )
    secret = with_secret(settings).secret_key
    assert secret == (tmp_path / SECRET_FILE).read_text().strip()
    assert with_secret(settings).secret_key == secret


def test_a_secret_file_being_written_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    path.touch(mode=0o600)  # made by another process, which writes it a moment later
    secret = "w" * 48
    writer = threading.Timer(0.3, path.write_text, args=(secret,))
    writer.start()
    try:
        assert load_or_create_secret(path) == secret
    finally:
        writer.join()


def test_a_published_short_or_abandoned_empty_secret_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE
    for written in (DEVELOPMENT_SECRET, "short", ""):
        path.write_text(written)
        os.utime(path, (time.time() - 60, time.time() - 60))
        with pytest.raises(RuntimeError, match="delete the file"):
            load_or_create_secret(path)


# Secure cookies over HTTPS --------------------------------------------------------------------


def test_cookies_are_secure_on_requests_that_came_over_https(install: Install) -> None:
    key = install.key()
    client = install.client(https=True)
    assert "secure" in cookies_of(client.get("/signin"))[CSRF_COOKIE]
    signed = sign_in(client, key)
    assert "secure" in cookies_of(signed)[SESSION_COOKIE]
    token = client.cookies[CSRF_COOKIE]
    signed_out = client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert "secure" in cookies_of(signed_out)[SESSION_COOKIE]

    plain = install.client()
    assert "secure" not in cookies_of(plain.get("/signin"))[CSRF_COOKIE]
    assert "secure" in cookies_of(install.client(ui_secure_cookie=True).get("/signin"))[CSRF_COOKIE]


def test_a_trusted_proxy_s_forwarded_proto_makes_cookies_secure(install: Install) -> None:
    app = create_app(install.settings, install.db)
    for trusted, secure in (("testclient", True), ("192.0.2.1", False)):
        proxied: Any = ProxyHeadersMiddleware(app, trusted_hosts=trusted)
        with TestClient(proxied) as client:  # the test client's address is "testclient"
            response = client.get("/signin", headers={"X-Forwarded-Proto": "https"})
        assert ("secure" in cookies_of(response)[CSRF_COOKIE]) is secure, trusted


# Start-up -----------------------------------------------------------------------------------


def test_the_start_warns_of_what_is_left_in_development(
    install: Install, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sentoffers"):
        warn_insecure_settings(install.settings, "0.0.0.0")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("SENTOFFERS_ENVIRONMENT is development" in w for w in warnings), warnings
    assert any("SENTOFFERS_UI_SECURE_COOKIE is off" in w for w in warnings), warnings


@pytest.mark.parametrize(
    ("environment", "host", "key_printed"),
    [
        ("development", "127.0.0.1", True),
        ("development", "0.0.0.0", False),
        ("production", "127.0.0.1", False),
    ],
)
def test_an_admin_key_is_printed_at_the_first_run_only_in_development_on_loopback(
    install: Install,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    environment: str,
    host: str,
    key_printed: bool,
) -> None:
    ran: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **options: ran.update(options, app=app))
    monkeypatch.setattr(cli, "configure_logging", keep_logging)
    with caplog.at_level(logging.WARNING, logger="sentoffers"):
        result = CliRunner().invoke(
            cli.app,
            ["serve", "--host", host, "--database-url", install.settings.database_url],
            env={"SENTOFFERS_ENVIRONMENT": environment, "SENTOFFERS_BACKGROUND_JOBS": "false"},
        )
    assert result.exit_code == 0, result.output
    assert ("X-VTEX-API-AppToken" in result.output) is key_printed
    if not key_printed:
        assert "sentoffers keys create --role admin --account" in result.output
    assert ran["proxy_headers"] is True
    assert ran["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert isinstance(ran["app"], FastAPI)
    warned = "SENTOFFERS_ENVIRONMENT is development" in caplog.text
    assert warned is (environment == "development")


@contextmanager
def serving(install: Install, *options: str) -> Iterator[str]:
    """``sentoffers serve`` in a child process with ``options``; its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "sentoffers", "serve", "--host", HOST, "--port", str(port),
        "--database-url", install.settings.database_url, *options,
    ]  # fmt: skip
    log_path = install.directory / "service.log"
    env = {**os.environ, "SENTOFFERS_BACKGROUND_JOBS": "false", "PYTHONUNBUFFERED": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.e2e
def test_serve_trusts_x_forwarded_proto_from_the_proxies_it_is_told(install: Install) -> None:
    https = {"X-Forwarded-Proto": "https"}
    # Both addresses are this machine's; only the first is the proxy.
    with (
        serving(install, "--forwarded-allow-ips", "127.0.0.1") as base_url,
        httpx.Client(base_url=base_url) as proxy,
        httpx.Client(
            base_url=base_url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
        ) as stranger,
    ):
        assert "secure" in cookies_of(proxy.get("/signin", headers=https))[CSRF_COOKIE]
        assert "secure" not in cookies_of(proxy.get("/signin"))[CSRF_COOKIE]
        assert "secure" not in cookies_of(stranger.get("/signin", headers=https))[CSRF_COOKIE]
    log = (install.directory / "service.log").read_text()
    assert "SENTOFFERS_ENVIRONMENT is development" in log
    assert stat.S_IMODE((install.directory / SECRET_FILE).stat().st_mode) == 0o600

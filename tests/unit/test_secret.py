"""The signing secret and the start-up checks, without a store or a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from sentoffers.server.secret import data_dir, signing_secret, with_secret
from sentoffers.server.settings import DEVELOPMENT_SECRET, Settings, insecure_settings, is_loopback

SECRET = "s" * 48


@pytest.fixture(autouse=True)
def default_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings as a fresh install reads them: no SENTOFFERS_* variable set."""
    for name in [n for n in os.environ if n.startswith("SENTOFFERS_")]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize("environment", ["development", "production", "test"])
def test_the_published_secret_is_refused_in_every_environment(environment: str) -> None:
    with pytest.raises(ValidationError, match="published development secret"):
        Settings(secret_key=DEVELOPMENT_SECRET, environment=environment)  # type: ignore[arg-type]


def test_the_published_secret_is_refused_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENTOFFERS_SECRET_KEY", DEVELOPMENT_SECRET)
    with pytest.raises(ValidationError, match="SENTOFFERS_SECRET_KEY is the published"):
        Settings()


def test_a_short_secret_is_refused_and_a_blank_one_is_no_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(secret_key="too-short")
    assert Settings(secret_key="  ").secret_key is None
    assert Settings().secret_key is None


def test_lifetimes_are_bounded_to_a_week() -> None:
    with pytest.raises(ValidationError, match="token_max_seconds"):
        Settings(token_max_seconds=8 * 86400)
    with pytest.raises(ValidationError, match="ui_session_hours"):
        Settings(ui_session_hours=24 * 365)
    assert Settings().token_max_seconds == 86400
    assert Settings().ui_session_hours <= 7 * 24


def test_the_secret_is_kept_beside_a_sqlite_store_else_in_the_data_dir() -> None:
    assert data_dir(Settings()) == Path("data")
    assert data_dir(Settings(database_url="sqlite:////srv/so/store.db")) == Path("/srv/so")
    assert data_dir(Settings(database_url="sqlite:///rel/store.db")) == Path("rel")
    for elsewhere in ("postgresql+psycopg://u:p@db/so", "sqlite://", "sqlite:///:memory:"):
        settings = Settings(database_url=elsewhere, data_dir="/var/lib/so")
        assert data_dir(settings) == Path("/var/lib/so"), elsewhere


def test_a_configured_secret_is_used_as_it_is() -> None:
    settings = Settings(secret_key=SECRET)
    assert with_secret(settings) is settings
    assert signing_secret(settings) == SECRET


def test_tests_get_a_random_secret_in_memory(tmp_path: Path) -> None:
    settings = Settings(environment="test", database_url=f"sqlite:///{tmp_path}/x.db")
    first, second = signing_secret(with_secret(settings)), signing_secret(with_secret(settings))
    assert first != second
    assert len(first) >= 32
    assert list(tmp_path.iterdir()) == []


def test_an_unresolved_secret_signs_nothing() -> None:
    with pytest.raises(RuntimeError, match="resolved"):
        signing_secret(Settings())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_default_install_on_every_interface_is_warned_of_environment_and_cookies() -> None:
    warnings = insecure_settings(Settings(), "0.0.0.0")
    assert len(warnings) == 2
    assert "SENTOFFERS_ENVIRONMENT is development" in warnings[0]
    assert "SENTOFFERS_UI_SECURE_COOKIE is off" in warnings[1]


def test_a_production_install_is_not_warned() -> None:
    assert insecure_settings(Settings(environment="production"), "127.0.0.1") == []
    secure = Settings(environment="production", ui_secure_cookie=True)
    assert insecure_settings(secure, "0.0.0.0") == []


def test_public_metrics_and_a_proxy_trusted_from_anywhere_are_warned() -> None:
    settings = Settings(
        environment="production",
        ui_secure_cookie=True,
        metrics_public=True,
        forwarded_allow_ips="*",
    )
    warnings = insecure_settings(settings, "0.0.0.0")
    assert [w.split(" ")[0] for w in warnings] == [
        "SENTOFFERS_METRICS_PUBLIC",
        "SENTOFFERS_FORWARDED_ALLOW_IPS",
    ]
    # On loopback only the scraper on this machine reaches /metrics.
    assert len(insecure_settings(settings, "127.0.0.1")) == 1

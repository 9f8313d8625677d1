"""End-to-end fixtures: the real service in its own process, and the node tools that test it."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentoffers.client import SentOffersCredentials
from tests.e2e.client_flows import KINDS, Sdk
from tests.e2e.service_process import ServiceProcess, create_key

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


def serving(directory: Path) -> Iterator[ServiceProcess]:
    """``sentoffers serve`` on a fresh SQLite database in ``directory``, answering /health."""
    process = ServiceProcess(
        database_url=f"sqlite:///{directory / 'sentoffers.db'}",
        log_path=directory / "service.log",
    )
    try:
        process.start()
    except RuntimeError as error:
        pytest.fail(f"the service did not start:\n{error}")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ServiceProcess]:
    """``sentoffers serve`` on a fresh SQLite database, answering /health."""
    yield from serving(tmp_path)


@pytest.fixture(scope="session")
def shared_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One ``sentoffers serve`` for the SDK tests; each test works in an account of its own."""
    yield from serving(tmp_path_factory.mktemp("shared-service"))


@pytest.fixture(scope="session")
def admin_credentials(shared_service: ServiceProcess) -> SentOffersCredentials:
    """An admin key of ``shared_service`` for every account."""
    key = create_key(shared_service.database_url, "*", role="admin")
    return SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)


@pytest.fixture(scope="session")
def platform_credentials(shared_service: ServiceProcess) -> SentOffersCredentials:
    """A platform key of ``shared_service``: the global error codes and channels."""
    key = create_key(shared_service.database_url, None, role="platform")
    return SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)


_accounts = itertools.count(1)


@pytest.fixture
def account() -> str:
    """An account name no other test of the session uses."""
    return f"acct{next(_accounts)}"


@pytest.fixture(params=KINDS)
def sdk(
    request: pytest.FixtureRequest,
    shared_service: ServiceProcess,
    admin_credentials: SentOffersCredentials,
) -> Iterator[Sdk]:
    """An admin client of each kind (sync and async) on ``shared_service``."""
    with Sdk.open(request.param, shared_service.base_url, admin_credentials) as opened:
        yield opened

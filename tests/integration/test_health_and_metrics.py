"""Health probes (live, ready) and the Prometheus metrics, on a real store."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from sentoffers.domain.model import Role
from sentoffers.server.app import create_app
from sentoffers.server.features.keys import create_key
from sentoffers.server.settings import Settings
from sentoffers.server.store.migrate import MIGRATIONS_DIR
from sentoffers.sql.db import Database
from tests.integration.conftest import ACCOUNT, Api, report
from tests.support.outage import StoreOutage
from tests.support.postgres import PostgresServer

TOKEN = "metrics-token-for-the-tests"


@pytest.fixture
def outage(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[StoreOutage]:
    server = (
        None if database_url.startswith("sqlite") else request.getfixturevalue("postgres_server")
    )
    with StoreOutage.of(database_url, tmp_path / "volume", server) as store:
        yield store


def _settings(url: str, **values: Any) -> Settings:
    return Settings(database_url=url, background_jobs=False, environment="test", **values)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Each sample's value by its name and labels."""


def _metrics(client: TestClient) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(metrics: Samples, name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


# Health --------------------------------------------------------------------------------------


def test_live_and_ready_answer_ok_on_a_migrated_store(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}
    assert client.get("/health").json() == ready.json()  # /health means ready


def test_probes_in_a_burst_all_answer_ok(client: TestClient) -> None:
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: client.get("/health/ready").status_code, range(64)))
    assert set(statuses) == {200}


def test_ready_answers_503_while_the_store_is_away_and_live_stays_200(
    outage: StoreOutage,
) -> None:
    with TestClient(create_app(_settings(outage.url), outage.db)) as client:
        assert client.get("/health/ready").status_code == 200
        outage.take_away()
        for path in ("/health/ready", "/health"):
            ready = client.get(path)
            assert ready.status_code == 503, ready.text
            assert ready.headers["retry-after"] == "5"
            body = ready.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"].startswith("unavailable: ")
        assert client.get("/health/live").status_code == 200
        outage.give_back()
        assert client.get("/health/ready").status_code == 200


def _down_revision() -> str:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    (head,) = scripts.get_heads()
    down = scripts.get_revision(head).down_revision
    assert isinstance(down, str)
    return down


def _set_store_revision(db: Database, revision: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_ready_answers_503_while_the_stores_migrations_are_behind(
    client: TestClient, db: Database
) -> None:
    _set_store_revision(db, _down_revision())
    ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"].startswith("behind: ")
    assert "sentoffers db upgrade" in checks["migrations"]
    assert client.get("/health/live").status_code == 200


def test_ready_answers_503_when_a_newer_release_migrated_the_store(
    client: TestClient, db: Database
) -> None:
    _set_store_revision(db, "9999_from_the_future")
    checks = client.get("/health/ready").json()["checks"]
    assert checks["migrations"].startswith("unknown: ")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_ready_answers_503_when_the_store_does_not_answer_in_time(
    database_url: str, db: Database, postgres_server: PostgresServer
) -> None:
    settings = _settings(database_url, ready_timeout_seconds=0.3)
    name = database_url.rsplit("/", 1)[1]
    with TestClient(create_app(settings, db)) as client:
        assert client.get("/health/ready").status_code == 200
        with psycopg.connect(postgres_server.libpq_url(name)) as blocker:
            blocker.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
            slow = client.get("/health/ready")
            waiting = client.get("/health/ready")  # the first check still holds its query
            assert client.get("/health/live").status_code == 200
        assert slow.status_code == 503
        assert slow.json()["checks"]["database"] == "no answer within 0.3s"
        assert waiting.status_code == 503
        assert "still waiting" in waiting.json()["checks"]["database"]
        _eventually(lambda: client.get("/health/ready").status_code == 200)


def _eventually(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


# Metrics -------------------------------------------------------------------------------------


def test_metrics_are_closed_unless_a_token_or_public_is_set(
    settings: Settings, db: Database
) -> None:
    with TestClient(create_app(settings, db)) as closed:
        refused = closed.get("/metrics")
    assert refused.status_code == 403
    assert "SENTOFFERS_METRICS_TOKEN" in refused.json()["errors"][0]["message"]

    with TestClient(create_app(_settings(settings.database_url, metrics_token=TOKEN), db)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200

    with TestClient(create_app(_settings(settings.database_url, metrics_public=True), db)) as c:
        assert c.get("/metrics").status_code == 200


@pytest.fixture
def metered(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(settings.database_url, metrics_token=TOKEN), db)) as c:
        yield c


@pytest.fixture
def api(metered: TestClient, db: Database) -> Api:
    key = create_key(db, Role.CONNECTOR, [ACCOUNT])
    return Api(metered, key.app_key, key.app_token, ACCOUNT)


def test_metrics_count_requests_by_route_template_and_status(metered: TestClient, api: Api) -> None:
    template = "/api/sent-offers/feeds/{feedId}"
    before = _metrics(metered)
    assert api.get("/feeds/vtex.first").status_code == 404
    assert api.get("/feeds/vtex.second").status_code == 404
    assert (
        metered.get("/api/sent-offers/feeds/vtex.third", params={"an": ACCOUNT}).status_code == 401
    )
    after = _metrics(metered)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    requests = "sentoffers_http_requests_total"
    assert delta(requests, method="GET", route=template, status="404") == 2
    assert delta(requests, method="GET", route=template, status="401") == 1  # before routing
    assert not any("vtex.first" in str(labels) for _, labels in after)
    durations = "sentoffers_http_request_duration_seconds"
    assert delta(f"{durations}_count", method="GET", route=template) == 3
    bounds = {
        dict(labels)["le"]
        for name, labels in after
        if name == f"{durations}_bucket" and ("route", template) in labels
    }
    assert "+Inf" in bounds
    assert len(bounds) > 5


def test_metrics_show_the_group_commit_batch_sizes_of_unified_writes(
    metered: TestClient, api: Api
) -> None:
    assert api.channel().status_code == 201
    assert api.activate().status_code == 201
    before = _metrics(metered)
    for sku in ("S1", "S2", "S3"):
        report(api, sku)
    after = _metrics(metered)
    what = {"what": "unified calls"}
    size = "sentoffers_group_commit_batch_size"
    assert _value(after, f"{size}_count", **what) - _value(before, f"{size}_count", **what) == 3
    assert _value(after, f"{size}_sum", **what) - _value(before, f"{size}_sum", **what) == 3
    assert _value(after, f"{size}_bucket", le="1.0", **what) >= 3


def test_metrics_count_background_job_runs_and_failures(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentoffers.server import jobs

    def failing_sweep(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the sweep fell over")

    monkeypatch.setattr(jobs, "close_idle_interactions", failing_sweep)
    values = {"metrics_token": TOKEN, "idle_sweep_seconds": 0.05, "background_jobs": True}
    task = {"task": "idle-interaction sweep"}
    app = create_app(Settings(database_url=settings.database_url, environment="test", **values), db)
    with TestClient(app) as client:
        before = _metrics(client)
        _eventually(
            lambda: (
                _value(_metrics(client), "sentoffers_job_failures_total", **task)
                >= _value(before, "sentoffers_job_failures_total", **task) + 2
            )
        )
        after = _metrics(client)
    runs = _value(after, "sentoffers_job_runs_total", **task)
    assert runs >= _value(before, "sentoffers_job_runs_total", **task) + 2
    assert _value(after, "sentoffers_job_duration_seconds_count", **task) >= 2

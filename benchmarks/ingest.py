"""Ingest benchmark: how fast a RUNNING sentoffers service takes in connector traffic.

One run prints, over HTTP on loopback:

1. no-op ``GET /health/live`` requests/s (the ceiling of the HTTP stack plus this client);
2. unified-contract requests/s (``POST .../skus/{skuId}/interactions/unified``), every
   response checked to be 201;
3. logs/s through the batch endpoint (``POST .../interactions/unified/batch``), batches of
   1000 items from a few concurrent clients, counting only succeeded items;
4. next to (3), raw inserts/s of the same rows written straight into the same database
   with SQLAlchemy Core ``executemany`` (transactions of 1000 items, separate account,
   deleted afterwards);

then the ratios the targets refer to (unified / no-op >= 40 %, batch / raw >= 30 %),
p50/p95/p99 latencies of (1) and (2), and one JSON line with every figure.

Usage (see benchmarks/README.md)::

    uv run python benchmarks/ingest.py --start-service --duration 5
    uv run python benchmarks/ingest.py --base-url http://127.0.0.1:8000 \\
        --database-url sqlite:///data/sentoffers.db
    uv run python benchmarks/ingest.py --app-key K --app-token T   # no raw phase

This is a script, not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _service import ROOT, require_loopback, started_service

if str(ROOT) not in sys.path:  # run as a file from anywhere, the package still imports
    sys.path.insert(0, str(ROOT))

CHANNEL = {"vendor": "benchmark", "name": "ingest", "logo": "https://example.com/bench.png"}
FEED_ID = "benchmark.ingest"  # the id the service derives from vendor + name
WARMUP_SECONDS = 1.0
HTTP_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
# The tables one unified item can write to; the raw account is cleaned in all of them.
ACCOUNT_TABLES = (
    "offers",
    "interactions",
    "logs",
    "offer_status_history",
    "error_occurrences",
    "unmapped_errors",
)


# --------------------------------------------------------------------------- workload


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Workload:
    """Realistic unified bodies over a pool of SKUs, some of them failure logs."""

    def __init__(self, skus: int, failure_ratio: float, seed: int = 20240611):
        self.sku_ids = [f"BENCH-{i:06d}" for i in range(skus)]
        self.failure_ratio = failure_ratio
        self.rng = random.Random(seed)
        self._cursor = 0

    def is_failure(self) -> bool:
        return self.rng.random() < self.failure_ratio

    def random_sku(self) -> str:
        return self.sku_ids[self.rng.randrange(len(self.sku_ids))]

    def next_skus(self, count: int) -> list[str]:
        """``count`` distinct SKUs, walking the pool round robin (disjoint for concurrent
        batches as long as the pool holds more than the SKUs in flight)."""
        count = min(count, len(self.sku_ids))
        start = self._cursor
        self._cursor = (start + count) % len(self.sku_ids)
        return [self.sku_ids[(start + i) % len(self.sku_ids)] for i in range(count)]

    def body(self, sku_id: str, failure: bool) -> dict[str, Any]:
        price = 50 + (int(sku_id.rsplit("-", 1)[-1]) % 5000) / 100
        body: dict[str, Any] = {
            "date": iso_now(),
            "source": "seller",
            "origin": "price",
            "context": "ongoing",
            "description": "Price updated",
            "type": "success",
            "agent": "bench-connector",
            "evidence": {
                "request": (
                    "curl -X PUT https://marketplace.example.com/api/items/"
                    f"{sku_id}/price -d '{{\"price\": {price:.2f}}}'"
                ),
                "response": "200 OK",
            },
            "data": {
                "price": f"{price:.2f}",
                "salesPrice": f"{price * 0.9:.2f}",
                "currency": "BRL",
            },
        }
        if failure:
            body["type"] = "failure"
            body["description"] = "Price rejected by the marketplace"
            body["evidence"]["response"] = "422 Unprocessable Entity"
            body["errors"] = [
                {
                    "code": "PRICE-001",
                    "externalCode": "MKT-PRC-17",
                    "title": "Price out of range",
                    "description": f"The price of SKU {sku_id} is below the category minimum",
                    "closableOrigins": ["price"],
                }
            ]
        return body


# --------------------------------------------------------------------------- measuring


@dataclass
class PhaseResult:
    name: str
    elapsed: float = 0.0
    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    samples: list[str] = field(default_factory=list)  # first unexpected answers
    items_ok: int = 0  # batch: succeeded items
    items_failed: int = 0  # batch: failed items

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def items_rate(self) -> float:
        return self.items_ok / self.elapsed if self.elapsed else 0.0

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    def note(self, text: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(text[:500])


Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
Check = Callable[[httpx.Response, PhaseResult], None]


async def run_phase(
    clients: list[httpx.AsyncClient],
    name: str,
    request: Request,
    check: Check,
    *,
    workers: int,
    duration: float,
    max_requests: int | None = None,
) -> PhaseResult:
    """``workers`` coroutines, each sending ``request`` until the deadline (or, if given,
    until ``max_requests`` have been started in all); every request timed. Worker ``i``
    sends through ``clients[i % len(clients)]``."""
    result = PhaseResult(name)
    started = 0
    start = time.perf_counter()
    deadline = start + duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal started
        while time.perf_counter() < deadline:
            if max_requests is not None:
                if started >= max_requests:
                    return
                started += 1
            t0 = time.perf_counter()
            try:
                response = await request(client)
            except httpx.HTTPError as error:
                result.transport_errors += 1
                result.note(f"{type(error).__name__}: {error}")
                await asyncio.sleep(0.05)
                continue
            result.latencies.append(time.perf_counter() - t0)
            result.requests += 1
            result.statuses[response.status_code] += 1
            check(response, result)

    await asyncio.gather(*(worker(clients[i % len(clients)]) for i in range(workers)))
    result.elapsed = time.perf_counter() - start
    return result


async def warm_then_run(
    clients: list[httpx.AsyncClient],
    name: str,
    request: Request,
    check: Check,
    *,
    workers: int,
    duration: float,
) -> PhaseResult:
    """One second of the same traffic, discarded, then the timed phase."""
    await run_phase(clients, name, request, check, workers=workers, duration=WARMUP_SECONDS)
    return await run_phase(clients, name, request, check, workers=workers, duration=duration)


def expect_status(expected: int) -> Check:
    def check(response: httpx.Response, result: PhaseResult) -> None:
        if response.status_code != expected:
            result.note(f"{response.status_code}: {response.text}")

    return check


def check_batch(response: httpx.Response, result: PhaseResult) -> None:
    if response.status_code != 200:
        result.note(f"{response.status_code}: {response.text}")
        return
    answer = response.json()
    result.items_ok += int(answer["succeeded"])
    result.items_failed += int(answer["failed"])
    if answer["failed"]:
        bad = next((i for i in answer["items"] if i.get("status") != 201), None)
        result.note(f"batch item failed: {json.dumps(bad)}")


# --------------------------------------------------------------------------- raw inserts


@dataclass
class RawResult:
    elapsed: float = 0.0
    items: int = 0
    rows: Counter[str] = field(default_factory=Counter)

    @property
    def items_rate(self) -> float:
        return self.items / self.elapsed if self.elapsed else 0.0

    @property
    def rows_rate(self) -> float:
        return sum(self.rows.values()) / self.elapsed if self.elapsed else 0.0


RAW_ROWS_DESCRIPTION = (
    "per item: 1 offers upsert (INSERT .. ON CONFLICT DO UPDATE), 1 interactions row, "
    "1 logs row, 1 offer_status_history row; per failure item also 1 error_occurrences row"
)


class RawInserter:
    """The rows of unified items written straight into the database, ``executemany`` per
    table, one transaction per ``batch_size`` items, into ``account`` only."""

    def __init__(self, database_url: str, account: str, workload: Workload, batch_size: int):
        from sqlalchemy.dialects import postgresql, sqlite

        from sentoffers.server.store import tables
        from sentoffers.sql.db import create_db_engine

        self.t = tables
        # The service's own engine factory: same SQLite pragmas (WAL, synchronous=NORMAL).
        self.engine = create_db_engine(database_url, pool_size=1)
        self.account = account
        self.workload = workload
        self.batch_size = batch_size
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(tables.offers)
        mutable = (
            "status",
            "price",
            "sales_price",
            "currency",
            "last_interaction_id",
            "updated_at",
        )
        self.offer_upsert = insert.on_conflict_do_update(
            index_elements=["account", "feed_id", "sku_id"],
            set_={name: insert.excluded[name] for name in mutable},
        )

    def delete_rows(self) -> dict[str, int]:
        from sqlalchemy import delete

        deleted = {}
        with self.engine.begin() as conn:
            for name in ACCOUNT_TABLES:
                table = self.t.metadata.tables[name]
                done = conn.execute(delete(table).where(table.c.account == self.account))
                deleted[name] = done.rowcount
        return deleted

    def _rows(self) -> dict[str, list[dict[str, Any]]]:
        from sentoffers.domain.ids import new_id

        now = datetime.now(UTC)
        account, feed = self.account, FEED_ID
        rows: dict[str, list[dict[str, Any]]] = {
            "offers": [],
            "interactions": [],
            "logs": [],
            "offer_status_history": [],
            "error_occurrences": [],
        }
        for sku in self.workload.next_skus(self.batch_size):
            failure = self.workload.is_failure()
            body = self.workload.body(sku, failure)
            interaction_id, log_id = new_id(), new_id()
            result = "failure" if failure else "success"
            status = "error" if failure else "synced"
            data = body["data"]
            rows["offers"].append(
                {
                    "account": account,
                    "feed_id": feed,
                    "sku_id": sku,
                    "status": status,
                    "price": None if failure else data["price"],
                    "sales_price": None if failure else data["salesPrice"],
                    "currency": None if failure else data["currency"],
                    "last_interaction_id": interaction_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows["interactions"].append(
                {
                    "account": account,
                    "id": interaction_id,
                    "feed_id": feed,
                    "sku_id": sku,
                    "start_date": now,
                    "source": "seller",
                    "origin": "price",
                    "context": "ongoing",
                    "state": "closed",
                    "result": result,
                    "has_failure": failure,
                    "has_success": not failure,
                    "data": data,
                    "last_log_id": log_id,
                    "log_count": 1,
                    "last_activity_at": now,
                    "closed_at": now,
                    "created_at": now,
                }
            )
            errors = None
            if failure:
                errors = [
                    {
                        "code": e["code"],
                        "externalCode": e["externalCode"],
                        "title": e["title"],
                        "description": e["description"],
                        "closableOrigins": e["closableOrigins"],
                        "errorCodeId": e["code"],
                        "mapped": True,
                    }
                    for e in body["errors"]
                ]
                for e in body["errors"]:
                    rows["error_occurrences"].append(
                        {
                            "account": account,
                            "id": new_id(),
                            "feed_id": feed,
                            "sku_id": sku,
                            "code": e["code"],
                            "error_code_id": e["code"],
                            "external_code": e["externalCode"],
                            "title": e["title"],
                            "description": e["description"],
                            "closable_origins": e["closableOrigins"],
                            "origin": "price",
                            "fingerprint": None,
                            "interaction_id": interaction_id,
                            "log_id": log_id,
                            "date": now,
                            "open": True,
                            "closed_at": None,
                            "closed_by_interaction_id": None,
                        }
                    )
            rows["logs"].append(
                {
                    "account": account,
                    "id": log_id,
                    "interaction_id": interaction_id,
                    "feed_id": feed,
                    "sku_id": sku,
                    "seq": 1,
                    "date": now,
                    "type": body["type"],
                    "description": body["description"],
                    "agent": body["agent"],
                    "evidence": body["evidence"],
                    "data": data,
                    "errors": errors,
                    "created_at": now,
                }
            )
            rows["offer_status_history"].append(
                {
                    "account": account,
                    "id": new_id(),
                    "feed_id": feed,
                    "sku_id": sku,
                    "from_status": "sending",
                    "to_status": status,
                    "interaction_id": interaction_id,
                    "log_id": log_id,
                    "reason": f"price {result} left {'1' if failure else 'no'} open error",
                    "changed_at": now,
                }
            )
        return rows

    def _write(self, result: RawResult) -> None:
        rows = self._rows()  # built inside the timed loop, as the service builds its rows
        t = self.t
        with self.engine.begin() as conn:
            conn.execute(self.offer_upsert, rows["offers"])
            conn.execute(t.interactions.insert(), rows["interactions"])
            conn.execute(t.logs.insert(), rows["logs"])
            conn.execute(t.offer_status_history.insert(), rows["offer_status_history"])
            if rows["error_occurrences"]:
                conn.execute(t.error_occurrences.insert(), rows["error_occurrences"])
        result.items += len(rows["logs"])
        for name, table_rows in rows.items():
            result.rows[name] += len(table_rows)

    def run(self, duration: float, max_items: int | None) -> RawResult:
        warm = RawResult()
        deadline = time.perf_counter() + WARMUP_SECONDS
        while time.perf_counter() < deadline:
            self._write(warm)
        result = RawResult()
        start = time.perf_counter()
        deadline = start + duration
        while time.perf_counter() < deadline if max_items is None else result.items < max_items:
            self._write(result)
        result.elapsed = time.perf_counter() - start
        return result

    def dispose(self) -> None:
        self.engine.dispose()


def count_account_rows(database_url: str, account: str) -> dict[str, int]:
    """Rows of ``account`` per table, to show what the service really wrote per item."""
    from sqlalchemy import func, select

    from sentoffers.server.store import tables
    from sentoffers.sql.db import create_db_engine

    engine = create_db_engine(database_url, pool_size=1)
    try:
        with engine.connect() as conn:
            counts = {}
            for name in ACCOUNT_TABLES:
                table = tables.metadata.tables[name]
                counts[name] = conn.execute(
                    select(func.count()).select_from(table).where(table.c.account == account)
                ).scalar_one()
            return counts
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- setup


@dataclass
class Credentials:
    app_key: str
    app_token: str
    created: bool  # created here, revoked at the end


def make_credentials(args: argparse.Namespace) -> Credentials:
    if args.app_key and args.app_token:
        return Credentials(args.app_key, args.app_token, created=False)
    if not args.database_url:
        sys.exit("error: give --app-key/--app-token, or --database-url to create a key")
    from sentoffers.domain.model import Role
    from sentoffers.server.app import open_database
    from sentoffers.server.features.keys import create_key
    from sentoffers.server.settings import Settings

    # The running service has migrated the database already.
    db = open_database(Settings(database_url=args.database_url), migrate=False)
    try:
        key = create_key(db, Role.CONNECTOR, [args.account], label="benchmarks/ingest.py")
    finally:
        db.dispose()
    return Credentials(key.app_key, key.app_token, created=True)


def revoke_credentials(database_url: str, credentials: Credentials) -> None:
    from sentoffers.server.app import open_database
    from sentoffers.server.features.keys import revoke_key
    from sentoffers.server.settings import Settings

    db = open_database(Settings(database_url=database_url), migrate=False)
    try:
        revoke_key(db, credentials.app_key)
    finally:
        db.dispose()


async def prepare_feed(client: httpx.AsyncClient, account: str) -> None:
    """The channel and an active feed for ``account``; both may exist already (409)."""
    for path, body in (
        ("/api/sent-offers/channels", CHANNEL),
        (
            "/api/sent-offers/feeds",
            {"id": FEED_ID, "affiliateId": "BEN", "salesChannel": "1"},
        ),
    ):
        response = await client.post(path, params={"an": account}, json=body)
        if response.status_code not in (201, 409):
            sys.exit(f"error: POST {path} answered {response.status_code}: {response.text}")


# --------------------------------------------------------------------------- the run


def make_clients(
    args: argparse.Namespace, base_url: str, credentials: Credentials
) -> list[httpx.AsyncClient]:
    """``--concurrency`` keep-alive connections: one shared pool of that size, or (default)
    one single-connection client per worker (see --shared-pool)."""
    headers = {
        "X-VTEX-API-AppKey": credentials.app_key,
        "X-VTEX-API-AppToken": credentials.app_token,
    }

    def client(size: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        return httpx.AsyncClient(
            base_url=base_url, limits=limits, headers=headers, timeout=HTTP_TIMEOUT
        )

    if args.shared_pool:
        return [client(args.concurrency)]
    return [client(1) for _ in range(args.concurrency)]


async def http_phases(
    args: argparse.Namespace, base_url: str, credentials: Credentials, workload: Workload
) -> tuple[PhaseResult, PhaseResult, PhaseResult, dict[str, int] | None]:
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(c) for c in make_clients(args, base_url, credentials)
        ]
        await prepare_feed(clients[0], args.account)
        params = {"an": args.account}

        # 1. no-op
        async def health(c: httpx.AsyncClient) -> httpx.Response:
            return await c.get("/health/live")

        print(f"phase 1/4: GET /health/live, {args.concurrency} connections ...", flush=True)
        noop = await warm_then_run(
            clients,
            "no-op GET /health/live",
            health,
            expect_status(200),
            workers=args.concurrency,
            duration=args.duration,
        )

        # 2. unified contract, one SKU per request
        async def unified(c: httpx.AsyncClient) -> httpx.Response:
            sku = workload.random_sku()
            body = workload.body(sku, workload.is_failure())
            return await c.post(
                f"/api/sent-offers/feeds/{FEED_ID}/skus/{sku}/interactions/unified",
                params=params,
                json=body,
            )

        print(f"phase 2/4: unified contract, {args.concurrency} connections ...", flush=True)
        single = await warm_then_run(
            clients,
            "unified POST",
            unified,
            expect_status(201),
            workers=args.concurrency,
            duration=args.duration,
        )

        # 3. batch endpoint
        async def batch(c: httpx.AsyncClient) -> httpx.Response:
            items = [
                {**workload.body(sku, workload.is_failure()), "skuId": sku}
                for sku in workload.next_skus(args.batch_size)
            ]
            return await c.post(
                f"/api/sent-offers/feeds/{FEED_ID}/interactions/unified/batch",
                params=params,
                json=items,
            )

        print(
            f"phase 3/4: batch endpoint, {args.batch_clients} clients x "
            f"{args.batch_size} items ...",
            flush=True,
        )
        await run_phase(  # warm-up: one batch per client
            clients,
            "warm-up",
            batch,
            check_batch,
            workers=args.batch_clients,
            duration=3600.0,
            max_requests=args.batch_clients,
        )
        before = count_account_rows(args.database_url, args.account) if args.database_url else None
        batched = await run_phase(
            clients,
            "batch POST",
            batch,
            check_batch,
            workers=args.batch_clients,
            duration=args.duration if args.batches is None else 24 * 3600.0,
            max_requests=args.batches,
        )
        written = None
        if before is not None:
            after = count_account_rows(args.database_url, args.account)
            written = {name: after[name] - before[name] for name in after}
        return noop, single, batched, written


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def report(
    args: argparse.Namespace,
    noop: PhaseResult,
    single: PhaseResult,
    batched: PhaseResult,
    service_rows: dict[str, int] | None,
    raw: RawResult | None,
) -> dict[str, Any]:
    cores = os.cpu_count() or 0
    unified_ratio = single.rate / noop.rate if noop.rate else 0.0
    batch_ratio = batched.items_rate / raw.items_rate if raw and raw.items_rate else None

    print()
    print(f"{'phase':<34}{'rate':>16}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for phase in (noop, single):
        print(
            f"{phase.name:<34}{fmt(phase.rate) + ' req/s':>16}"
            f"{phase.percentile(50):>10.1f}{phase.percentile(95):>10.1f}"
            f"{phase.percentile(99):>10.1f}{phase.non_2xx:>9}"
        )
    print(
        f"{'batch POST (succeeded items)':<34}{fmt(batched.items_rate) + ' logs/s':>16}"
        f"{batched.percentile(50):>10.1f}{batched.percentile(95):>10.1f}"
        f"{batched.percentile(99):>10.1f}{batched.non_2xx:>9}"
    )
    if raw is not None:
        print(f"{'raw executemany (same rows)':<34}{fmt(raw.items_rate) + ' items/s':>16}")
    else:
        print(f"{'raw executemany':<34}{'skipped (no --database-url)':>26}")
    print()
    print(f"unified / no-op          {unified_ratio:7.1%}   (target >= 40%)")
    if batch_ratio is not None:
        print(f"batch logs / raw items   {batch_ratio:7.1%}   (target >= 30%)")
    print()
    non_201 = single.requests - single.statuses.get(201, 0)
    print(
        f"unified: {single.requests:,} responses, {single.statuses.get(201, 0):,} were 201, "
        f"{non_201} were not, {single.non_2xx} non-2xx, {single.transport_errors} transport "
        f"errors; statuses {dict(sorted(single.statuses.items()))}"
    )
    print(
        f"batch: {batched.requests:,} batches of {args.batch_size} in {batched.elapsed:.1f}s, "
        f"{batched.items_ok:,} items succeeded, {batched.items_failed:,} failed, "
        f"{batched.non_2xx} non-2xx batches, {batched.transport_errors} transport errors"
    )
    for phase in (noop, single, batched):
        for sample in phase.samples:
            print(f"  ! {phase.name}: {sample}")
    if service_rows is not None and batched.items_ok:
        per_item = ", ".join(
            f"{n / batched.items_ok:.2f} {name}" for name, n in service_rows.items() if n
        )
        print(f"batch: the service's tables grew by, per succeeded item: {per_item}")
        print(
            "       (plus, per item, an offers placeholder INSERT .. ON CONFLICT DO NOTHING, "
            "a SELECT .. FOR UPDATE and an UPDATE)"
        )
    if raw is not None:
        rows = ", ".join(f"{n:,} {name}" for name, n in raw.rows.items())
        print(f"raw: {RAW_ROWS_DESCRIPTION}")
        print(
            f"raw: {raw.items:,} items in {raw.elapsed:.1f}s = {fmt(raw.rows_rate)} rows/s "
            f"({rows}), transactions of {args.batch_size} items, account {args.raw_account!r}"
        )
    print(f"client: {client_mode(args)}")
    print(
        f"note: the client (this process) and the server share the same {cores} cores on "
        "loopback; the no-op rate is bounded by this Python client as much as by the server."
    )

    figures: dict[str, Any] = {
        "cpu_cores": cores,
        "client_and_server_share_cores": True,
        "duration_s": args.duration,
        "concurrency": args.concurrency,
        "client_mode": "shared-pool" if args.shared_pool else "client-per-worker",
        "noop_rps": round(noop.rate, 1),
        "noop_p50_ms": round(noop.percentile(50), 2),
        "noop_p95_ms": round(noop.percentile(95), 2),
        "noop_p99_ms": round(noop.percentile(99), 2),
        "noop_non_2xx": noop.non_2xx,
        "unified_rps": round(single.rate, 1),
        "unified_p50_ms": round(single.percentile(50), 2),
        "unified_p95_ms": round(single.percentile(95), 2),
        "unified_p99_ms": round(single.percentile(99), 2),
        "unified_requests": single.requests,
        "unified_non_201": non_201,
        "unified_non_2xx": single.non_2xx,
        "unified_transport_errors": single.transport_errors,
        "unified_over_noop": round(unified_ratio, 4),
        "batch_clients": args.batch_clients,
        "batch_size": args.batch_size,
        "batch_requests": batched.requests,
        "batch_logs_per_s": round(batched.items_rate, 1),
        "batch_items_succeeded": batched.items_ok,
        "batch_items_failed": batched.items_failed,
        "batch_non_2xx": batched.non_2xx,
        "batch_p50_ms": round(batched.percentile(50), 2),
        "batch_service_rows": service_rows,
        "raw_items_per_s": round(raw.items_rate, 1) if raw else None,
        "raw_rows_per_s": round(raw.rows_rate, 1) if raw else None,
        "raw_rows": dict(raw.rows) if raw else None,
        "raw_rows_description": RAW_ROWS_DESCRIPTION if raw else None,
        "batch_over_raw": round(batch_ratio, 4) if batch_ratio is not None else None,
        "skus": args.skus,
        "failure_ratio": args.failure_ratio,
        "database": database_kind(args.database_url),
    }
    print(json.dumps(figures))
    return figures


def client_mode(args: argparse.Namespace) -> str:
    if args.shared_pool:
        return f"one httpx.AsyncClient, pool of {args.concurrency} connections (--shared-pool)"
    return (
        f"{args.concurrency} httpx.AsyncClient(s) of 1 keep-alive connection each, one per "
        "worker (--shared-pool for one pool of them all)"
    )


def database_kind(url: str | None) -> str | None:
    return url.split(":", 1)[0] if url else None


def run(args: argparse.Namespace, base_url: str) -> None:
    require_loopback(base_url)
    credentials = make_credentials(args)
    workload = Workload(args.skus, args.failure_ratio)
    try:
        noop, single, batched, service_rows = asyncio.run(
            http_phases(args, base_url, credentials, workload)
        )
        raw = None
        if args.database_url:
            print("phase 4/4: raw executemany into the same database ...", flush=True)
            inserter = RawInserter(args.database_url, args.raw_account, workload, args.batch_size)
            try:
                inserter.delete_rows()  # leftovers of an interrupted run
                raw = inserter.run(
                    args.duration,
                    None if args.batches is None else args.batches * args.batch_size,
                )
            finally:
                deleted = inserter.delete_rows()
                inserter.dispose()
            print(f"raw: deleted {sum(deleted.values()):,} rows of account {args.raw_account!r}")
        report(args, noop, single, batched, service_rows, raw)
    finally:
        if credentials.created and args.database_url:
            revoke_credentials(args.database_url, credentials)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest benchmark against a running sentoffers service (loopback only)."
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--database-url",
        help="the service's database: to create a connector key and for the raw-insert "
        "phase (skipped without it); with --start-service, overrides the fresh SQLite file",
    )
    parser.add_argument("--app-key", help="an admin or connector key for --account")
    parser.add_argument("--app-token")
    parser.add_argument("--account", default="bench")
    parser.add_argument(
        "--raw-account", help="account of the raw inserts (default: ACCOUNT-raw); deleted after"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--concurrency", type=int, default=64, help="connections and workers")
    parser.add_argument(
        "--batches",
        type=int,
        help="send exactly this many batches in phase 3 (and insert as many items raw) "
        "instead of running for --duration",
    )
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--skus", type=int, default=20_000, help="size of the SKU pool")
    parser.add_argument("--failure-ratio", type=float, default=0.1)
    parser.add_argument(
        "--shared-pool",
        action="store_true",
        help="send through ONE httpx.AsyncClient with a pool of --concurrency connections "
        "instead of one single-connection client per worker; httpcore's pool scans every "
        "connection for every queued request, so at 64 connections the client, not the "
        "service, becomes the bottleneck",
    )
    parser.add_argument(
        "--start-service",
        action="store_true",
        help="start `python -m sentoffers serve` on a free loopback port (fresh SQLite file "
        "in a temp dir unless --database-url), run, and stop it",
    )
    args = parser.parse_args(argv)
    if args.app_key and not args.app_token:
        parser.error("--app-key needs --app-token")
    if args.duration <= 0 or args.concurrency <= 0 or args.batch_size <= 0:
        parser.error("--duration, --concurrency and --batch-size must be positive")
    if args.batches is not None and args.batches <= 0:
        parser.error("--batches must be positive")
    if args.skus < args.batch_size * args.batch_clients:
        parser.error("--skus must hold at least --batch-size x --batch-clients SKUs")
    args.raw_account = args.raw_account or f"{args.account}-raw"
    if args.raw_account == args.account:
        parser.error("--raw-account must differ from --account")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with contextlib.suppress(ImportError):  # the service's event loop, for the client too
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if not args.start_service:
        run(args, args.base_url)
        return
    workdir = Path(tempfile.mkdtemp(prefix="sentoffers-bench-"))
    try:
        if not args.database_url:
            args.database_url = f"sqlite:///{workdir / 'bench.db'}"
        with started_service(args.database_url, workdir) as base_url:
            run(args, base_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Web UI benchmark: the latency of every page of the seller's UI over a large store.

It builds nothing: it measures a store made by ``benchmarks/search.py`` (1,000,000 offers,
5,000,000 logs by default), kept with ``--keep --skip-purge``::

    uv run python benchmarks/search.py --keep --skip-purge
    uv run python benchmarks/ui_pages.py --database-url sqlite:////tmp/sentoffers-search-XXXX/search.db

One run creates a viewer key for the account, starts ``python -m sentoffers serve`` on the
store (loopback only, background jobs off), signs in through the sign-in form like a
browser and times, one request at a time after a warm-up, every page kind: the offer list
(plain, per status tab, each filter, each sort, the deepest page, 100 rows; the filters by
open errors with few and with many matches, their status tabs and later pages), an offer,
an offer's filtered interactions, an interaction, a log's evidence and a filtered CSV
export. ``--pages origin errorCode`` times only the pages whose name holds one of the words.
Each answer must be 200. It prints p50/p95/p99 per page and whether p95 is under the
target (150 ms), then revokes the key.

This is a script, not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from _service import ROOT, started_service
from sqlalchemy import func, select

if str(ROOT) not in sys.path:  # run as a file from anywhere, the package still imports
    sys.path.insert(0, str(ROOT))

from sentoffers.domain.model import Role
from sentoffers.server.features.keys import create_key, revoke_key
from sentoffers.server.store.tables import error_occurrences, feeds, interactions, logs, offers
from sentoffers.sql.db import Database, create_db_engine

TARGET_P95_MS = 150.0


def sample_paths(db: Database, account: str) -> dict[str, str]:
    """One URL per page kind, with values taken from the store itself."""
    with db.unit_of_work(write=False) as uow:
        conn = uow.conn
        feed = conn.execute(
            select(feeds.c.feed_id)
            .where(feeds.c.account == account, feeds.c.active.is_(True))
            .limit(1)
        ).scalar_one_or_none()
        if feed is None:
            sys.exit(f"error: account {account!r} has no active feed in this store")
        error = conn.execute(
            select(
                error_occurrences.c.feed_id, error_occurrences.c.sku_id, error_occurrences.c.code
            )
            .where(error_occurrences.c.account == account, error_occurrences.c.open.is_(True))
            .limit(1)
        ).first()
        named = conn.execute(
            select(offers.c.name, offers.c.brand, offers.c.category)
            .where(
                offers.c.account == account, offers.c.feed_id == feed, offers.c.name.is_not(None)
            )
            .limit(1)
        ).first()
        log = conn.execute(
            select(logs.c.feed_id, logs.c.sku_id, logs.c.interaction_id, logs.c.id)
            .where(logs.c.account == account)
            .order_by(logs.c.created_at.desc())
            .limit(1)
        ).first()
        if log is None:
            sys.exit("error: the store holds no log")
        # The most common open error code: the error-code filter with many matches.
        common = conn.execute(
            select(error_occurrences.c.code)
            .where(error_occurrences.c.account == account, error_occurrences.c.open.is_(True))
            .group_by(error_occurrences.c.code)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one_or_none()
        interaction_count = conn.execute(
            select(func.count()).where(
                interactions.c.account == account,
                interactions.c.feed_id == log.feed_id,
                interactions.c.sku_id == log.sku_id,
            )
        ).scalar_one()
    if error is None or named is None or common is None:
        sys.exit("error: the store lacks an open error or a named offer")
    word = max(re.findall(r"\w{4,}", named.name or "") or ["shoe"], key=len).lower()
    offer = f"/offers/{quote(error.feed_id, safe='')}/{quote(error.sku_id, safe='')}"
    with_logs = f"/offers/{quote(log.feed_id, safe='')}/{quote(log.sku_id, safe='')}"
    interaction = f"{with_logs}/interactions/{log.interaction_id}"
    print(
        f"sample: feed {feed}, offer {offer}, {interaction_count} interaction(s) on {with_logs}, "
        f"codes {error.code} and {common}"
    )
    return {
        "list": "/offers",
        "list status=error": "/offers?status=error",
        "list status=unavailable": "/offers?status=unavailable",
        "list channel": f"/offers?channel={feed}",
        "list channel+q": f"/offers?channel={feed}&q={quote(word)}",
        "list q": f"/offers?q={quote(word)}",
        "list errorCode": f"/offers?errorCode={quote(error.code)}",
        "list errorCode common": f"/offers?errorCode={quote(common)}",
        "list origin=price": "/offers?origin=price",
        "list origin=catalog": "/offers?origin=catalog",
        "list origin=price page 5": "/offers?origin=price&page=5",
        "list origin=price sort name": "/offers?origin=price&sort=name:asc",
        "list origin=price status=error": "/offers?origin=price&status=error",
        "list origin=price status=synced": "/offers?origin=price&status=synced",
        "list origin=price status=unavailable": "/offers?origin=price&status=unavailable",
        "list origin=price page 20": "/offers?origin=price&page=20",
        "list origin=price channel": f"/offers?origin=price&channel={feed}",
        "list origin=price brand": f"/offers?origin=price&brand={quote(named.brand or '')}",
        "list brand": f"/offers?brand={quote(named.brand or '')}",
        "list category": f"/offers?category={quote(named.category or '')}",
        "list sort name": "/offers?sort=name:asc",
        "list sort sku": "/offers?sort=skuId:asc",
        "list oldest": "/offers?sort=updatedAt:asc",
        "list 100 rows": "/offers?size=100",
        "list deepest page": "/offers?page=401",
        "list error deep": "/offers?status=error&page=401",
        "offer (errors)": offer,
        "offer interactions filtered": f"{with_logs}?origin=price&result=success&size=50",
        "interaction": interaction,
        "evidence": f"{interaction}/evidence/{log.id}",
        "csv channel+q": f"/offers.csv?channel={feed}&q={quote(word)}",
    }


def sign_in(client: httpx.Client, account: str, app_key: str, app_token: str) -> None:
    form = client.get("/signin").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token, "no form token on /signin"
    answer = client.post(
        "/signin",
        data={
            "account": account,
            "app_key": app_key,
            "app_token": app_token,
            "csrf_token": token.group(1),
        },
    )
    if answer.status_code != 303:
        sys.exit(f"error: sign-in answered {answer.status_code}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(client: httpx.Client, path: str, requests: int, warmup: int) -> list[float]:
    timings = []
    for index in range(warmup + requests):
        started = time.perf_counter()
        answer = client.get(path)
        _ = answer.content
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            sys.exit(f"error: {path} answered {answer.status_code}")
        if index >= warmup:
            timings.append(elapsed)
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Latency of the web UI's pages.")
    parser.add_argument("--database-url", required=True, help="a store made by search.py")
    parser.add_argument("--account", default="bench")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page first")
    parser.add_argument(
        "--pages", nargs="*", default=[], help="only pages whose name holds one of these words"
    )
    args = parser.parse_args(argv)

    db = Database(create_db_engine(args.database_url))
    paths = sample_paths(db, args.account)
    if args.pages:
        paths = {name: path for name, path in paths.items() if any(w in name for w in args.pages)}
    key = create_key(db, Role.VIEWER, [args.account], label="benchmarks/ui_pages.py")
    over: list[str] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="sentoffers-ui-") as workdir,
            started_service(args.database_url, Path(workdir)) as base_url,
            httpx.Client(base_url=base_url, timeout=60.0) as client,
        ):
            sign_in(client, args.account, key.app_key, key.app_token)
            print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for name, path in paths.items():
                timings = measure(client, path, args.requests, args.warmup)
                p95 = percentile(timings, 0.95)
                print(
                    f"{name:32} {statistics.median(timings):8.1f} {p95:8.1f} "
                    f"{percentile(timings, 0.99):8.1f} {max(timings):8.1f}"
                    + ("  OVER" if p95 >= TARGET_P95_MS else ""),
                    flush=True,
                )
                if p95 >= TARGET_P95_MS:
                    over.append(f"{name} ({path}): p95 {p95:.1f} ms")
    finally:
        revoke_key(db, key.app_key)
        db.dispose()
    if over:
        print(f"over the {TARGET_P95_MS:.0f} ms p95 target:\n  " + "\n  ".join(over))
    else:
        print(f"every page under the {TARGET_P95_MS:.0f} ms p95 target")


if __name__ == "__main__":
    main()

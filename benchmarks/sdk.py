"""SDK benchmark: what the Python SDK and the service's Idempotency-Key cost per write.

Starts ``python -m sentoffers serve`` on a fresh SQLite store (or ``--database-url``), then
sends unified-contract writes for ``--duration`` seconds from ``--concurrency`` tasks on one
event loop, three ways, and prints the rate of each:

a. raw httpx, no Idempotency-Key (the floor: what any client pays);
b. ``AsyncSentOffersClient`` with ``idempotency_keys=False`` (the SDK's own overhead);
c. ``AsyncSentOffersClient`` as shipped: every POST with an Idempotency-Key (the service
   claims the key, runs the write and stores the answer).

Every answer is checked to be 201. Usage::

    uv run python benchmarks/sdk.py                  # 5 s per phase, 32 tasks, SQLite
    uv run python benchmarks/sdk.py --duration 10 --concurrency 64

This is a script, not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._service import started_service
from sentoffers.client import AsyncSentOffersClient, SentOffersCredentials

ACCOUNT = "bench"
FEED = "vtex.sdkbench"
BODY = {
    "source": "channel",
    "origin": "price",
    "context": "ongoing",
    "type": "success",
    "description": "Price updated",
    "agent": "benchmarks/sdk.py",
    "data": {"price": "99.90", "currency": "BRL", "status": "synced"},
}


def make_key(database_url: str) -> SentOffersCredentials:
    from sentoffers.domain.model import Role
    from sentoffers.server.app import open_database
    from sentoffers.server.features.keys import create_key
    from sentoffers.server.settings import Settings

    db = open_database(Settings(database_url=database_url), migrate=False)
    try:
        key = create_key(db, Role.CONNECTOR, [ACCOUNT], label="benchmarks/sdk.py")
    finally:
        db.dispose()
    return SentOffersCredentials(app_key=key.app_key, app_token=key.app_token)


async def run_phase(
    name: str, send: Callable[[str], Awaitable[int]], duration: float, concurrency: int
) -> float:
    skus = (f"{name}-{n}" for n in itertools.count())
    done = 0
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            status = await send(next(skus))
            if status != 201:
                raise SystemExit(f"error: phase {name} got {status}")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = done / (time.perf_counter() - started)
    print(f"{name:<34} {done:>7} writes  {rate:>8.0f} /s", flush=True)
    return rate


async def main(args: argparse.Namespace, base_url: str, credentials: SentOffersCredentials) -> None:
    limits = httpx.Limits(max_connections=args.concurrency)
    async with (
        AsyncSentOffersClient(base_url, credentials=credentials, limits=limits) as keyed,
        AsyncSentOffersClient(
            base_url, credentials=credentials, limits=limits, idempotency_keys=False
        ) as plain,
        httpx.AsyncClient(base_url=base_url, headers=credentials.headers(), limits=limits) as raw,
    ):
        await keyed.create_channel(
            ACCOUNT, {"vendor": "vtex", "name": "sdkbench", "logo": "https://example.com/l.png"}
        )
        feed = {"id": FEED, "affiliateId": "SDK", "salesChannel": "1"}
        (await keyed.create_feed(ACCOUNT, feed)).raise_for_errors()
        path = f"/api/sent-offers/feeds/{FEED}/skus/{{}}/interactions/unified"

        async def raw_send(sku: str) -> int:
            response = await raw.post(path.format(sku), params={"an": ACCOUNT}, json=BODY)
            return response.status_code

        async def plain_send(sku: str) -> int:
            return (await plain.create_unified_interaction(ACCOUNT, FEED, sku, BODY)).status_code

        async def keyed_send(sku: str) -> int:
            return (await keyed.create_unified_interaction(ACCOUNT, FEED, sku, BODY)).status_code

        await run_phase("warm-up", raw_send, 1.0, args.concurrency)
        a = await run_phase("a. raw httpx", raw_send, args.duration, args.concurrency)
        b = await run_phase(
            "b. SDK, no Idempotency-Key", plain_send, args.duration, args.concurrency
        )
        c = await run_phase(
            "c. SDK with Idempotency-Key", keyed_send, args.duration, args.concurrency
        )
        print(f"SDK / raw: {b / a:.0%}   Idempotency-Key / no key: {c / b:.0%}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sentoffers-sdk-bench-") as workdir:
        url = args.database_url or f"sqlite:///{workdir}/sdk.db"
        with started_service(url, Path(workdir)) as base_url:
            asyncio.run(main(args, base_url, make_key(url)))


if __name__ == "__main__":
    cli()

"""Periodic jobs on the running event loop: each run counted, timed and, when it fails,
logged, never fatal to the loop.

The service's background jobs (idle sweep, purge, catalog metadata) and the connector's
(lease renewal, recovery, inventory sweep) all run through ``every``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from sentoffers.observability.metrics import job_run

logger = logging.getLogger("sentoffers.jobs")


async def every(seconds: float, name: str, action: Callable[[], Awaitable[object]]) -> None:
    """Run ``action`` every ``seconds`` (first after one wait) until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        try:
            with job_run(name):
                said = await action()
        except Exception:
            logger.exception("%s failed; will retry", name)
            continue
        if isinstance(said, str) and said:
            logger.info("%s: %s", name, said)


def in_thread(job: Callable[[threading.Event], object]) -> Callable[[], Awaitable[object]]:
    """``job`` run in a worker thread, as an action for ``every``.

    ``job`` is given an event set when the action is cancelled: a long job checks it and
    stops early; until then the cancellation waits for it, so nothing the job uses is closed
    under its feet.
    """

    async def action() -> object:
        stop = threading.Event()
        work = asyncio.get_running_loop().run_in_executor(None, job, stop)
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            stop.set()
            await asyncio.wait([work])
            raise

    return action

"""Live pages: Server-Sent Events telling an open page that what it shows has changed.

Each stream polls a cheap version stamp of its offer or interaction (one primary-key
lookup) every ``ui_live_poll_seconds`` and sends an ``update`` event when the stamp moves
away from the one the page was rendered with (or the last one sent). A stream ends after
``ui_live_max_seconds``, when the client goes away or when the session stops being valid;
the browser's EventSource then reconnects on its own, with the last stamp it saw.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from functools import partial

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from sentoffers.offers.versions import interaction_version, offer_version
from sentoffers.settings import Settings
from sentoffers.ui.session import viewer_of

router = APIRouter(prefix="/live", include_in_schema=False)

HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000


@router.get("/offers/{feed_id}/{sku_id:path}/interactions/{interaction_id}")
async def live_interaction(
    request: Request, feed_id: str, sku_id: str, interaction_id: str, v: str = ""
) -> Response:
    viewer = await anyio.to_thread.run_sync(viewer_of, request)
    if viewer is None:
        return _unauthorized()
    stamp = partial(
        interaction_version, request.app.state.db, viewer.account, feed_id, sku_id, interaction_id
    )
    return _event_stream(request, stamp, _baseline(request, v))


@router.get("/offers/{feed_id}/{sku_id:path}")
async def live_offer(request: Request, feed_id: str, sku_id: str, v: str = "") -> Response:
    viewer = await anyio.to_thread.run_sync(viewer_of, request)
    if viewer is None:
        return _unauthorized()
    stamp = partial(offer_version, request.app.state.db, viewer.account, feed_id, sku_id)
    return _event_stream(request, stamp, _baseline(request, v))


def _unauthorized() -> Response:
    # Not a redirect: an EventSource cannot show a sign-in form, and stops on a 401.
    return PlainTextResponse("sign in again", status_code=401)


def _baseline(request: Request, v: str) -> str:
    """The stamp the page holds: the last event's id on a reconnect, else the page's own."""
    return request.headers.get("last-event-id", "").strip()[:200] or v.strip()[:200]


def _event_stream(request: Request, stamp: Callable[[], str], baseline: str) -> Response:
    settings: Settings = request.app.state.settings
    return StreamingResponse(
        _events(request, stamp, baseline, settings),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _still_signed_in_and_stamp(request: Request, stamp: Callable[[], str]) -> str | None:
    if viewer_of(request) is None:
        return None
    return stamp()


async def _events(
    request: Request, stamp: Callable[[], str], baseline: str, settings: Settings
) -> AsyncIterator[bytes]:
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
    last = baseline or None
    started = time.monotonic()
    quiet_since = started
    while time.monotonic() - started < settings.ui_live_max_seconds:
        if await request.is_disconnected():
            return
        current = await anyio.to_thread.run_sync(_still_signed_in_and_stamp, request, stamp)
        if current is None:
            yield b"event: signedout\ndata: \n\n"
            return
        if last is None:
            last = current
        elif current != last:
            last = current
            quiet_since = time.monotonic()
            yield f"id: {current}\nevent: update\ndata: {current}\n\n".encode()
        elif time.monotonic() - quiet_since >= HEARTBEAT_SECONDS:
            quiet_since = time.monotonic()
            yield b": still here\n\n"
        await anyio.sleep(settings.ui_live_poll_seconds)

"""Live pages: Server-Sent Events telling an open page that what it shows has changed.

Each stream polls a cheap version stamp of its offer or interaction (one primary-key
lookup) every ``ui_live_poll_seconds`` and sends an ``update`` event when the stamp moves
away from the one the page was rendered with (or the last one sent). A stream ends after
``ui_live_max_seconds``, when the client goes away or when the session stops being valid;
the browser's EventSource then reconnects on its own, with the last stamp it saw.

Streams open at once are capped per session (``ui_live_streams_per_session``) and per process
(``ui_live_streams_max``): one more is refused, 429 or 503 with ``Retry-After``, and the
streams already open go on. Refusing rather than ending the oldest: an ended stream's page
reconnects and would end another in turn. An EventSource does not retry a refused stream; its
page still shows what it showed, and a reload tries again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from functools import partial

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from sentoffers.server.features.offers.versions import interaction_version, offer_version
from sentoffers.server.settings import Settings
from sentoffers.server.web.api.deps import AppSettings, Db, Limits
from sentoffers.server.web.api.limits import StreamSlots
from sentoffers.server.web.ui.filters import FeedIdPath, IssuedIdPath, SkuIdPath
from sentoffers.server.web.ui.session import SESSION_COOKIE, viewer_of

router = APIRouter(prefix="/live", include_in_schema=False)

HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000
REFUSED_RETRY_AFTER_SECONDS = 30


@router.get("/offers/{feed_id}/{sku_id:path}/interactions/{interaction_id}")
async def live_interaction(
    request: Request,
    limits: Limits,
    db: Db,
    settings: AppSettings,
    feed_id: FeedIdPath,
    sku_id: SkuIdPath,
    interaction_id: IssuedIdPath,
    v: str = "",
) -> Response:
    viewer = await anyio.to_thread.run_sync(viewer_of, request)
    if viewer is None:
        return _unauthorized()
    stamp = partial(interaction_version, db, viewer.account, feed_id, sku_id, interaction_id)
    return _event_stream(request, stamp, _baseline(request, v), limits.streams, settings)


@router.get("/offers/{feed_id}/{sku_id:path}")
async def live_offer(
    request: Request,
    limits: Limits,
    db: Db,
    settings: AppSettings,
    feed_id: FeedIdPath,
    sku_id: SkuIdPath,
    v: str = "",
) -> Response:
    viewer = await anyio.to_thread.run_sync(viewer_of, request)
    if viewer is None:
        return _unauthorized()
    stamp = partial(offer_version, db, viewer.account, feed_id, sku_id)
    return _event_stream(request, stamp, _baseline(request, v), limits.streams, settings)


def _unauthorized() -> Response:
    # Not a redirect: an EventSource cannot show a sign-in form, and stops on a 401.
    return PlainTextResponse("sign in again", status_code=401)


def _baseline(request: Request, v: str) -> str:
    """The stamp the page holds: the last event's id on a reconnect, else the page's own."""
    return request.headers.get("last-event-id", "").strip()[:200] or v.strip()[:200]


def _event_stream(
    request: Request,
    stamp: Callable[[], str],
    baseline: str,
    slots: StreamSlots,
    settings: Settings,
) -> Response:
    session = hashlib.sha256(request.cookies.get(SESSION_COOKIE, "").encode()).hexdigest()
    full = slots.acquire(session)
    if full == "owner":
        return _refused(429, "This session has too many live pages open: close some, then reload.")
    if full == "total":
        return _refused(503, "Too many live pages are open: reload later.")
    return _SlotStream(
        _events(request, stamp, baseline, settings),
        release=partial(slots.release, session),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _refused(status_code: int, message: str) -> Response:
    headers = {"Retry-After": str(REFUSED_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return PlainTextResponse(message, status_code=status_code, headers=headers)


class _SlotStream(StreamingResponse):
    """A stream holding a slot, given back when it ends, however it ends."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        *,
        release: Callable[[], None],
        media_type: str,
        headers: Mapping[str, str],
    ):
        super().__init__(content, media_type=media_type, headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


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

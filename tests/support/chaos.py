"""A misbehaving HTTP server in front of the real service, to test the SDK's retries for real.

``ChaosProxy(upstream)`` listens on a free port of 127.0.0.1 (an asyncio server in a
background thread), reads HTTP/1.1 requests with ``h11`` (keep-alive included), and for
each request takes the next action of its script::

    with ChaosProxy(service.base_url) as proxy:
        proxy.script(Answer(429, retry_after="1"), LoseAnswer())
        client = SentOffersClient(proxy.url, ...)

The script is a thread-safe queue; once it is empty, requests get the default action
(``Pass()`` unless ``always(...)`` says otherwise). The actions:

- ``Pass()``: forward to the upstream with httpx and relay its answer;
- ``Answer(status, retry_after=...)``: answer a canned status without forwarding;
- ``LoseAnswer()``: forward, then close the connection without answering: the upstream
  did the work, the client never hears of it;
- ``AnswerLate(delay)``: forward, then answer only after ``delay`` seconds (longer than
  the client's read timeout, the client has given up by then);
- ``CloseBeforeForwarding()``: close the connection; the upstream never sees the request.

``seen`` lists what the proxy saw, in order: method, path, Idempotency-Key, the action
taken and the upstream's status. Every read, write and wait has a timeout, and ``stop()``
cancels whatever is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import h11
import httpx

__all__ = [
    "Action",
    "Answer",
    "AnswerLate",
    "ChaosProxy",
    "CloseBeforeForwarding",
    "LoseAnswer",
    "Pass",
    "Seen",
]

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
LIFETIME_S = 1800.0
"""A proxy nobody stops stops itself after this long."""
IDLE_TIMEOUT_S = 30.0
"""A keep-alive connection with no new request is closed after this long."""
READ_TIMEOUT_S = 10.0
"""A request that has started must arrive whole within this."""
WRITE_TIMEOUT_S = 10.0
UPSTREAM_TIMEOUT_S = 30.0
MAX_BODY_BYTES = 16 * 1024 * 1024
READ_CHUNK = 65536

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"host",
        # httpx decodes a compressed answer: ask for none, relay none.
        b"accept-encoding",
        b"content-encoding",
    }
)


@dataclass(frozen=True, slots=True)
class Pass:
    """Forward the request and relay the answer."""

    name = "pass"


@dataclass(frozen=True, slots=True)
class Answer:
    """Answer ``status`` without forwarding; the body is in the service's error shape unless
    given."""

    status: int
    retry_after: str | None = None
    body: bytes | None = None

    name = "answer"

    def content(self) -> bytes:
        if self.body is not None:
            return self.body
        error = {"code": f"chaos_{self.status}", "message": "answered by the chaos proxy"}
        return json.dumps({"errors": [error]}).encode()


@dataclass(frozen=True, slots=True)
class LoseAnswer:
    """Forward the request, then close the connection without answering."""

    name = "lose_answer"


@dataclass(frozen=True, slots=True)
class AnswerLate:
    """Forward the request, then answer only after ``delay`` seconds."""

    delay: float

    name = "answer_late"


@dataclass(frozen=True, slots=True)
class CloseBeforeForwarding:
    """Close the connection; the upstream never sees the request."""

    name = "close_before_forwarding"


Action = Pass | Answer | LoseAnswer | AnswerLate | CloseBeforeForwarding


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the proxy received, and what became of it."""

    method: str
    path: str
    query: str
    idempotency_key: str | None
    request_id: str | None
    action: Action
    upstream_status: int | None = None
    """The upstream's answer, ``None`` when the request was not forwarded (or failed)."""
    replayed: bool = False
    """The upstream answered from its Idempotency-Key record."""


@dataclass(frozen=True, slots=True)
class _Incoming:
    method: str
    target: str
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None


class ChaosProxy:
    """An HTTP/1.1 proxy to ``upstream`` that follows a script of misbehaviours."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port: int | None = None
        self._script: queue.Queue[Action] = queue.Queue()
        self._default: Action = Pass()
        self._seen: list[Seen] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the chaos proxy is not started")
        return f"http://{HOST}:{self.port}"

    # The script, from the test's thread -------------------------------------------------

    def script(self, *actions: Action) -> None:
        """Actions for the next requests, one each, in order."""
        for action in actions:
            self._script.put(action)

    def always(self, action: Action) -> None:
        """The action for every request once the script is used up."""
        with self._lock:
            self._default = action

    @property
    def seen(self) -> list[Seen]:
        """What the proxy received so far, oldest first."""
        with self._lock:
            return list(self._seen)

    def _next_action(self) -> Action:
        try:
            return self._script.get_nowait()
        except queue.Empty:
            with self._lock:
                return self._default

    def _record(self, incoming: _Incoming, action: Action, answer: httpx.Response | None) -> None:
        path, _, query = incoming.target.partition("?")
        seen = Seen(
            method=incoming.method,
            path=path,
            query=query,
            idempotency_key=incoming.header(b"idempotency-key"),
            request_id=incoming.header(b"x-request-id"),
            action=action,
            upstream_status=answer.status_code if answer is not None else None,
            replayed=answer is not None and answer.headers.get("idempotent-replayed") == "true",
        )
        with self._lock:
            self._seen.append(seen)

    # Starting and stopping --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"the chaos proxy did not start within {START_TIMEOUT_S:.0f}s")
        if self._failure is not None:
            raise RuntimeError(f"the chaos proxy did not start: {self._failure!r}")

    def stop(self) -> None:
        loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(stopping.set)
        if thread is not None:
            thread.join(STOP_TIMEOUT_S + 5.0)
            if thread.is_alive():
                raise RuntimeError("the chaos proxy did not stop")
        self._thread = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise RuntimeError("the chaos proxy failed") from failure

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported by start() or stop(), not lost in a thread
            self._failure = error
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT_S) as client:
            self._client = client
            server = await asyncio.start_server(self._connection, HOST, 0)
            self.port = int(server.sockets[0].getsockname()[1])
            self._ready.set()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), LIFETIME_S)
            finally:
                server.close()
                for task in list(self._connections):
                    task.cancel()
                if self._connections:
                    await asyncio.wait(list(self._connections), timeout=STOP_TIMEOUT_S)
                await asyncio.wait_for(server.wait_closed(), STOP_TIMEOUT_S)

    # One connection ---------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                incoming = await self._read_request(connection, reader)
                if incoming is None:
                    return
                if not await self._handle(connection, writer, incoming):
                    return
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    return  # Connection: close, or a response h11 will not reuse
                connection.start_next_cycle()
        except (ConnectionError, TimeoutError, h11.ProtocolError):
            return  # the client went away or spoke nonsense: drop it
        except asyncio.CancelledError:
            # stop() cancels: end quietly (asyncio 3.11 logs a task that ends cancelled).
            return
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _read_request(
        self, connection: h11.Connection, reader: asyncio.StreamReader
    ) -> _Incoming | None:
        """The next whole request; ``None`` when the client closes or idles out."""
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                timeout = IDLE_TIMEOUT_S if head is None else READ_TIMEOUT_S
                try:
                    data = await asyncio.wait_for(reader.read(READ_CHUNK), timeout)
                except TimeoutError:
                    return None
                connection.receive_data(data)  # b"" tells h11 the client closed
            elif isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY_BYTES:
                    return None
            elif isinstance(event, h11.EndOfMessage) and head is not None:
                return _Incoming(
                    method=head.method.decode("ascii"),
                    target=head.target.decode("latin-1"),
                    headers=[(name.lower(), value) for name, value in head.headers],
                    body=bytes(body),
                )
            else:  # ConnectionClosed, PAUSED, or an end without a start
                return None

    async def _handle(
        self, connection: h11.Connection, writer: asyncio.StreamWriter, incoming: _Incoming
    ) -> bool:
        """Carry out the next action; whether the connection stays open."""
        action = self._next_action()
        if isinstance(action, CloseBeforeForwarding):
            self._record(incoming, action, None)
            return False
        if isinstance(action, Answer):
            self._record(incoming, action, None)
            headers = [(b"content-type", b"application/json")]
            if action.retry_after is not None:
                headers.append((b"retry-after", action.retry_after.encode("latin-1")))
            await self._send(connection, writer, incoming, action.status, headers, action.content())
            return True
        try:
            answer = await self._forward(incoming)
        except httpx.HTTPError as error:
            self._record(incoming, action, None)
            message = f"chaos proxy: the upstream failed: {type(error).__name__}".encode()
            await self._send(connection, writer, incoming, 502, [], message)
            return True
        self._record(incoming, action, answer)
        if isinstance(action, LoseAnswer):
            return False
        if isinstance(action, AnswerLate):
            await asyncio.sleep(action.delay)
        await self._send(
            connection, writer, incoming, answer.status_code, answer.headers.raw, answer.content
        )
        return True

    async def _forward(self, incoming: _Incoming) -> httpx.Response:
        assert self._client is not None
        headers = [(name, value) for name, value in incoming.headers if name not in HOP_BY_HOP]
        return await self._client.request(
            incoming.method, self.upstream + incoming.target, headers=headers, content=incoming.body
        )

    async def _send(
        self,
        connection: h11.Connection,
        writer: asyncio.StreamWriter,
        incoming: _Incoming,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        kept = [(name, value) for name, value in headers if name.lower() not in HOP_BY_HOP]
        bodiless = status in (204, 304) or status < 200 or incoming.method == "HEAD"
        if not bodiless:
            kept.append((b"content-length", str(len(body)).encode()))
        data = connection.send(h11.Response(status_code=status, headers=kept)) or b""
        if body and not bodiless:
            data += connection.send(h11.Data(data=body)) or b""
        data += connection.send(h11.EndOfMessage()) or b""
        writer.write(data)
        await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT_S)

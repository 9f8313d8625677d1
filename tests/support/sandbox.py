"""Helpers for the sandbox tests: the reference OpenAPI as JSON Schema, a notification
receiver on loopback, a hand-moved clock, and a connector's naive SKU-to-listing mapping."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jsonschema_rs
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sentoffers.sandbox import serve_in_thread
from sentoffers.sandbox._data import CATEGORY_MAP

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_ENV_VAR = "SENTOFFERS_VTEX_REFERENCE"
REFERENCE_CANDIDATES = (REPO_ROOT / "tests" / "reference" / "vtex-platform-subset.openapi.json",)


def load_reference() -> dict[str, Any]:
    """vtex-platform-subset.openapi.json; a missing file fails the test, never skips it."""
    given = os.environ.get(REFERENCE_ENV_VAR)
    candidates = (Path(given),) if given else REFERENCE_CANDIDATES
    for path in candidates:
        if path.exists():
            reference: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return reference
    raise AssertionError(
        f"vtex-platform-subset.openapi.json is not at {', '.join(map(str, candidates))}; "
        f"set {REFERENCE_ENV_VAR} to its path"
    )


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's ``type: [t, "null"]``, everywhere."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "example"}
    if node.get("nullable") is True and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    converted.pop("nullable", None)
    return converted


def response_validator(reference: dict[str, Any], path: str, method: str) -> Any:
    """A validator of the 200 JSON body of one reference operation, ``$ref``s resolved."""
    operation = reference["paths"][path][method]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    root = {**_json_schema(schema), "components": _json_schema(reference["components"])}
    return jsonschema_rs.Draft7Validator(root)


def reference_example(reference: dict[str, Any], path: str, method: str) -> Any:
    operation = reference["paths"][path][method]
    return operation["responses"]["200"]["content"]["application/json"]["example"]


class Receiver:
    """An affiliate endpoint on loopback that records what it is sent.

    ``fail_next`` answers that many requests with ``fail_status`` before accepting again;
    ``delay`` (seconds) holds each answer back, and ``max_in_flight`` says how many requests
    were being answered at once, at most.
    """

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self.fail_next = 0
        self.fail_status = 503
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/api/notification/")
        async def notification(request: Request) -> JSONResponse:
            body = json.loads(await request.body())
            with self._lock:
                self.requests += 1
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                if self.delay:
                    await asyncio.sleep(self.delay)
                with self._lock:
                    if self.fail_next > 0:
                        self.fail_next -= 1
                        return JSONResponse({"error": "try later"}, status_code=self.fail_status)
                    self.bodies.append(body)
                return JSONResponse({"ok": True})
            finally:
                with self._lock:
                    self.in_flight -= 1

        self.app = app

    def take(self) -> list[dict[str, Any]]:
        """The bodies accepted so far, then forget them."""
        with self._lock:
            bodies, self.bodies = self.bodies, []
            return bodies


@contextmanager
def receiver_on_loopback() -> Iterator[tuple[Receiver, str]]:
    """A running ``Receiver`` and its notification URL."""
    receiver = Receiver()
    server = serve_in_thread(receiver.app)
    try:
        yield receiver, f"{server.url}/api/notification/"
    finally:
        server.stop()


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def listing_from_sku(context: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    """What a naive connector sends the marketplace for a SKU: no checks of its own.

    An unmapped category is sent as its VTEX id, which the marketplace does not know.
    """
    dimension = context["Dimension"]
    return {
        "sku": str(context["Id"]),
        "title": context["NameComplete"],
        "description": product["Description"],
        "brand": context["BrandName"],
        "category": CATEGORY_MAP.get(product["CategoryId"], f"vtex:{product['CategoryId']}"),
        "ean": context["AlternateIds"]["Ean"],
        "images": [image["ImageUrl"] for image in context["Images"]],
        "dimensions": {
            "height": dimension["height"],
            "width": dimension["width"],
            "length": dimension["length"],
            "weight": dimension["weight"],
        },
    }

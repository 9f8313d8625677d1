"""HTTP calls as a log's evidence: the request as a cURL command, the response as its status
line and body, with every secret masked.

Secrets are headers (``Authorization``, ``X-VTEX-API-AppToken``, cookies) and fields whose
name says so (``client_secret``, ``access_token``, ``password``) in JSON or form bodies, in
requests and responses alike. The seller reads evidence in the service's UI: it must be
enough to reproduce a call, and never enough to make one with someone else's credentials.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from sentoffers.client import Evidence, evidence
from sentoffers.connector.model import Exchange

__all__ = ["MASK", "as_curl", "exchange_evidence", "mask_text", "response_text"]

MASK = "***"
BODY_LIMIT = 20_000
"""Characters of a body kept in evidence; the rest is cut with a note of how much."""

_SECRET_HEADERS = frozenset(
    {"authorization", "x-vtex-api-apptoken", "vtexidclientautcookie", "cookie", "set-cookie"}
)
_SECRET_FIELD = re.compile(r"secret|password|token|apptoken", re.IGNORECASE)
# Header lines or query parameters that hold a secret written out in text.
_SECRET_IN_TEXT = re.compile(
    r"((?:client_secret|access_token|refresh_token|password|apptoken)[\"']?\s*[:=]\s*[\"']?)"
    r"([^\"'&\s,}]+)",
    re.IGNORECASE,
)


def _cut(text: str) -> str:
    if len(text) <= BODY_LIMIT:
        return text
    return f"{text[:BODY_LIMIT]}… ({len(text) - BODY_LIMIT} more characters)"


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: MASK if _SECRET_FIELD.search(str(key)) and value[key] else _mask_json(value[key])
            for key in value
        }
    if isinstance(value, list):
        return [_mask_json(item) for item in value]
    return value


def mask_text(text: str, content_type: str = "") -> str:
    """A body with its secret fields masked: JSON by key, forms by field, other text by
    ``name=value`` patterns."""
    if not text:
        return text
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.dumps(_mask_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    if "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        return urlencode([(k, MASK if _SECRET_FIELD.search(k) else v) for k, v in pairs])
    return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + MASK, text)


def _header_value(name: str, value: str) -> str:
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, _, credentials = value.partition(" ")
    # Keep the scheme (Bearer, Basic): it tells how the call authenticated.
    return f"{scheme} {MASK}" if credentials and scheme.isalpha() else MASK


def _request_body(request: httpx.Request) -> str:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return ""
    return content.decode("utf-8", "replace")


def as_curl(request: httpx.Request) -> str:
    """The request as a cURL command line, one option per line, secrets masked:
    ``curl -X GET 'http://h/x'`` then ``-H 'Authorization: Bearer ***'``."""
    url = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + MASK, str(request.url))
    parts = [f"curl -X {request.method} {shlex.quote(url)}"]
    skipped = {"host", "content-length", "accept-encoding", "connection", "user-agent"}
    for name, value in request.headers.multi_items():
        if name.lower() in skipped:
            continue
        parts.append(f"-H {shlex.quote(f'{_canonical(name)}: {_header_value(name, value)}')}")
    body = _request_body(request)
    if body:
        masked = mask_text(body, request.headers.get("content-type", ""))
        parts.append(f"--data-raw {shlex.quote(_cut(masked))}")
    return " \\\n  ".join(parts)


def _canonical(name: str) -> str:
    special = {
        "x-vtex-api-appkey": "X-VTEX-API-AppKey",
        "x-vtex-api-apptoken": "X-VTEX-API-AppToken",
    }
    return special.get(name.lower(), "-".join(part.capitalize() for part in name.split("-")))


def response_text(response: httpx.Response) -> str:
    """``HTTP 422 Unprocessable Entity`` then the body, secrets masked."""
    try:
        body = response.text
    except httpx.ResponseNotRead:
        body = ""
    masked = mask_text(body, response.headers.get("content-type", ""))
    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    retry_after = response.headers.get("retry-after")
    if retry_after:
        status += f"\nRetry-After: {retry_after}"
    return f"{status}\n{_cut(masked)}".rstrip()


def exchange_evidence(exchange: Exchange) -> Evidence:
    """A log's evidence for one call: the cURL and the answer (or why none came)."""
    if exchange.response is not None:
        answer = response_text(exchange.response)
    else:
        answer = f"no answer: {exchange.error or 'unknown error'}"
    if exchange.retries:
        tried = "; ".join(
            f"{retry.status or 'no answer'} ({retry.detail}), waited {retry.waited:.1f}s"
            for retry in exchange.retries
        )
        answer = f"{answer}\n\nearlier attempts: {tried}"
    return evidence(as_curl(exchange.request), answer)

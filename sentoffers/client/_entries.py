"""Building a log's error entries and evidence from the error-code list.

A connector reports an error with a known code, optionally followed by its own suffix
(``CTLG-006-001``: the description was refused, in the connector's first way of saying
so); anything the connector cannot classify goes as ``NTMAP-001`` with the channel's raw
answer as evidence, so the seller sees it and the code list can grow from it.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from sentoffers.contract.interactions import ErrorIn, EvidenceIn, LogCreate
from sentoffers.domain.model import LogType, Origin
from sentoffers.domain.vocabulary import parse_origin

__all__ = [
    "ChannelError",
    "KnownCode",
    "error_entry",
    "evidence",
    "exception_failure",
    "unmapped_failure",
]

EVIDENCE_LIMIT = 100_000
"""Characters kept of a request or response given as evidence."""

_SUFFIX = re.compile(r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$")


class KnownCode(enum.StrEnum):
    """The error codes every service starts with (its list may hold more)."""

    AUTH_001 = "AUTH-001"
    """Authorization the seller can fix in the connector's settings."""
    AUTH_002 = "AUTH-002"
    """Authorization the seller depends on someone else to fix."""
    CTLG_001 = "CTLG-001"
    """Catalog mapping other than variation, attribute or category (brand, a channel field)."""
    CTLG_002 = "CTLG-002"
    """Variation (SKU specification) mapping."""
    CTLG_003 = "CTLG-003"
    """Attribute (product specification) mapping."""
    CTLG_004 = "CTLG-004"
    """Category mapping."""
    CTLG_005 = "CTLG-005"
    """Product information, when no other catalog code fits."""
    CTLG_006 = "CTLG-006"
    """Description refused by the channel (too long, HTML, missing)."""
    CTLG_007 = "CTLG-007"
    """Images refused by the channel."""
    CTLG_008 = "CTLG-008"
    """Dimensions or weight refused by the channel."""
    CTLG_009 = "CTLG-009"
    """Title refused by the channel."""
    CTLG_010 = "CTLG-010"
    """Identifier (EAN, ISBN, UPC) refused or missing."""
    CTLG_011 = "CTLG-011"
    """The channel's business rules, which the seller cannot change."""
    CTLG_012 = "CTLG-012"
    """Ad moderated by the channel."""
    INVNT_001 = "INVNT-001"
    """Anything that blocks an inventory update."""
    NTMAP_001 = "NTMAP-001"
    """Not mapped by the connector: the channel said something new."""
    PRICE_001 = "PRICE-001"
    """Anything that blocks a price update."""


def error_entry(
    code: KnownCode | str,
    suffix: str | None = None,
    *,
    description: str | None = None,
    title: str | None = None,
    external_code: str | None = None,
    closable_origins: Iterable[Origin | str] | None = None,
) -> ErrorIn:
    """One entry of a log's ``errors``: ``code`` plus an optional connector ``suffix``.

    >>> error_entry(KnownCode.CTLG_006, "001", description="Description over 4000 characters").code
    'CTLG-006-001'

    ``closable_origins`` lists the origins whose successful interaction clears this error
    (by default, only an interaction of the origin that raised it).
    """
    code = str(code).strip()
    if suffix is not None:
        suffix = suffix.strip().strip("-")
        if not _SUFFIX.match(suffix):
            raise ValueError(f"a code suffix is letters and digits, got {suffix!r}")
        code = f"{code}-{suffix}"
    return ErrorIn(
        code=code,
        description=description,
        title=title,
        external_code=external_code,
        closable_origins=[parse_origin(origin) for origin in closable_origins or ()],
    )


def evidence(request: Any = None, response: Any = None) -> EvidenceIn:
    """A log's evidence from what the connector sent and what the channel answered.

    Either may be text, bytes, JSON-able data, or an ``httpx.Request``/``httpx.Response``.
    """
    return EvidenceIn(request=_text(request), response=_text(response))


def unmapped_failure(
    channel_response: Any,
    *,
    request: Any = None,
    description: str | None = None,
    external_code: str | None = None,
    title: str | None = None,
    agent: str = "",
) -> LogCreate:
    """A Failure log for an answer the connector cannot classify: ``NTMAP-001``, with the
    channel's raw answer as evidence."""
    raw = _text(channel_response) or ""
    body = _response_body(channel_response) if isinstance(channel_response, httpx.Response) else raw
    summary = description or _summary(body) or "the channel refused the offer"
    entry = error_entry(
        KnownCode.NTMAP_001, description=summary, title=title, external_code=external_code
    )
    return LogCreate(
        type=LogType.FAILURE,
        description=summary,
        agent=agent,
        evidence=evidence(request, raw),
        errors=[entry],
    )


class ChannelError(Exception):
    """Raise inside ``client.interaction(...)`` when the channel refuses an offer: the
    interaction logs a Failure with this code and evidence, then closes. For example
    ``raise ChannelError("Title over 60 characters", code="CTLG-009", response=answer)``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: KnownCode | str = KnownCode.NTMAP_001,
        suffix: str | None = None,
        external_code: str | None = None,
        request: Any = None,
        response: Any = None,
    ) -> None:
        super().__init__(message)
        self.entry = error_entry(code, suffix, description=message, external_code=external_code)
        self.evidence = evidence(request, response)


def exception_failure(error: BaseException, *, agent: str = "") -> LogCreate:
    """The Failure log for an exception raised while an interaction was open."""
    if isinstance(error, ChannelError):
        entry, proof = error.entry, error.evidence
    else:
        message = str(error) or type(error).__name__
        entry = error_entry(
            KnownCode.NTMAP_001, description=message, external_code=type(error).__name__
        )
        proof = _exception_evidence(error)
    return LogCreate(
        type=LogType.FAILURE,
        description=entry.description or type(error).__name__,
        agent=agent,
        evidence=proof,
        errors=[entry],
    )


def _exception_evidence(error: BaseException) -> EvidenceIn:
    if isinstance(error, httpx.HTTPStatusError):
        return evidence(error.request, error.response)
    if isinstance(error, httpx.RequestError):
        try:
            return evidence(error.request, f"{type(error).__name__}: {error}")
        except RuntimeError:  # no request attached
            pass
    return evidence(None, f"{type(error).__name__}: {error}")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, httpx.Request):
        body = value.content.decode("utf-8", "replace") if _has_content(value) else ""
        text = f"{value.method} {value.url}\n{body}".rstrip()
    elif isinstance(value, httpx.Response):
        text = f"{value.status_code} {value.reason_phrase}\n{_response_body(value)}".rstrip()
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text[:EVIDENCE_LIMIT]


def _has_content(request: httpx.Request) -> bool:
    try:
        request.content  # noqa: B018 - raises for an unread stream
    except httpx.RequestNotRead:
        return False
    return True


def _response_body(response: httpx.Response) -> str:
    try:
        return response.text
    except httpx.ResponseNotRead:
        return ""


def _summary(raw: str) -> str:
    """A one-line description of a channel's answer: its message field, or its first line."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if isinstance(payload, Mapping):
        for key in ("message", "error_description", "error", "detail", "title"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()[:1000]
    first = raw.strip().splitlines()[0] if raw.strip() else ""
    return first[:1000]

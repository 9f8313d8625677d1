"""The words real connectors send, mapped onto the domain's vocabulary.

Connectors written for the original service send what the .NET SDK serializes: ``"Info"``
for ``information``, ``"Synchronized"`` for ``synced``, .NET's default date format, and so on.
Each parser accepts those spellings and raises ``ValueError`` with a readable message for
anything it cannot understand.

Text is read by one of three rules (``parse_line``, ``parse_free_text``, ``escape_nul``): no
control character reaches the store, where PostgreSQL cannot hold NUL and an id holding an
invisible character could never be typed again to find what it names.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sentoffers.domain.model import Context, DataStatus, LogType, Origin, Result, Source

E = TypeVar("E", bound=enum.StrEnum)

_LOG_TYPES: dict[str, LogType] = {
    "information": LogType.INFORMATION,
    "info": LogType.INFORMATION,
    "success": LogType.SUCCESS,
    "warning": LogType.WARNING,
    "warn": LogType.WARNING,
    "failure": LogType.FAILURE,
    "fail": LogType.FAILURE,
    "error": LogType.FAILURE,
}

_DATA_STATUSES: dict[str, DataStatus] = {
    "synced": DataStatus.SYNCED,
    "synchronized": DataStatus.SYNCED,
    "synched": DataStatus.SYNCED,
    "sending": DataStatus.SENDING,
    "error": DataStatus.ERROR,
    "unavailable": DataStatus.UNAVAILABLE,
    "disabled": DataStatus.DISABLED,
}

_CONTEXTS: dict[str, Context] = {
    "setup": Context.SETUP,
    "ongoing": Context.ONGOING,
    # The SDK document's InteractionContextType names the ongoing context "sync".
    "sync": Context.ONGOING,
}


def _lookup(table: dict[str, E], value: object, what: str) -> E:
    key = str(value).strip().lower() if value is not None else ""
    try:
        return table[key]
    except KeyError:
        choices = ", ".join(sorted({v.value for v in table.values()}))
        raise ValueError(f"unknown {what} {value!r}; expected one of: {choices}") from None


def parse_log_type(value: object) -> LogType:
    return _lookup(_LOG_TYPES, value, "log type")


def parse_data_status(value: object) -> DataStatus:
    return _lookup(_DATA_STATUSES, value, "offer status")


def parse_context(value: object) -> Context:
    return _lookup(_CONTEXTS, value, "context")


def parse_source(value: object) -> Source:
    return _lookup({s.value: s for s in Source}, value, "source")


def parse_origin(value: object) -> Origin:
    return _lookup({o.value: o for o in Origin}, value, "origin")


def parse_result(value: object) -> Result:
    return _lookup({r.value: r for r in Result}, value, "result")


# .NET's DateTime.ToString() in the invariant and en-US cultures, and dd/MM in others.
_DOTNET_DATE = re.compile(
    r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?)?$"
)
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_date(value: object, now: datetime | None = None) -> datetime:
    """Parse a connector's date into an aware UTC datetime.

    Accepts ``2020-10-29``, ISO 8601 with or without a zone (up to 7 fractional digits, as
    .NET's round-trip format writes), and .NET's ``DateTime.ToString()`` in its cultures'
    orders (see ``_parse_dotnet``). Dates without a zone are taken as UTC. A date whose UTC
    time falls outside years 1 to 9999 (such as ``0001-01-01T00:00:00+01:00``) is a
    ``ValueError`` like any other unreadable date.
    """
    try:
        return _parse_date(value, now)
    except OverflowError:
        # Python's datetime stops at year 9999; a zone can push a date past either end.
        raise ValueError(
            f"invalid date {value!r}: in UTC it falls outside the years 1 to 9999"
        ) from None


def _parse_date(value: object, now: datetime | None) -> datetime:
    if isinstance(value, datetime):
        return _as_utc(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"invalid date {value!r}; expected ISO 8601 or yyyy-MM-dd")
    text = value.strip()
    match = _DOTNET_DATE.match(text)
    if match:
        return _parse_dotnet(match, text, now)
    iso = _FRACTION.sub(r"\1", text)
    if iso.endswith(("z", "Z")):
        iso = iso[:-1] + "+00:00"
    try:
        if len(iso) == 10:
            return datetime.combine(date.fromisoformat(iso), time(), tzinfo=UTC)
        return _as_utc(datetime.fromisoformat(iso))
    except ValueError:
        raise ValueError(f"invalid date {value!r}; expected ISO 8601 or yyyy-MM-dd") from None


# A date written as DateTime.Now is this close to the moment it arrives.
_JUST_WRITTEN = timedelta(days=2)


def _parse_dotnet(match: re.Match[str], text: str, now: datetime | None) -> datetime:
    """``DateTime.ToString()``: ``M/d/yyyy h:mm:ss tt`` in en-US, ``MM/dd/yyyy HH:mm:ss`` in
    the invariant culture, ``dd/MM/yyyy HH:mm:ss`` in pt-BR and most others.

    When the first number cannot be a month it is the day. When both could be, the month
    comes first (as en-US and the invariant culture write), unless there is no AM/PM and
    only the day-first reading falls within two days of ``now``: a connector's
    ``DateTime.Now`` in pt-BR, written a moment ago.
    """
    a, b = int(match["a"]), int(match["b"])
    hour = int(match["hour"] or 0)
    ampm = (match["ampm"] or "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    year, minute, second = int(match["year"]), int(match["minute"] or 0), int(match["second"] or 0)

    def on(month: int, day: int) -> datetime | None:
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return None

    first = on(a, b) if a <= 12 else on(b, a)
    if first is None:
        raise ValueError(f"invalid date {text!r}")
    if a <= 12 and b <= 12 and a != b and not ampm:
        reference = now or datetime.now(UTC)
        day_first = on(b, a)
        if day_first is not None and abs(day_first - reference) <= _JUST_WRITTEN < abs(
            first - reference
        ):
            return day_first
    return first


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def end_of_day(value: datetime) -> datetime:
    """The last instant of ``value``'s day: a day given as an upper bound includes all of it.

    No arithmetic, so the last day of year 9999 has an end too.
    """
    return value.replace(hour=23, minute=59, second=59, microsecond=999_999)


def format_date(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as the contract's examples show."""
    text = _as_utc(value).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


# Text. C0 controls, DEL and C1 controls: invisible, and NUL cannot be stored in PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Free text keeps its layout: tabs, line feeds and carriage returns.
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
NUL_ESCAPE = "\\u0000"
"""What ``escape_nul`` writes for a NUL: the six characters of its JSON escape."""


def parse_line(value: str) -> str:
    """Text for ids, names, codes and parameters: printable characters on one line.

    Raises ``ValueError`` naming the first control character found (tab and line breaks
    included) and where it is.
    """
    found = _CONTROL.search(value)
    if found:
        raise ValueError(
            f"{_control_at(found)}; ids, names and codes take printable characters only"
        )
    return value


def parse_free_text(value: str) -> str:
    """Text written for people (descriptions, titles): it may also hold tabs and line breaks,
    but no other control character, NUL least of all."""
    found = _CONTROL_BUT_LAYOUT.search(value)
    if found:
        raise ValueError(
            f"{_control_at(found)}; text may hold tabs and line breaks, "
            "but no other control character"
        )
    return value


def escape_nul(value: str) -> str:
    """Text kept as it was sent (evidence: a marketplace's raw request or response), with
    each NUL written as its visible escape ``\\u0000``: PostgreSQL text cannot hold NUL.

    Escaping rather than refusing: the connector copied what the marketplace sent, and the
    seller reads it better with the NUL shown than with the whole log refused.
    """
    return value.replace("\x00", NUL_ESCAPE)


def _control_at(found: re.Match[str]) -> str:
    return (
        f"the value holds the control character U+{ord(found.group()):04X} "
        f"at character {found.start() + 1}"
    )

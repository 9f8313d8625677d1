"""Identifiers: 32 upper-case hex digits, as the original service issued them, the
channels' ids made of their vendor and name, and the sellers' SKU ids.

What each kind of id is, and so how two spellings of one id are matched, is said once here,
one function per kind: ``normalize_id`` (the ids the service issues: interactions, logs),
``normalize_feed_id`` (feeds and their channels) and ``normalize_sku_id`` (SKUs). The API and
the web UI apply them to the ids a request names; the features take ids so normalised.

New ids are time-ordered (milliseconds, then a per-process counter, then randomness, in
the manner of UUIDv7), so rows written in one instant sort in the order they were made
and index inserts land at the end of the B-tree.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
import unicodedata

from sentoffers.domain.errors import InvalidInput, Problem

_counter = itertools.count()
_lock = threading.Lock()


def new_id() -> str:
    """A new time-ordered identifier of 32 upper-case hex digits."""
    with _lock:
        sequence = next(_counter) & 0xFFFF
        millis = time.time_ns() // 1_000_000
    return f"{millis:012X}{sequence:04X}{secrets.token_hex(8).upper()}"


def normalize_id(value: str) -> str:
    """An id the service issued is matched without regard to case or the blanks around it:
    it is written in upper case."""
    return value.strip().upper()


_NOT_SLUG = re.compile(r"[^a-z0-9]+")
MAX_CHANNEL_ID_LENGTH = 128
"""What a channel id may hold (a feed's id is its channel's; the store's columns hold it)."""
MAX_SKU_ID_LENGTH = 128
"""What an SKU id may hold."""


def normalize_feed_id(value: str) -> str:
    """A feed's id is its channel's, made in lower case (``channel_id``), and is matched
    without regard to case: ``VTEX.Amazon`` names the feed ``vtex.amazon``."""
    return value.lower()


def normalize_sku_id(value: str) -> str:
    """An SKU id is the seller's own, matched in its case; the blanks around it are not
    part of it, and 1 to ``MAX_SKU_ID_LENGTH`` characters are left.

    Raises ``ValueError`` for an SKU id that is blank or too long.
    """
    sku_id = value.strip()
    if not sku_id or len(sku_id) > MAX_SKU_ID_LENGTH:
        raise ValueError(f"the SKU id must hold 1 to {MAX_SKU_ID_LENGTH} characters")
    return sku_id


def slugify(text: str) -> str:
    """``Mercado Livre Clássico`` becomes ``mercado-livre-classico``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


def channel_id(vendor: str, name: str) -> str:
    """The id of the channel ``name`` of ``vendor``: ``vendor.channel-slug``."""
    vendor_slug, name_slug = slugify(vendor), slugify(name)
    problems = []
    if not vendor_slug:
        problems.append(("vendor", "the vendor must hold at least one letter or digit"))
    if not name_slug:
        problems.append(("name", "the name must hold at least one letter or digit"))
    new_id = f"{vendor_slug}.{name_slug}"
    if not problems and len(new_id) > MAX_CHANNEL_ID_LENGTH:
        too_long = f"the channel id would be over {MAX_CHANNEL_ID_LENGTH} characters"
        problems.append(("name", f"{too_long}: shorten the vendor or the name"))
    if problems:
        raise InvalidInput.of([Problem("invalid", message, field) for field, message in problems])
    return new_id

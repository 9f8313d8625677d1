"""Identifiers: 32 upper-case hex digits, as the original service issued them.

New ids are time-ordered (milliseconds, then a per-process counter, then randomness, in
the manner of UUIDv7), so rows written in one instant sort in the order they were made
and index inserts land at the end of the B-tree.
"""

import itertools
import secrets
import threading
import time

_counter = itertools.count()
_lock = threading.Lock()


def new_id() -> str:
    """A new time-ordered identifier of 32 upper-case hex digits."""
    with _lock:
        sequence = next(_counter) & 0xFFFF
        millis = time.time_ns() // 1_000_000
    return f"{millis:012X}{sequence:04X}{secrets.token_hex(8).upper()}"


def normalize_id(value: str) -> str:
    """Identifiers are matched without regard to case."""
    return value.strip().upper()

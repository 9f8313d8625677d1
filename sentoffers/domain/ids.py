"""Identifiers: 32 upper-case hex digits, as the original service issued them."""

import uuid


def new_id() -> str:
    """A new random identifier of 32 upper-case hex digits."""
    return uuid.uuid4().hex.upper()


def normalize_id(value: str) -> str:
    """Identifiers are matched without regard to case."""
    return value.strip().upper()

"""Error codes: resolving a connector's code, and fingerprints of unmapped errors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass

from sentoffers.domain.model import UNMAPPED_CODE


@dataclass(frozen=True, slots=True)
class ResolvedCode:
    """What a connector's error code means: its base code and whether it is known."""

    code: str
    error_code_id: str
    suffix: str | None
    mapped: bool


def resolve_error_code(code: str, known_codes: Collection[str]) -> ResolvedCode:
    """Resolve ``code`` against the known codes.

    A code is mapped when it is a known code, or a known code followed by a connector
    suffix (``CTLG-005-001`` has the base ``CTLG-005``). Anything else is kept as sent and
    classified as ``NTMAP-001``, so the seller still sees the error.
    """
    sent = code.strip()
    upper = sent.upper()
    if upper in known_codes:
        return ResolvedCode(sent, upper, None, True)
    # Longest known prefix first, so a base code that is itself a prefix of another wins less.
    parts = upper.split("-")
    for cut in range(len(parts) - 1, 0, -1):
        base = "-".join(parts[:cut])
        if base in known_codes:
            return ResolvedCode(sent, base, "-".join(parts[cut:]), True)
    return ResolvedCode(sent, UNMAPPED_CODE, None, False)


# A single quote inside a word is an apostrophe (seller's, can't), not the start of a value.
_QUOTED = re.compile(r"\"[^\"]*\"|(?<!\w)'.*?'(?!\w)|`[^`]*`|“[^”]*”")
_IDENTIFIER = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"  # UUIDs
    r"|\b[0-9a-f]{16,}\b"  # long hex ids
    r"|\b[a-z]*\d[\w.-]*\b",  # any token holding a digit: numbers, skus, versions
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def normalize_description(description: str) -> str:
    """The shape of an error description: quoted values, ids and numbers stripped."""
    text = _QUOTED.sub("<v>", description)
    text = _IDENTIFIER.sub("<n>", text)
    return _SPACES.sub(" ", text).strip().lower()


def fingerprint(description: str) -> str:
    """A stable key grouping unmapped errors whose descriptions differ only in values."""
    return hashlib.sha1(normalize_description(description).encode()).hexdigest()[:16]

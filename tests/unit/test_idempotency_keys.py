"""Idempotency keys: which keys are valid, what makes two requests the same, whose scope,
which answers are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sentoffers.domain.idempotency import (
    idempotency_key_problem,
    is_kept,
    lock_id,
    request_fingerprint,
)
from sentoffers.domain.model import Role
from sentoffers.server.features.keys import Principal
from sentoffers.server.settings import Settings
from sentoffers.server.web.api.idempotency import scope_account

REQUEST = ("POST", "/api/sent-offers/feeds", b"an=acme", b'{"id": "vtex.amazon"}')


@pytest.mark.parametrize("key", ["a", "9f1c-uuid-like-0001", "!~", "x" * 255])
def test_keys_of_1_to_255_visible_ascii_characters_are_valid(key: str) -> None:
    assert idempotency_key_problem(key) is None


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("", "empty"),
        ("x" * 256, "over 255"),
        ("two words", "visible ASCII"),
        ("tab\there", "visible ASCII"),
        ("caf\u00e9", "visible ASCII"),
        ("del\x7f", "visible ASCII"),
    ],
)
def test_other_keys_are_refused_with_a_reason(key: str, says: str) -> None:
    problem = idempotency_key_problem(key)
    assert problem is not None
    assert says in problem


def test_the_same_request_has_the_same_fingerprint() -> None:
    fingerprint = request_fingerprint(*REQUEST, caller="key-1")
    assert fingerprint == request_fingerprint(*REQUEST, caller="key-1")
    assert len(fingerprint) == 64
    assert int(fingerprint, 16) >= 0
    assert request_fingerprint("post", *REQUEST[1:], caller="key-1") == fingerprint


@pytest.mark.parametrize(
    "changed",
    [
        ("PUT", *REQUEST[1:]),
        ("POST", "/api/sent-offers/channels", *REQUEST[2:]),
        (*REQUEST[:2], b"an=globex", REQUEST[3]),
        (*REQUEST[:3], b'{"id": "vtex.netshoes"}'),
        (*REQUEST[:3], b""),
    ],
)
def test_any_other_method_path_query_or_body_changes_the_fingerprint(
    changed: tuple[str, str, bytes, bytes],
) -> None:
    assert request_fingerprint(*changed) != request_fingerprint(*REQUEST)


def test_other_credentials_change_the_fingerprint() -> None:
    assert request_fingerprint(*REQUEST, caller="key-1") != request_fingerprint(
        *REQUEST, caller="key-2"
    )


def test_bytes_moved_from_one_part_to_the_next_change_the_fingerprint() -> None:
    assert request_fingerprint("POST", "/a", b"b=1", b"") != request_fingerprint(
        "POST", "/a", b"b=", b"1"
    )


def principal(*accounts: str) -> Principal:
    return Principal("app-key", Role.CONNECTOR, frozenset(accounts))


def test_the_scope_is_the_an_parameter_stripped_when_sent() -> None:
    assert scope_account(" acme ", principal("globex")) == "acme"
    assert scope_account("acme", None) == "acme"


def test_without_an_the_scope_is_the_credentials_only_account_else_empty() -> None:
    assert scope_account(None, principal("acme")) == "acme"
    assert scope_account(None, principal("acme", "globex")) == ""
    assert scope_account(None, principal("*")) == ""
    assert scope_account(None, None) == ""


def test_the_ttl_is_24_hours_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().idempotency_ttl == timedelta(hours=24)
    monkeypatch.setenv("SENTOFFERS_IDEMPOTENCY_TTL_HOURS", "1.5")
    assert Settings().idempotency_ttl == timedelta(hours=1.5)
    monkeypatch.setenv("SENTOFFERS_IDEMPOTENCY_TTL_HOURS", "0")
    with pytest.raises(ValueError, match="greater than 0"):
        Settings()


@pytest.mark.parametrize(
    ("status", "kept"), [(200, True), (204, True), (409, True), (500, False), (503, False)]
)
def test_every_answer_but_a_5xx_is_kept_for_retries(status: int, kept: bool) -> None:
    assert is_kept(status) is kept


def test_a_keys_lock_id_is_a_signed_64_bit_number_of_its_account_and_key() -> None:
    lock = lock_id("acme", "k-1")

    assert lock == lock_id("acme", "k-1")
    assert -(2**63) <= lock < 2**63
    assert lock != lock_id("globex", "k-1")
    assert lock_id("ab", "c") != lock_id("a", "bc")  # moving a character changes it

"""Identifiers and the service errors the domain raises."""

from __future__ import annotations

import re

import pytest

from sentoffers.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Problem,
    ServiceError,
    Unauthorized,
)
from sentoffers.domain.ids import new_id, normalize_id


def test_new_id_is_32_upper_case_hex_digits() -> None:
    assert re.fullmatch(r"[0-9A-F]{32}", new_id())


def test_new_ids_differ() -> None:
    assert len({new_id() for _ in range(100)}) == 100


def test_ids_are_matched_without_regard_to_case() -> None:
    assert normalize_id(" 3db3542a2c93412298ac95964a66a995 ") == "3DB3542A2C93412298AC95964A66A995"


def test_invalid_input_carries_every_problem() -> None:
    problems = [
        Problem("invalid", "unknown log type 'Debug'", "type"),
        Problem("invalid", "invalid date 'soon'", "date"),
    ]

    error = InvalidInput.of(problems)

    assert error.problems == problems
    assert error.message == "unknown log type 'Debug'"
    assert error.status_code == 400


@pytest.mark.parametrize(
    ("error_type", "status", "code"),
    [
        (Unauthorized, 401, "unauthorized"),
        (Forbidden, 403, "forbidden"),
        (NotFound, 404, "not_found"),
        (Conflict, 409, "conflict"),
        (PayloadTooLarge, 413, "payload_too_large"),
    ],
)
def test_service_errors_carry_their_http_status_and_a_default_code(
    error_type: type[ServiceError], status: int, code: str
) -> None:
    error = error_type("went wrong", field="feedId")

    assert error.status_code == status
    assert error.problems == [Problem(code, "went wrong", "feedId")]
    assert str(error) == "went wrong"

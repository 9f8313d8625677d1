"""Identifiers and the service errors the domain raises."""

from __future__ import annotations

import re

import pytest

from sentoffers.contract.feeds import FeedCreate
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
from sentoffers.domain.ids import (
    MAX_SKU_ID_LENGTH,
    new_id,
    normalize_feed_id,
    normalize_id,
    normalize_sku_id,
)


def test_new_id_is_32_upper_case_hex_digits() -> None:
    assert re.fullmatch(r"[0-9A-F]{32}", new_id())


def test_new_ids_differ() -> None:
    assert len({new_id() for _ in range(100)}) == 100


def test_ids_are_matched_without_regard_to_case() -> None:
    assert normalize_id(" 3db3542a2c93412298ac95964a66a995 ") == "3DB3542A2C93412298AC95964A66A995"


def test_a_feed_id_is_matched_without_regard_to_case() -> None:
    assert normalize_feed_id("VTEX.Amazon") == "vtex.amazon"
    assert normalize_feed_id("vtex.amazon") == "vtex.amazon"


def test_a_feed_id_in_a_body_is_read_without_the_blanks_around_it() -> None:
    body = {"id": " VTEX.Amazon ", "affiliateId": "AMZ", "salesChannel": "1"}
    assert FeedCreate.model_validate(body).id == "vtex.amazon"


def test_an_sku_id_keeps_its_case_but_not_the_blanks_around_it() -> None:
    assert normalize_sku_id(" Sku-1a\t") == "Sku-1a"


@pytest.mark.parametrize("sku_id", ["", "   ", "x" * (MAX_SKU_ID_LENGTH + 1)])
def test_an_sku_id_holds_1_to_128_characters(sku_id: str) -> None:
    with pytest.raises(ValueError, match="the SKU id must hold 1 to 128 characters"):
        normalize_sku_id(sku_id)


def test_an_sku_id_of_128_characters_is_one() -> None:
    longest = "x" * MAX_SKU_ID_LENGTH
    assert normalize_sku_id(f"  {longest} ") == longest


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

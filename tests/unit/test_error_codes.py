"""Error codes: known codes, connector suffixes, unmapped codes and their fingerprints."""

from __future__ import annotations

import re

import pytest

from sentoffers.domain.error_codes import (
    ResolvedCode,
    fingerprint,
    normalize_description,
    resolve_error_code,
)
from sentoffers.domain.model import UNMAPPED_CODE
from sentoffers.domain.seed_error_codes import SEED_ERROR_CODES

KNOWN = frozenset(code.id for code in SEED_ERROR_CODES)


def test_seeded_codes_are_the_contract_codes() -> None:
    assert sorted(KNOWN) == [
        "AUTH-001",
        "AUTH-002",
        "CTLG-001",
        "CTLG-002",
        "CTLG-003",
        "CTLG-004",
        "CTLG-005",
        "CTLG-006",
        "CTLG-007",
        "CTLG-008",
        "CTLG-009",
        "CTLG-010",
        "CTLG-011",
        "CTLG-012",
        "INVNT-001",
        "NTMAP-001",
        "PRICE-001",
    ]
    assert len(SEED_ERROR_CODES) == len(KNOWN)
    assert all(code.type and code.description for code in SEED_ERROR_CODES)


def test_known_code_resolves_to_itself() -> None:
    assert resolve_error_code("CTLG-005", KNOWN) == ResolvedCode("CTLG-005", "CTLG-005", None, True)


def test_known_code_with_connector_suffix_resolves_to_base_code() -> None:
    assert resolve_error_code("CTLG-005-001", KNOWN) == ResolvedCode(
        "CTLG-005-001", "CTLG-005", "001", True
    )


def test_known_code_with_a_suffix_of_several_parts_resolves_to_base_code() -> None:
    resolved = resolve_error_code("PRICE-001-MELI-42", KNOWN)

    assert (resolved.error_code_id, resolved.suffix, resolved.mapped) == (
        "PRICE-001",
        "MELI-42",
        True,
    )


def test_code_is_resolved_without_regard_to_case_and_kept_as_sent() -> None:
    resolved = resolve_error_code(" ctlg-005-abc ", KNOWN)

    assert resolved.code == "ctlg-005-abc"
    assert resolved.error_code_id == "CTLG-005"
    assert resolved.mapped is True


def test_longest_known_base_code_wins() -> None:
    resolved = resolve_error_code("X-1-2-3", {"X-1", "X-1-2"})

    assert (resolved.error_code_id, resolved.suffix) == ("X-1-2", "3")


def test_unknown_code_is_kept_and_classified_unmapped() -> None:
    assert resolve_error_code("MELI-4031", KNOWN) == ResolvedCode(
        "MELI-4031", UNMAPPED_CODE, None, False
    )


@pytest.mark.parametrize("code", ["CTLG-0051", "CTLG", "CTLG005", "", "005-CTLG"])
def test_code_that_only_looks_like_a_known_code_is_unmapped(code: str) -> None:
    resolved = resolve_error_code(code, KNOWN)

    assert resolved.error_code_id == UNMAPPED_CODE
    assert resolved.mapped is False


def test_ntmap_code_sent_by_a_connector_is_a_known_code() -> None:
    assert resolve_error_code("NTMAP-001", KNOWN).mapped is True


def test_ntmap_code_with_a_suffix_is_a_known_code_classified_unmapped() -> None:
    resolved = resolve_error_code("ntmap-001-xyz", KNOWN)
    assert (resolved.error_code_id, resolved.suffix, resolved.mapped) == ("NTMAP-001", "XYZ", True)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("SKU 1234 has price 12.50 below 20", "SKU 98 has price 7 below 10.99"),
        ("Item MLB123456 was rejected", "Item MLB987 was rejected"),
        ('Attribute "Color" is not mapped', 'Attribute "Voltage" is not mapped'),
        ("Brand 'Acme' is unknown", "Brand 'Foo Bar' is unknown"),
        ("Value `x` invalid", "Value `yy zz` invalid"),
        ("Category “Shoes” is closed", "Category “Hats” is closed"),
        (
            "Product 3fa85f64-5717-4562-b3fc-2c963f66afa6 not found",
            "Product 0b7e0f9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b not found",
        ),
        ("Request deadbeefcafebabe0001 failed", "Request 0123456789abcdef0123 failed"),
        ("The product's title 'Blue shirt' is too long", "The product's title 'Hat' is too long"),
        ("Title  is   too long", "title is too long"),
    ],
)
def test_unmapped_descriptions_differing_only_in_values_share_a_fingerprint(
    one: str, other: str
) -> None:
    assert fingerprint(one) == fingerprint(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Title is too long", "Description is too long"),
        ("Warranty is required", "Warranty is not accepted"),
        ("Attribute 'Color' is not mapped", "Category 'Shoes' is not mapped"),
    ],
)
def test_different_descriptions_have_different_fingerprints(one: str, other: str) -> None:
    assert fingerprint(one) != fingerprint(other)


def test_normalized_description_strips_quoted_values_ids_and_numbers() -> None:
    text = "SKU 1234 of product 'Blue shirt' (id 3fa85f64-5717-4562-b3fc-2c963f66afa6) costs 9.90"

    assert normalize_description(text) == "sku <n> of product <v> (id <n>) costs <n>"


def test_normalized_description_keeps_apostrophes_of_words() -> None:
    assert normalize_description("The seller's SKU 12 can't be sent") == (
        "the seller's sku <n> can't be sent"
    )
    assert normalize_description("Category 'Men's shoes' isn't allowed") == (
        "category <v> isn't allowed"
    )


def test_fingerprint_is_sixteen_hex_digits_and_stable() -> None:
    value = fingerprint("Title is too long")

    assert re.fullmatch(r"[0-9a-f]{16}", value)
    assert value == fingerprint("Title is too long")
    # Stored fingerprints group errors across releases: the normalization must not drift.
    assert value == "bb36d548bb2f6976"

"""An offer field is declared once (``OFFER_FIELDS``); everything that carries offer data
holds to that list, so a field left out anywhere fails here, by name."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import BaseModel
from sqlalchemy import String, Text

from sentoffers.contract.interactions import DataIn
from sentoffers.contract.offers import NewValue, OfferSummary
from sentoffers.domain.model import OFFER_FIELDS, FieldKind, Offer, OfferData, OfferField
from sentoffers.domain.rules import OFFER_METADATA_FIELDS, OFFER_VALUE_FIELDS
from sentoffers.server.store.codec import data_from_json, data_to_json
from sentoffers.server.store.tables import offers
from sentoffers.server.web.ui.export import HEADER

FIELDS = pytest.mark.parametrize("field", OFFER_FIELDS, ids=lambda f: f.name)


def _attributes(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def _max_length(model: type[BaseModel], name: str) -> int | None:
    for rule in model.model_fields[name].metadata:
        if hasattr(rule, "max_length"):
            return int(rule.max_length)
    return None


@FIELDS
def test_every_offer_field_is_carried_by_a_logs_data_and_kept_by_the_offer(
    field: OfferField,
) -> None:
    assert field.name in _attributes(OfferData)
    assert field.name in _attributes(Offer)


def test_a_logs_data_carries_the_offer_fields_and_the_stated_status_alone() -> None:
    assert _attributes(OfferData) == {f.name for f in OFFER_FIELDS} | {"status"}


@FIELDS
def test_a_connector_sends_every_offer_field_under_its_wire_name_and_aliases(
    field: OfferField,
) -> None:
    assert DataIn.model_fields[field.name].alias == field.wire
    assert _max_length(DataIn, field.name) == field.max_length
    for spelling in (field.wire, *field.aliases):
        parsed = DataIn.model_validate({spelling: "x"})
        assert getattr(parsed, field.name) == "x"


@FIELDS
def test_every_offer_field_is_answered_in_the_offer_list(field: OfferField) -> None:
    assert OfferSummary.model_fields[field.name].alias == field.wire


@FIELDS
def test_every_offer_field_has_a_column_that_holds_its_longest_value(field: OfferField) -> None:
    column_type = offers.c[field.name].type
    if isinstance(column_type, String) and not isinstance(column_type, Text):
        assert column_type.length is not None
        assert column_type.length >= field.max_length
    else:
        assert isinstance(column_type, Text)


def test_what_an_interaction_set_is_the_fields_that_change_as_the_offer_sells() -> None:
    sold = {f.name for f in OFFER_FIELDS if f.sold}
    assert sold == set(NewValue.model_fields) - {"status"}


def test_a_failures_log_sets_no_value_and_metadata_is_set_whatever_happened() -> None:
    assert set(OFFER_VALUE_FIELDS) == {f.name for f in OFFER_FIELDS if f.kind == FieldKind.VALUE}
    assert set(OFFER_METADATA_FIELDS) == {
        f.name for f in OFFER_FIELDS if f.kind == FieldKind.METADATA
    }


def test_the_csv_export_has_a_column_for_every_exported_field() -> None:
    assert {f.name for f in OFFER_FIELDS if f.exported} <= set(HEADER)
    assert not {f.name for f in OFFER_FIELDS if not f.exported} & set(HEADER)


def test_a_logs_data_keeps_every_field_through_the_store() -> None:
    data = OfferData(**{f.name: f"{f.name}-value" for f in OFFER_FIELDS})
    stored = data_to_json(data)
    assert stored is not None
    assert set(stored) == {f.wire for f in OFFER_FIELDS}
    assert data_from_json(stored) == data

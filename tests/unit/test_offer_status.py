"""Offer status: Sending, Error, Synced and Unavailable, and the history of its changes."""

from __future__ import annotations

import pytest

from sentoffers.domain.model import (
    Context,
    DataStatus,
    LogType,
    OfferData,
    OfferStatus,
    Origin,
    StatusChange,
)
from sentoffers.domain.rules import (
    append_log,
    close_interaction,
    create_offer,
    merge_log_data,
    open_interaction,
)
from tests.unit.factories import (
    FEED_ID,
    SKU_ID,
    T0,
    at,
    failure_log,
    make_error,
    make_interaction,
    make_log,
    make_offer,
    notification_log,
    offer_in_error,
    success_log,
)

UNAVAILABLE_WORDS = pytest.mark.parametrize(
    "data_status", [DataStatus.UNAVAILABLE, DataStatus.DISABLED], ids=["unavailable", "disabled"]
)


# -- creation and Sending ---------------------------------------------------------------------


def test_first_interaction_creates_offer_in_sending() -> None:
    interaction = make_interaction(id="A" * 32, origin=Origin.CATALOG)

    offer, effects = create_offer(interaction, at(3))

    assert offer.status == OfferStatus.SENDING
    assert (offer.feed_id, offer.sku_id) == (FEED_ID, SKU_ID)
    assert offer.open_errors == []
    assert offer.created_at == at(3)
    assert offer.last_interaction_id == "A" * 32
    assert effects.status_changes == [
        StatusChange(
            None,
            OfferStatus.SENDING,
            "A" * 32,
            None,
            "first interaction on the SKU (catalog)",
            at(3),
        )
    ]


@pytest.mark.parametrize("context", [Context.SETUP, Context.ONGOING])
def test_first_interaction_creates_offer_in_sending_whatever_its_context(context: Context) -> None:
    offer, _ = create_offer(make_interaction(context=context), T0)

    assert offer.status == OfferStatus.SENDING


@pytest.mark.parametrize(
    "status", [OfferStatus.SYNCED, OfferStatus.UNAVAILABLE, OfferStatus.SENDING]
)
def test_setup_interaction_processing_puts_offer_in_sending(status: OfferStatus) -> None:
    offer = make_offer(status)
    interaction = make_interaction(id="S" * 32, context=Context.SETUP, origin=Origin.PRICE)

    effects = open_interaction(offer, interaction, at(1))

    assert offer.status == OfferStatus.SENDING
    assert offer.last_interaction_id == "S" * 32
    expected = [] if status == OfferStatus.SENDING else [status]
    assert [c.from_status for c in effects.status_changes] == expected


def test_ongoing_interaction_does_not_put_offer_in_sending() -> None:
    offer = make_offer(OfferStatus.SYNCED)

    effects = open_interaction(offer, make_interaction(context=Context.ONGOING), at(1))

    assert offer.status == OfferStatus.SYNCED
    assert effects.status_changes == []


def test_setup_interaction_does_not_move_offer_out_of_error() -> None:
    offer, errors = offer_in_error(make_error("CTLG-005"))

    effects = open_interaction(offer, make_interaction(id="S" * 32, context=Context.SETUP), at(1))

    assert offer.status == OfferStatus.ERROR
    assert offer.open_errors == errors
    assert effects.status_changes == []


def test_offer_in_error_stays_in_error_until_an_interaction_completes() -> None:
    offer, _ = offer_in_error(make_error("CTLG-005"), origin=Origin.CATALOG)
    fixing = make_interaction(id="S" * 32, context=Context.SETUP, origin=Origin.CATALOG)
    open_interaction(offer, fixing, at(1))
    append_log(offer, fixing, success_log(), at(2))

    assert offer.status == OfferStatus.ERROR

    close_interaction(offer, fixing, at(3))

    assert offer.status == OfferStatus.SYNCED


# -- failure logs -----------------------------------------------------------------------------


def test_failure_log_opens_its_errors_and_puts_offer_in_error() -> None:
    offer = make_offer(OfferStatus.SENDING)
    interaction = make_interaction(id="F" * 32, origin=Origin.CATALOG)
    log = failure_log(
        make_error("CTLG-005", closable_origins=(Origin.CATALOG, Origin.PRICE)),
        make_error("CTLG-002", title="Color not mapped"),
        id="L-fail",
        date=at(1),
    )

    effects = append_log(offer, interaction, log, at(2))

    assert offer.status == OfferStatus.ERROR
    assert [e.code for e in offer.open_errors] == ["CTLG-005", "CTLG-002"]
    assert effects.opened_errors == offer.open_errors
    first, second = offer.open_errors
    assert first.open is True
    assert first.origin == Origin.CATALOG
    assert first.closable_origins == (Origin.CATALOG, Origin.PRICE)
    assert (first.interaction_id, first.log_id, first.date) == ("F" * 32, "L-fail", at(1))
    assert second.title == "Color not mapped"
    assert second.closable_origins == ()
    assert first.id != second.id
    assert len(first.id) == 32


def test_failure_log_puts_offer_in_error_before_its_interaction_closes() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction()

    effects = append_log(offer, interaction, failure_log(make_error()), at(1))

    assert interaction.closed_at is None
    assert offer.status == OfferStatus.ERROR
    assert [(c.from_status, c.to_status) for c in effects.status_changes] == [
        (OfferStatus.SYNCED, OfferStatus.ERROR)
    ]


def test_failure_log_without_errors_still_puts_offer_in_error() -> None:
    offer = make_offer(OfferStatus.SYNCED)

    append_log(offer, make_interaction(), failure_log(), at(1))

    assert offer.status == OfferStatus.ERROR
    assert offer.open_errors == []


def test_failure_log_data_is_not_applied_to_offer() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    offer.price = "100"
    log = make_log(
        LogType.FAILURE,
        errors=(make_error("PRICE-001"),),
        data=OfferData(price="1", inventory="0", currency="USD", external_offer_id="MLB1"),
    )

    append_log(offer, make_interaction(origin=Origin.PRICE), log, at(1))

    assert offer.price == "100"
    assert (offer.inventory, offer.currency, offer.external_offer_id) == (None, None, None)


def test_failure_log_still_describes_the_sku() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    log = make_log(
        LogType.FAILURE,
        errors=(make_error("CTLG-006"),),
        data=OfferData(name="Blue shirt", brand="Acme", category="Shirts", price="1"),
    )

    append_log(offer, make_interaction(origin=Origin.CATALOG), log, at(1))

    assert (offer.name, offer.brand, offer.category) == ("Blue shirt", "Acme", "Shirts")
    assert offer.price is None


def test_non_failure_log_data_updates_the_offer_last_values() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction(origin=Origin.PRICE)
    first = OfferData(
        price="124", sales_price="99", currency="BRL", inventory="8", external_offer_id="MLB1"
    )

    append_log(offer, interaction, make_log(LogType.INFORMATION, id="L1", data=first), at(1))
    append_log(
        offer, interaction, make_log(LogType.WARNING, id="L2", data=OfferData(price="130")), at(2)
    )

    assert offer.price == "130"
    assert offer.sales_price == "99"
    assert offer.currency == "BRL"
    assert offer.inventory == "8"
    assert offer.external_offer_id == "MLB1"


def test_merged_log_data_keeps_fields_the_new_log_leaves_out() -> None:
    current = OfferData(price="10", currency="BRL", status=DataStatus.SYNCED)
    new = OfferData(price="12", inventory="3")

    assert merge_log_data(current, new) == OfferData(
        price="12", currency="BRL", inventory="3", status=DataStatus.SYNCED
    )


def test_repeated_error_code_refreshes_the_open_error_instead_of_duplicating() -> None:
    offer, (occurrence,) = offer_in_error(make_error("CTLG-005", title="Too long"))
    occurrence_id = occurrence.id
    again = make_interaction(id="G" * 32, origin=Origin.CATALOG)
    log = failure_log(
        make_error("CTLG-005", title="Still too long", description="4100 characters"),
        id="L-again",
        date=at(30),
    )

    effects = append_log(offer, again, log, at(31))

    assert [e.id for e in offer.open_errors] == [occurrence_id]
    assert effects.opened_errors == []
    assert effects.refreshed_errors == [occurrence]
    assert occurrence.interaction_id == "G" * 32
    assert occurrence.log_id == "L-again"
    assert occurrence.date == at(30)
    assert occurrence.title == "Still too long"
    assert occurrence.description == "4100 characters"


def test_same_code_reported_twice_in_one_log_is_one_error() -> None:
    offer = make_offer(OfferStatus.SENDING)

    append_log(
        offer, make_interaction(), failure_log(make_error("CTLG-005"), make_error("CTLG-005")), T0
    )

    assert [e.code for e in offer.open_errors] == ["CTLG-005"]


def test_same_code_with_another_external_code_is_another_error() -> None:
    offer, _ = offer_in_error(make_error("CTLG-005", external_code="HTML"))

    effects = append_log(
        offer,
        make_interaction(id="G" * 32),
        failure_log(make_error("CTLG-005", external_code="LENGTH")),
        at(1),
    )

    assert [e.external_code for e in offer.open_errors] == ["HTML", "LENGTH"]
    assert [e.external_code for e in effects.opened_errors] == ["LENGTH"]


def test_unmapped_errors_with_different_descriptions_are_separate_errors() -> None:
    offer = make_offer(OfferStatus.SENDING)
    log = failure_log(
        make_error("NTMAP-001", description="Field warranty is required", unmapped=True),
        make_error("NTMAP-001", description="Video URL is not accepted", unmapped=True),
    )

    append_log(offer, make_interaction(), log, at(1))

    assert [e.description for e in offer.open_errors] == [
        "Field warranty is required",
        "Video URL is not accepted",
    ]


def test_unmapped_error_repeated_with_other_values_refreshes_the_open_error() -> None:
    offer, (occurrence,) = offer_in_error(
        make_error("NTMAP-001", description="Item MLB123 rejected: price 10", unmapped=True)
    )

    append_log(
        offer,
        make_interaction(id="G" * 32),
        failure_log(
            make_error("NTMAP-001", description="Item MLB456 rejected: price 12", unmapped=True)
        ),
        at(1),
    )

    assert offer.open_errors == [occurrence]
    assert occurrence.description == "Item MLB456 rejected: price 12"


# -- closing ----------------------------------------------------------------------------------


def test_success_close_clears_errors_of_its_origin() -> None:
    offer, errors = offer_in_error(
        make_error("CTLG-005"), make_error("CTLG-002"), origin=Origin.CATALOG
    )
    fixing = make_interaction(id="S" * 32, origin=Origin.CATALOG)
    append_log(offer, fixing, success_log(id="L-ok"), at(1))

    effects = close_interaction(offer, fixing, at(2))

    assert offer.open_errors == []
    assert effects.closed_errors == errors
    assert all(e.open is False for e in errors)
    assert all(e.closed_at == at(2) for e in errors)
    assert all(e.closed_by_interaction_id == "S" * 32 for e in errors)
    assert offer.status == OfferStatus.SYNCED


def test_success_close_keeps_errors_not_closable_by_its_origin() -> None:
    inventory_only = make_error("INVNT-001", closable_origins=(Origin.INVENTORY,))
    catalog_or_price = make_error("CTLG-005", closable_origins=(Origin.CATALOG, Origin.PRICE))
    offer, (kept, cleared) = offer_in_error(inventory_only, catalog_or_price)
    price = make_interaction(id="P" * 32, origin=Origin.PRICE)
    append_log(offer, price, success_log(), at(1))

    effects = close_interaction(offer, price, at(2))

    assert offer.open_errors == [kept]
    assert kept.open is True
    assert kept.closed_at is None
    assert effects.closed_errors == [cleared]
    assert cleared.open is False


def test_closable_origins_can_leave_out_the_error_own_origin() -> None:
    offer, (error,) = offer_in_error(
        make_error("CTLG-005", closable_origins=(Origin.PRICE,)), origin=Origin.CATALOG
    )
    catalog = make_interaction(id="S" * 32, origin=Origin.CATALOG)
    append_log(offer, catalog, success_log(), at(1))

    close_interaction(offer, catalog, at(2))

    assert offer.open_errors == [error]
    assert offer.status == OfferStatus.ERROR


def test_error_without_closable_origins_is_closable_by_its_own_origin() -> None:
    offer, (error,) = offer_in_error(make_error("CTLG-005"), origin=Origin.CATALOG)
    price = make_interaction(id="P" * 32, origin=Origin.PRICE)
    append_log(offer, price, success_log(), at(1))
    close_interaction(offer, price, at(2))

    assert offer.open_errors == [error]

    catalog = make_interaction(id="C" * 32, origin=Origin.CATALOG)
    append_log(offer, catalog, success_log(), at(3))
    close_interaction(offer, catalog, at(4))

    assert offer.open_errors == []
    assert error.closed_by_interaction_id == "C" * 32


def test_refreshed_error_takes_the_origin_of_the_interaction_that_reported_it_again() -> None:
    offer, (error,) = offer_in_error(make_error("CTLG-005"), origin=Origin.CATALOG)
    price = make_interaction(id="P" * 32, origin=Origin.PRICE)
    append_log(offer, price, failure_log(make_error("CTLG-005")), at(1))

    assert error.origin == Origin.PRICE


@UNAVAILABLE_WORDS
def test_success_close_with_unavailable_data_makes_offer_unavailable(
    data_status: DataStatus,
) -> None:
    offer = make_offer(OfferStatus.SENDING)
    interaction = make_interaction()
    append_log(offer, interaction, success_log(status=data_status), at(1))

    close_interaction(offer, interaction, at(2))

    assert offer.status == OfferStatus.UNAVAILABLE


def test_success_close_with_unavailable_data_wins_over_errors_left() -> None:
    offer, (kept,) = offer_in_error(make_error("INVNT-001"), origin=Origin.INVENTORY)
    catalog = make_interaction(id="S" * 32, origin=Origin.CATALOG)
    append_log(offer, catalog, success_log(status=DataStatus.UNAVAILABLE), at(1))

    close_interaction(offer, catalog, at(2))

    assert offer.status == OfferStatus.UNAVAILABLE
    assert offer.open_errors == [kept]


def test_success_close_without_errors_left_makes_offer_synced() -> None:
    offer = make_offer(OfferStatus.SENDING)
    interaction = make_interaction()
    append_log(offer, interaction, success_log(status=DataStatus.SYNCED), at(1))

    close_interaction(offer, interaction, at(2))

    assert offer.status == OfferStatus.SYNCED


def test_success_close_with_errors_left_keeps_offer_in_error() -> None:
    offer, (kept,) = offer_in_error(make_error("INVNT-001"), origin=Origin.INVENTORY)
    catalog = make_interaction(id="S" * 32, origin=Origin.CATALOG)
    append_log(offer, catalog, success_log(), at(1))

    effects = close_interaction(offer, catalog, at(2))

    assert offer.status == OfferStatus.ERROR
    assert offer.open_errors == [kept]
    assert effects.status_changes == []


def test_later_log_status_replaces_an_earlier_unavailable() -> None:
    offer = make_offer(OfferStatus.SENDING)
    interaction = make_interaction()
    append_log(offer, interaction, notification_log(id="L1", status=DataStatus.UNAVAILABLE), at(1))
    append_log(offer, interaction, success_log(id="L2", status=DataStatus.SYNCED), at(2))

    close_interaction(offer, interaction, at(3))

    assert offer.status == OfferStatus.SYNCED


def test_log_without_status_keeps_the_status_reported_earlier() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction()
    append_log(offer, interaction, notification_log(id="L1", status=DataStatus.DISABLED), at(1))
    append_log(offer, interaction, success_log(id="L2"), at(2))

    close_interaction(offer, interaction, at(3))

    assert offer.status == OfferStatus.UNAVAILABLE


@UNAVAILABLE_WORDS
def test_notification_close_with_unavailable_data_makes_offer_unavailable(
    data_status: DataStatus,
) -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction()
    append_log(offer, interaction, notification_log(status=data_status), at(1))

    close_interaction(offer, interaction, at(2))

    assert offer.status == OfferStatus.UNAVAILABLE


def test_notification_close_closes_no_error() -> None:
    offer, (error,) = offer_in_error(make_error("CTLG-005"), origin=Origin.CATALOG)
    catalog = make_interaction(id="N" * 32, origin=Origin.CATALOG)
    append_log(offer, catalog, notification_log(status=DataStatus.UNAVAILABLE), at(1))

    effects = close_interaction(offer, catalog, at(2))

    assert offer.status == OfferStatus.UNAVAILABLE
    assert offer.open_errors == [error]
    assert error.open is True
    assert effects.closed_errors == []


@pytest.mark.parametrize("status", list(OfferStatus))
@pytest.mark.parametrize("data_status", [None, DataStatus.ERROR])
def test_notification_close_stating_no_status_changes_no_status(
    status: OfferStatus, data_status: DataStatus | None
) -> None:
    offer = make_offer(status)
    interaction = make_interaction()
    append_log(offer, interaction, notification_log(status=data_status), at(1))

    effects = close_interaction(offer, interaction, at(2))

    assert offer.status == status
    assert effects.status_changes == []


def test_failure_close_leaves_offer_in_error() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction()
    append_log(offer, interaction, failure_log(make_error()), at(1))

    effects = close_interaction(offer, interaction, at(2))

    assert offer.status == OfferStatus.ERROR
    assert len(offer.open_errors) == 1
    assert effects.status_changes == []


def test_failure_close_puts_offer_back_in_error_after_another_interaction_moved_it() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    failing = make_interaction(id="F" * 32)
    append_log(offer, failing, failure_log(make_error(), id="L-fail"), at(1))
    other = make_interaction(id="N" * 32)
    append_log(offer, other, notification_log(status=DataStatus.UNAVAILABLE), at(2))
    close_interaction(offer, other, at(3))
    assert offer.status == OfferStatus.UNAVAILABLE

    effects = close_interaction(offer, failing, at(4))

    assert offer.status == OfferStatus.ERROR
    assert [(c.from_status, c.interaction_id, c.log_id) for c in effects.status_changes] == [
        (OfferStatus.UNAVAILABLE, "F" * 32, "L-fail")
    ]


# -- history ----------------------------------------------------------------------------------


def test_every_status_change_records_interaction_and_log() -> None:
    first = make_interaction(id="A" * 32, context=Context.SETUP, origin=Origin.CATALOG)
    offer, created = create_offer(first, at(0))
    opened = open_interaction(offer, first, at(0))
    failed = append_log(offer, first, failure_log(make_error(), id="L-fail"), at(1))
    closed_first = close_interaction(offer, first, at(2))
    fixing = make_interaction(id="B" * 32, origin=Origin.CATALOG)
    open_interaction(offer, fixing, at(3))
    append_log(offer, fixing, notification_log(id="L-info"), at(4))
    append_log(offer, fixing, success_log(id="L-ok"), at(5))
    closed_fixing = close_interaction(offer, fixing, at(6))
    gone = make_interaction(id="C" * 32)
    append_log(offer, gone, notification_log(id="L-gone", status=DataStatus.DISABLED), at(7))
    closed_gone = close_interaction(offer, gone, at(8))

    history = (
        created.status_changes
        + opened.status_changes
        + failed.status_changes
        + closed_first.status_changes
        + closed_fixing.status_changes
        + closed_gone.status_changes
    )
    assert [
        (c.from_status, c.to_status, c.interaction_id, c.log_id, c.changed_at) for c in history
    ] == [
        (None, OfferStatus.SENDING, "A" * 32, None, at(0)),
        (OfferStatus.SENDING, OfferStatus.ERROR, "A" * 32, "L-fail", at(1)),
        (OfferStatus.ERROR, OfferStatus.SYNCED, "B" * 32, "L-ok", at(6)),
        (OfferStatus.SYNCED, OfferStatus.UNAVAILABLE, "C" * 32, "L-gone", at(8)),
    ]
    assert all(c.reason for c in history)
    assert history[1].reason == "catalog failure log reported 1 error(s)"
    assert history[2].reason == "catalog success left no open error"


def test_setup_interaction_records_the_move_to_sending() -> None:
    offer = make_offer(OfferStatus.SYNCED)

    effects = open_interaction(offer, make_interaction(id="S" * 32, context=Context.SETUP), at(1))

    assert effects.status_changes == [
        StatusChange(
            OfferStatus.SYNCED,
            OfferStatus.SENDING,
            "S" * 32,
            None,
            "catalog setup interaction is processing",
            at(1),
        )
    ]


def test_unchanged_status_records_no_change() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    interaction = make_interaction()
    append_log(offer, interaction, success_log(), at(1))

    effects = close_interaction(offer, interaction, at(2))

    assert offer.status == OfferStatus.SYNCED
    assert effects.status_changes == []

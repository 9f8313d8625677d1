"""A log's ``data.status`` is the connector stating the offer's status, and it is honoured.

The SDK document's price and inventory flows report an ``Info`` log stating
``Status = "Synchronized"`` (and begin with one stating ``"Sending"``), then close the
interaction: such offers must reach Synced, not sit in Sending for ever.
"""

from __future__ import annotations

import pytest

from sentoffers.domain.model import DataStatus, LogType, OfferData, OfferStatus, Origin, Result
from sentoffers.domain.rules import append_log, close_interaction, closes_errors, status_on_close
from sentoffers.domain.vocabulary import parse_data_status
from tests.unit.factories import (
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


@pytest.mark.parametrize(
    "word", ["Synchronized", "synchronized", "SYNCHRONIZED", "Synced", "synced", "synched"]
)
def test_synchronized_is_read_as_synced_in_any_case(word: str) -> None:
    assert parse_data_status(word) == DataStatus.SYNCED


@pytest.mark.parametrize("word", ["Sending", "sending", "SENDING"])
def test_sending_is_read_as_sending_in_any_case(word: str) -> None:
    assert parse_data_status(word) == DataStatus.SENDING


def test_info_log_stating_synchronized_makes_offer_synced_on_close() -> None:
    offer = make_offer(OfferStatus.SENDING)
    price = make_interaction(origin=Origin.PRICE)
    append_log(
        offer,
        price,
        make_log(
            LogType.INFORMATION,
            data=OfferData(status=DataStatus.SYNCED, price="124", currency="BRL"),
        ),
        at(1),
    )

    effects = close_interaction(offer, price, at(2))

    assert price.result == Result.NOTIFICATION
    assert offer.status == OfferStatus.SYNCED
    assert offer.price == "124"
    assert [(c.from_status, c.to_status) for c in effects.status_changes] == [
        (OfferStatus.SENDING, OfferStatus.SYNCED)
    ]


def test_stated_synced_waits_for_the_close() -> None:
    offer = make_offer(OfferStatus.SENDING)
    inventory = make_interaction(origin=Origin.INVENTORY)

    effects = append_log(offer, inventory, notification_log(status=DataStatus.SYNCED), at(1))

    assert offer.status == OfferStatus.SENDING
    assert effects.status_changes == []


@pytest.mark.parametrize("status", [OfferStatus.SYNCED, OfferStatus.UNAVAILABLE])
def test_log_stating_sending_puts_offer_in_sending_while_open(status: OfferStatus) -> None:
    offer = make_offer(status)
    inventory = make_interaction(origin=Origin.INVENTORY)

    effects = append_log(
        offer, inventory, notification_log(id="L-send", status=DataStatus.SENDING), at(1)
    )

    assert offer.status == OfferStatus.SENDING
    assert [(c.to_status, c.log_id) for c in effects.status_changes] == [
        (OfferStatus.SENDING, "L-send")
    ]


def test_log_stating_sending_does_not_move_offer_out_of_error() -> None:
    offer, _ = offer_in_error(make_error("CTLG-005"), origin=Origin.CATALOG)
    price = make_interaction(id="P" * 32, origin=Origin.PRICE)

    append_log(offer, price, notification_log(status=DataStatus.SENDING), at(1))

    assert offer.status == OfferStatus.ERROR


def test_sending_then_synchronized_flow_ends_synced() -> None:
    offer = make_offer(OfferStatus.SYNCED)
    price = make_interaction(origin=Origin.PRICE)
    append_log(offer, price, notification_log(id="L1", status=DataStatus.SENDING), at(1))
    append_log(offer, price, notification_log(id="L2", status=DataStatus.SYNCED), at(2))

    close_interaction(offer, price, at(3))

    assert offer.status == OfferStatus.SYNCED


def test_stated_synced_closes_the_errors_its_origin_may_close() -> None:
    offer, (error,) = offer_in_error(make_error("PRICE-001"), origin=Origin.PRICE)
    price = make_interaction(id="P" * 32, origin=Origin.PRICE)
    append_log(offer, price, notification_log(status=DataStatus.SYNCED), at(1))

    effects = close_interaction(offer, price, at(2))

    assert offer.status == OfferStatus.SYNCED
    assert offer.open_errors == []
    assert error.open is False
    assert error.closed_by_interaction_id == "P" * 32
    assert effects.closed_errors == [error]


def test_stated_synced_with_an_error_left_open_keeps_offer_in_error() -> None:
    offer, (error,) = offer_in_error(make_error("CTLG-005"), origin=Origin.CATALOG)
    inventory = make_interaction(id="I" * 32, origin=Origin.INVENTORY)
    append_log(offer, inventory, notification_log(status=DataStatus.SYNCED), at(1))

    close_interaction(offer, inventory, at(2))

    assert offer.status == OfferStatus.ERROR
    assert offer.open_errors == [error]


def test_stated_synced_does_not_close_the_errors_of_its_own_failure() -> None:
    offer = make_offer(OfferStatus.SENDING)
    price = make_interaction(origin=Origin.PRICE)
    append_log(offer, price, notification_log(id="L1", status=DataStatus.SYNCED), at(1))
    append_log(offer, price, failure_log(make_error("PRICE-001"), id="L2"), at(2))

    close_interaction(offer, price, at(3))

    assert price.result == Result.FAILURE
    assert offer.status == OfferStatus.ERROR
    assert len(offer.open_errors) == 1


@pytest.mark.parametrize("stated", [DataStatus.UNAVAILABLE, DataStatus.DISABLED])
@pytest.mark.parametrize("result", list(Result))
def test_stated_unavailable_makes_offer_unavailable_whatever_the_result(
    stated: DataStatus, result: Result
) -> None:
    assert status_on_close(result, stated, 0) == OfferStatus.UNAVAILABLE
    assert status_on_close(result, stated, 2) == OfferStatus.UNAVAILABLE


@pytest.mark.parametrize("result", list(Result))
def test_stated_synced_decides_by_the_errors_left_whatever_the_result(result: Result) -> None:
    assert status_on_close(result, DataStatus.SYNCED, 0) == OfferStatus.SYNCED
    assert status_on_close(result, DataStatus.SYNCED, 1) == OfferStatus.ERROR


@pytest.mark.parametrize("stated", [None, DataStatus.SENDING, DataStatus.ERROR])
def test_without_a_stated_status_the_result_decides(stated: DataStatus | None) -> None:
    assert status_on_close(Result.SUCCESS, stated, 0) == OfferStatus.SYNCED
    assert status_on_close(Result.SUCCESS, stated, 1) == OfferStatus.ERROR
    assert status_on_close(Result.FAILURE, stated, 0) == OfferStatus.ERROR
    assert status_on_close(Result.NOTIFICATION, stated, 0) is None


def test_only_a_success_or_a_notification_stating_synced_closes_errors() -> None:
    assert closes_errors(Result.SUCCESS, None)
    assert closes_errors(Result.NOTIFICATION, DataStatus.SYNCED)
    assert not closes_errors(Result.NOTIFICATION, None)
    assert not closes_errors(Result.NOTIFICATION, DataStatus.UNAVAILABLE)
    assert not closes_errors(Result.FAILURE, DataStatus.SYNCED)


def test_the_last_stated_status_decides() -> None:
    offer = make_offer(OfferStatus.SENDING)
    catalog = make_interaction()
    append_log(offer, catalog, notification_log(id="L1", status=DataStatus.UNAVAILABLE), at(1))
    append_log(offer, catalog, notification_log(id="L2", status=DataStatus.SYNCED), at(2))

    close_interaction(offer, catalog, at(3))

    assert offer.status == OfferStatus.SYNCED


def test_success_stating_sending_is_still_a_success() -> None:
    offer = make_offer(OfferStatus.SENDING)
    catalog = make_interaction()
    append_log(offer, catalog, success_log(status=DataStatus.SENDING), at(1))

    close_interaction(offer, catalog, at(2))

    assert offer.status == OfferStatus.SYNCED

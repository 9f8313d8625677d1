"""``client.interaction(...)`` against the real service, with ``with`` and ``async with``.

Each test runs on ``SentOffersClient`` and on ``AsyncSentOffersClient`` (see
``client_flows``), and reads back what the block wrote with ``get_interaction`` and
``get_offer``.
"""

from __future__ import annotations

import json

import pytest

from sentoffers.client import (
    ChannelError,
    KnownCode,
    LogData,
    ValidationError,
    error_entry,
    evidence,
    unmapped_failure,
)
from tests.e2e.client_flows import Sdk, activated_feed, flow


@flow("get_interaction", "get_offer")
async def test_the_logs_of_a_block_land_on_one_interaction_closed_on_exit(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    async with sdk.interaction(account, feed_id, "1", origin="price", agent="e2e") as it:
        await it.info("Sending the price", data={"price": 124, "currency": "BRL"})
        await it.warning("The channel answered slowly")
        await it.success("Price accepted", data=LogData(price="124", currency="BRL"))
        assert not it.closed
    assert it.closed

    done = (await sdk.get_interaction(account, feed_id, "1", it.id)).raise_for_errors()
    assert (done.state, done.result, done.origin, done.source) == (
        "closed",
        "success",
        "price",
        "channel",
    )
    assert [(log.type, log.agent) for log in done.logs] == [
        ("information", "e2e"),
        ("warning", "e2e"),
        ("success", "e2e"),
    ]
    assert [log.id for log in done.logs] == [log.id for log in it.logs]
    offer = (await sdk.get_offer(account, feed_id, "1")).raise_for_errors()
    assert (offer.status, offer.price, offer.currency) == ("synced", "124", "BRL")


@flow("get_interaction", "get_offer")
async def test_a_failure_with_a_known_code_puts_the_offer_in_error_until_a_success(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    refused = error_entry(KnownCode.CTLG_006, "001", description="Description over 4000 characters")
    async with sdk.interaction(account, feed_id, "1", origin="catalog", context="setup") as it:
        await it.info("Sending the description")
        await it.failure(
            "The channel refused the description",
            errors=[refused],
            evidence=evidence({"description": "..."}, '{"error": "description too long"}'),
        )

    done = (await sdk.get_interaction(account, feed_id, "1", it.id)).raise_for_errors()
    assert (done.state, done.result) == ("closed", "failure")
    [failure] = [log for log in done.logs if log.type == "failure"]
    [error] = failure.errors
    assert (error.code, error.error_code_id, error.mapped) == ("CTLG-006-001", "CTLG-006", True)
    assert failure.evidence.response == '{"error": "description too long"}'
    offer = (await sdk.get_offer(account, feed_id, "1")).raise_for_errors()
    assert offer.status == "error"
    assert [(e.code, e.error_code_id) for e in offer.open_errors] == [("CTLG-006-001", "CTLG-006")]

    async with sdk.interaction(account, feed_id, "1", origin="catalog") as fixed:
        await fixed.success("Description accepted")
    offer = (await sdk.get_offer(account, feed_id, "1")).raise_for_errors()
    assert (offer.status, offer.open_errors) == ("synced", [])


@flow("get_interaction", "get_offer")
async def test_a_channel_error_raised_in_the_block_is_logged_with_its_code_then_raised_again(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    answer = {"message": "title: at most 60 characters"}
    with pytest.raises(ChannelError, match="Title over 60 characters"):
        async with sdk.interaction(account, feed_id, "1", origin="catalog") as it:
            raise ChannelError(
                "Title over 60 characters",
                code=KnownCode.CTLG_009,
                suffix="002",
                external_code="T60",
                request="POST /items",
                response=answer,
            )
    assert it.closed

    done = (await sdk.get_interaction(account, feed_id, "1", it.id)).raise_for_errors()
    assert (done.state, done.result) == ("closed", "failure")
    [failure] = done.logs
    assert (failure.type, failure.description) == ("failure", "Title over 60 characters")
    assert (failure.evidence.request, json.loads(failure.evidence.response or "")) == (
        "POST /items",
        answer,
    )
    [error] = failure.errors
    assert (error.code, error.error_code_id, error.external_code) == (
        "CTLG-009-002",
        "CTLG-009",
        "T60",
    )
    offer = (await sdk.get_offer(account, feed_id, "1")).raise_for_errors()
    assert (offer.status, [e.code for e in offer.open_errors]) == ("error", ["CTLG-009-002"])


@flow("get_interaction", "get_offer")
async def test_any_other_exception_is_logged_as_not_mapped_with_its_type_as_external_code(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    with pytest.raises(ValueError, match="price must be positive"):
        async with sdk.interaction(account, feed_id, "1", origin="price") as it:
            raise ValueError("price must be positive")

    done = (await sdk.get_interaction(account, feed_id, "1", it.id)).raise_for_errors()
    assert (done.state, done.result) == ("closed", "failure")
    [failure] = done.logs
    [error] = failure.errors
    assert (error.code, error.external_code, error.description) == (
        "NTMAP-001",
        "ValueError",
        "price must be positive",
    )
    assert failure.evidence.response == "ValueError: price must be positive"
    offer = (await sdk.get_offer(account, feed_id, "1")).raise_for_errors()
    assert (offer.status, [e.error_code_id for e in offer.open_errors]) == ("error", ["NTMAP-001"])


@flow("get_interaction", "get_offer", "list_unmapped_errors")
async def test_an_unmapped_failure_keeps_the_channels_raw_answer_as_evidence(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    raw = '{"message": "Price 10.00 is below the floor 12.00", "code": 4031}'
    async with sdk.interaction(account, feed_id, "1", origin="price", agent="my-connector") as it:
        await it.log(unmapped_failure(raw, request="PUT /prices/1", external_code="4031"))

    done = (await sdk.get_interaction(account, feed_id, "1", it.id)).raise_for_errors()
    [failure] = done.logs
    assert failure.agent == "my-connector"  # a log without its own agent takes the block's
    assert (failure.evidence.request, failure.evidence.response) == ("PUT /prices/1", raw)
    assert failure.description == "Price 10.00 is below the floor 12.00"
    [error] = failure.errors
    assert (error.code, error.error_code_id, error.external_code) == (
        "NTMAP-001",
        "NTMAP-001",
        "4031",
    )
    offer = (await sdk.get_offer(account, feed_id, "1")).raise_for_errors()
    assert (offer.status, [e.code for e in offer.open_errors]) == ("error", ["NTMAP-001"])
    [group] = (await sdk.list_unmapped_errors(account)).raise_for_errors().items
    assert (group.sample_description, group.occurrences) == (failure.description, 1)


@flow("get_interaction")
async def test_a_refused_log_raises_in_the_block_and_the_interaction_closes_without_a_failure(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    with pytest.raises(ValidationError) as raised:
        async with sdk.interaction(account, feed_id, "1", origin="inventory") as it:
            await it.log({"type": "Unknown", "description": "not a log type"})
    assert (raised.value.status_code, raised.value.errors[0].field) == (400, "type")

    done = (await sdk.get_interaction(account, feed_id, "1", it.id)).raise_for_errors()
    # The refusal is the connector's problem, not the offer's: nothing is logged for it.
    assert (done.state, done.logs) == ("closed", [])


@flow("get_offer")
async def test_a_client_bound_to_an_account_opens_interactions_on_that_account(
    sdk: Sdk, account: str
) -> None:
    feed_id = await activated_feed(sdk, account)
    bound = sdk.for_account(account)
    async with bound.interaction(feed_id, "1", origin="inventory", source="seller") as it:
        await it.success("Stock accepted", data={"Inventory": 8, "Status": "Synchronized"})
    assert (it.account, it.closed) == (account, True)
    offer = (await bound.get_offer(feed_id, "1")).raise_for_errors()
    assert (offer.status, offer.inventory) == ("synced", "8")

"""The initial load under chaos, every part in its own process (``tests/support/stack.py``).

A flawed catalog of 300 SKUs goes from the sandbox through the connector (embedded: its
queues in the work ledger of its SQLite database) into a real ``sentoffers serve``, while
the sample marketplace fails 30 % of the calls (a third of those after applying the write:
the answer is lost), throttles (its limit is under what the connector is told, so it answers
429), and goes down for 10 s; meanwhile the connector is killed with SIGKILL and started
again on the same database.

Then every SKU of the catalog must be accounted for exactly once: Synced, in Error with the
error codes its flaw calls for, Unavailable when its flaw says so (as the service shows
them), or a dead letter of the connector with its reason. The marketplace must not hold a
seller SKU twice (it is run with ``--no-unique-skus``, so a second creation would show), and
the circuit breaker's opening must be in the service, as a warning log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentoffers.client import OfferSummary
from tests.support.stack import Settled, Stack, StackOptions

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(170)]

SKUS = 300
SETTLE_TIMEOUT_S = 100.0
DOWN_SECONDS = 10.0
MAX_RETRY_AFTER = 2.0
"""The longest ``Retry-After`` the connector waits out within one call. The marketplace
answers 503 with the seconds of downtime left: past this, a call ends unanswered, the SKU is
retried later, and enough such calls in a row open the circuit breaker (by default, 10 s: an
outage of 10 s would be waited out call by call and the breaker would never open)."""
BREAKER_OPENED = "The circuit breaker of Sample Marketplace opened"

OPTIONS = StackOptions(
    skus=SKUS,
    seed=5,
    flaw_rate=0.2,
    marketplace_rate_limit=4,  # the connector is told 20/s: the marketplace answers 429
    connector_requests_per_second=20,
    failure_rate=0.2,  # 5xx, nothing applied ...
    lost_answer_rate=0.1,  # ... or applied, then answered 5xx: 30 % of the calls fail
    fault_seed=11,
    unique_skus=False,
    connector_settings={
        "retry_base_seconds": 0.5,
        "retry_max_seconds": 3,
        "max_attempts": 6,
        "breaker_failures": 3,
        "breaker_reset_seconds": 3,
        "lease_seconds": 10,
        "timeout_seconds": 5,
        "marketplace_max_retry_after_seconds": MAX_RETRY_AFTER,
    },
)

ERROR_CODES: dict[str, str] = {
    "long_description": "CTLG-006-001",
    "html_description": "CTLG-006-002",
    "missing_images": "CTLG-007-001",
    "missing_dimensions": "CTLG-008-",  # one per dimension missing
    "bad_ean": "CTLG-010-001",
    "unmapped_category": "CTLG-004-001",
    "no_price": "PRICE-001-001",
}
"""The open error code (or its prefix) each flaw that ends in Error calls for."""
UNAVAILABLE_FLAWS = {"inactive_product", "outside_trade_policy"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with Stack(tmp_path, OPTIONS) as running:
        yield running


def outcome(sku: str, flaws: list[str], offer: OfferSummary | None, open_codes: set[str]) -> str:
    """Where a SKU that is not a dead letter ended, or why that is wrong."""
    if offer is None:
        return "lost: no offer in the service"
    flaw = flaws[0] if flaws else None
    if offer.status == "synced" and flaw is None:
        return "synced"
    if offer.status == "unavailable" and flaw in UNAVAILABLE_FLAWS:
        return "unavailable"
    if offer.status == "error" and flaw in ERROR_CODES:
        expected = ERROR_CODES[flaw]
        if open_codes and all(code.startswith(expected) for code in open_codes):
            return "error"
        return f"error with codes {sorted(open_codes)}, its flaw {flaw} calls for {expected}"
    return f"{offer.status} (open errors {sorted(open_codes)}), its flaws {flaws}"


def open_codes_of(stack: Stack, settled: Settled) -> dict[str, set[str]]:
    """The open error codes of every offer in Error, as the service shows them."""
    found: dict[str, set[str]] = {}
    with stack.service_client() as client:
        for sku, offer in settled.offers.items():
            if offer.status == "error":
                details = client.get_offer(OPTIONS.account, offer.feed_id, sku).raise_for_errors()
                found[sku] = {error.code for error in details.open_errors}
    return found


def breaker_opened(stack: Stack, within: float) -> dict[str, Any]:
    """The connector's status once its breaker has opened (or ``within`` seconds passed):
    the crash comes after the opening was recorded, so it is the restarted connector that
    must carry it into the service."""
    deadline = time.monotonic() + within
    while True:
        status: dict[str, Any] = stack.connector("status")
        if status["breaker"]["events"] or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_every_sku_is_accounted_for_once_through_faults_a_down_marketplace_and_a_crash(
    stack: Stack,
) -> None:
    stack.start_service()
    stack.start_sandbox()
    stack.start_connector()
    try:
        loaded = stack.trigger_initial_load(wait=True)
        # Every notification acknowledged: from here on, a lost SKU is the connector's loss.
        assert (loaded["notified"], loaded["delivered"]) == (SKUS, SKUS), loaded
        time.sleep(1.0)
        stack.marketplace("POST", "down", {"seconds": DOWN_SECONDS})
        before = breaker_opened(stack, within=DOWN_SECONDS / 2)
        assert before["pending"] > 0, "the load ended before the crash: nothing was tested"
        stack.processes["connector"].kill()
        stack.start_connector()  # the same port and database, its queues included
        settled = stack.wait_settled(SETTLE_TIMEOUT_S)

        codes = open_codes_of(stack, settled)
        places: dict[str, list[str]] = {sku: [] for sku in settled.catalog}
        for sku, dead in settled.dead_letters.items():
            assert dead["reason"], dead
            places.setdefault(sku, []).append("dead letter")
        for sku, flaws in settled.catalog.items():
            offer = settled.offers.get(sku)
            if sku in settled.dead_letters and (offer is None or offer.status == "sending"):
                continue  # given up before its outcome was reported: the dead letter says why
            places[sku].append(outcome(sku, flaws, offer, codes.get(sku, set())))
        wrong = {
            sku: where
            for sku, where in places.items()
            if len(where) != 1 or where[0] not in ("synced", "error", "unavailable", "dead letter")
        }
        assert not wrong, f"{len(wrong)} SKU(s) not accounted for exactly once: {wrong}"
        assert set(places) == set(settled.catalog), "a dead letter for a SKU not in the catalog"

        market = stack.marketplace("GET", "stats")
        listed = stack.marketplace("GET", "products")["items"]
        assert market["duplicates"] == {}, market["duplicates"]
        assert market["products"] == len({product["sku"] for product in listed}), market
        synced = {sku for sku, where in places.items() if where == ["synced"]}
        assert synced <= {product["sku"] for product in listed}
        # The faults did happen.
        assert market["throttled"] > 0, market
        assert market["injectedFailures"] > 0, market
        assert market["refusedWhileDown"] > 0, market

        with stack.service_client() as client:
            found = client.search_interactions(
                OPTIONS.account, q=BREAKER_OPENED, from_=0, to=99
            ).raise_for_errors()
        warnings = [
            log
            for interaction in found.items
            for log in interaction.logs
            if log.type == "warning" and BREAKER_OPENED in log.description
        ]
        assert warnings, "no warning log in the service says the circuit breaker opened"
        outcomes = sorted({where[0] for where in places.values()})
        print(
            f"\n{SKUS} SKUs: "
            + ", ".join(
                f"{sum(where == [name] for where in places.values())} {name}" for name in outcomes
            )
            + f"; marketplace: {market['throttled']} throttled, {market['injectedFailures']} "
            f"failed, {market['lostAnswers']} answers lost, {market['refusedWhileDown']} refused "
            f"while down; {len(warnings)} breaker warning(s) in the service"
        )
    except AssertionError:
        print(stack.logs())
        raise

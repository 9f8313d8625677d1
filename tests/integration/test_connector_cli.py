"""``sentoffers connector dead-letters``: the work given up is listed with its reason and
replayed into its queue (due at once, in the work ledger) from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sentoffers.cli import app
from sentoffers.connector.ledger import WorkLedger
from sentoffers.connector.model import Notification
from sentoffers.connector.store import StateStore


def given_up(database_url: str, *skus: str) -> None:
    states = StateStore(database_url)
    ledger = WorkLedger(states.db)
    for sku in skus:
        ledger.accept(Notification(sku, "acme", price_modified=True))
        [claimed] = ledger.claim("catalog", "acme")
        ledger.retry(claimed, f"the marketplace did not answer SKU {sku}", max_attempts=1)
    states.close()


def due(database_url: str) -> list[str]:
    """The SKUs due in the catalog queue of acme, claimed."""
    states = StateStore(database_url)
    try:
        claimed = WorkLedger(states.db).claim("catalog", "acme", 100)
    finally:
        states.close()
    return [item.job.notification.sku_id for item in claimed]


def test_dead_letters_are_listed_with_their_reason_and_replayed_into_their_queue(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'connector.db'}"
    given_up(database, "11", "12")
    where = ["--database-url", database]
    runner = CliRunner()

    listed = runner.invoke(app, ["connector", "dead-letters", "list", "--json", *where])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["skuId"], r["attempts"], r["queue"]) for r in rows] == [
        ("11", 1, "catalog"), ("12", 1, "catalog"),
    ]  # fmt: skip
    assert rows[0]["reason"] == "the marketplace did not answer SKU 11"
    assert rows[0]["changes"] == "price"

    refused = runner.invoke(app, ["connector", "dead-letters", "replay", *where])
    assert refused.exit_code == 2
    assert "--sku" in refused.output

    replayed = runner.invoke(app, ["connector", "dead-letters", "replay", "--sku", "11", *where])
    assert replayed.exit_code == 0, replayed.output
    assert "1 dead letter(s) queued again" in replayed.stdout
    assert due(database) == ["11"]

    text = runner.invoke(app, ["connector", "dead-letters", "list", *where])
    listed_skus = [line.split("\t")[1] for line in text.stdout.splitlines()]
    assert listed_skus == ["12"], text.stdout
    assert "the marketplace did not answer SKU 12" in text.stdout

    everything = runner.invoke(app, ["connector", "dead-letters", "replay", "--all", *where])
    assert "1 dead letter(s) queued again" in everything.stdout

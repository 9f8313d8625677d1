"""The independent inventory sweep the document recommends beside the notifications.

Every so often, each store's listed SKUs are simulated in groups (one fulfillment simulation
for up to 50 SKUs); those whose stock differs from the one last sent are queued as stock
changes, and the pipeline updates and reports them like any other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from sentoffers.connector.model import Job, Notification, SkuRecord
from sentoffers.connector.store import StateStore
from sentoffers.connector.vtex import Simulation, VtexClient, VtexError

__all__ = ["Intake", "stale_inventory", "sweep_inventory"]

log = logging.getLogger("sentoffers.connector")

GROUP = 50


class Intake(Protocol):
    """Where new work goes (the connector: its ledger and queues)."""

    def put(self, job: Job) -> None: ...


def stale_inventory(records: Sequence[SkuRecord], simulation: Simulation) -> list[SkuRecord]:
    """The SKUs whose stock in VTEX (0 when the simulation left them out) is not the one the
    marketplace was last sent."""
    stale = []
    for record in records:
        values = simulation.values.get(record.sku_id)
        quantity = values.inventory if values is not None else 0
        if quantity != record.inventory:
            stale.append(record)
    return stale


async def sweep_inventory(
    states: StateStore, vtex: VtexClient, queue: Intake, *, group: int = GROUP
) -> int:
    """Queue a stock update for each listed SKU of ``vtex``'s store whose stock moved;
    returns how many. A VTEX failure ends this sweep (the next one starts over)."""
    account = vtex.store.account
    after, queued = "", 0
    while True:
        records = states.listed(account, after=after, limit=group)
        if not records:
            return queued
        after = records[-1].sku_id
        try:
            simulation, _ = await vtex.simulate([record.sku_id for record in records])
        except VtexError as failed:
            log.warning("the inventory sweep of %s stopped: %s", account, failed)
            return queued
        for record in stale_inventory(records, simulation):
            notification = Notification(
                record.sku_id, account, product_id=record.product_id, stock_modified=True
            )
            queue.put(Job(notification, cause="sweep"))
            queued += 1

"""Group commit for the unified contract.

Connectors call the unified contract from many connections at once. Written one by one,
each call pays a transaction of its own; on SQLite they also queue on the single writer.
``UnifiedWriter`` writes the calls that arrive together in one transaction (see
``sentoffers.store.group_commit``), in arrival order, through the batch path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sentoffers.errors import ServiceError
from sentoffers.interactions.schemas import UnifiedCreate
from sentoffers.interactions.service import Applied, write_unified
from sentoffers.store.db import Database
from sentoffers.store.group_commit import GroupCommit


@dataclass(frozen=True, slots=True)
class _Call:
    account: str
    feed_id: str
    sku_id: str
    body: UnifiedCreate


Outcome = Applied | BaseException


class UnifiedWriter:
    def __init__(
        self,
        db: Database,
        known_codes: Callable[[], Collection[str]],
        *,
        max_items: int = 1000,
    ):
        self._db = db
        self._known_codes = known_codes
        self._group: GroupCommit[_Call, Applied] = GroupCommit(
            self._write, max_items=max_items, what="unified calls"
        )

    async def submit(self, account: str, feed_id: str, sku_id: str, body: UnifiedCreate) -> Applied:
        """Write one unified call; answers when the transaction holding it has committed."""
        return await self._group.submit(_Call(account, feed_id, sku_id, body))

    async def stop(self) -> None:
        await self._group.stop()

    def _write(self, calls: Sequence[_Call]) -> list[Outcome]:
        """One transaction for all ``calls``, grouped by account and feed, in lock order."""
        now = datetime.now(UTC)
        known = self._known_codes()
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for index, call in enumerate(calls):
            groups[(call.account, call.feed_id)].append(index)
        outcomes: list[Outcome | None] = [None] * len(calls)
        with self._db.unit_of_work() as uow:
            for (account, feed_id), indexes in sorted(groups.items()):
                items = [(calls[i].sku_id, calls[i].body) for i in indexes]
                try:
                    written: list[Applied | ServiceError] = list(
                        write_unified(uow.conn, account, feed_id, items, known, now)
                    )
                except ServiceError as error:  # the feed refuses the whole group
                    written = [error] * len(indexes)
                for i, outcome in zip(indexes, written, strict=True):
                    outcomes[i] = outcome
            uow.commit()
        assert all(outcome is not None for outcome in outcomes)
        return outcomes  # type: ignore[return-value]

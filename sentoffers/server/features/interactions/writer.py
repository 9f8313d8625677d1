"""Group commit for the unified contract.

Connectors call the unified contract from many connections at once. Written one by one,
each call pays a transaction of its own; on SQLite they also queue on the single writer.
``UnifiedWriter`` writes the calls that arrive together in one transaction (see
``sentoffers.sql.group_commit``), in arrival order, through the batch path.

A call sent with an ``Idempotency-Key`` has its key claimed and its answer kept in that
same transaction: the group commits each call's write with its key, or none of them.

Ids arrive normalised (``sentoffers.domain.ids``, applied by the API) and are written as given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sentoffers.contract.interactions import UnifiedCreate
from sentoffers.domain.errors import ServiceError
from sentoffers.domain.idempotency import StoredResponse
from sentoffers.server.features.interactions.service import Applied, unified_answer, write_unified
from sentoffers.server.store.idempotency import KeyedRequest, KeyTaken, claim_keys, keep_answers
from sentoffers.sql.db import Database
from sentoffers.sql.group_commit import GroupCommit


@dataclass(frozen=True, slots=True)
class _Call:
    account: str
    feed_id: str
    sku_id: str
    body: UnifiedCreate
    keyed: KeyedRequest | None = None


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

    async def submit(
        self,
        account: str,
        feed_id: str,
        sku_id: str,
        body: UnifiedCreate,
        *,
        keyed: KeyedRequest | None = None,
    ) -> Applied:
        """Write one unified call; answers when the transaction holding it has committed.

        ``Applied.answer`` is what the call answers; with ``keyed``, the transaction also
        claimed the key and kept that answer (``KeyTaken`` if another request holds the key).
        """
        return await self._group.submit(_Call(account, feed_id, sku_id, body, keyed))

    async def stop(self) -> None:
        await self._group.stop()

    def _write(self, calls: Sequence[_Call]) -> list[Outcome]:
        """One transaction for all ``calls``, grouped by account and feed, in lock order:
        the keys first, then the writes, then the answers of the keys."""
        now = datetime.now(UTC)
        known = self._known_codes()
        outcomes: list[Outcome | None] = [None] * len(calls)
        with self._db.unit_of_work() as uow:
            claim_keys(uow.conn, [call.keyed for call in calls if call.keyed is not None], now)
            for index, call in enumerate(calls):
                if call.keyed is not None and call.keyed.taken is not None:
                    outcomes[index] = KeyTaken(call.keyed.taken)  # this call alone is not written
            groups: dict[tuple[str, str], list[int]] = defaultdict(list)
            for index, call in enumerate(calls):
                if outcomes[index] is None:
                    groups[(call.account, call.feed_id)].append(index)
            for (account, feed_id), indexes in sorted(groups.items()):
                items = [(calls[i].sku_id, calls[i].body) for i in indexes]
                try:
                    written: list[Applied | ServiceError] = list(
                        write_unified(uow.conn, account, feed_id, items, known, now)
                    )
                except ServiceError as error:  # the feed refuses the whole group
                    written = [error] * len(indexes)
                for i, one in zip(indexes, written, strict=True):
                    outcomes[i] = one
            answers: list[tuple[KeyedRequest, StoredResponse]] = []
            for call, outcome in zip(calls, outcomes, strict=True):
                if call.keyed is None or isinstance(outcome, KeyTaken):
                    continue
                if isinstance(outcome, Applied):
                    outcome.answer = unified_answer(call.account, outcome)
                    answers.append((call.keyed, outcome.answer))
                else:  # refused, nothing written: the refusal is kept once answered
                    call.keyed.release(uow.conn)
            keep_answers(uow.conn, answers)
            uow.commit()
        for call, outcome in zip(calls, outcomes, strict=True):
            if isinstance(outcome, Applied) and outcome.answer is None:  # built out of the lock
                outcome.answer = unified_answer(call.account, outcome)
        assert all(outcome is not None for outcome in outcomes)
        return outcomes  # type: ignore[return-value]

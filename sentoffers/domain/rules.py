"""The rules that turn interactions and logs into offer status and open errors.

Each function takes the entities involved, updates them in place and returns the effects
the store must persist (status changes, errors opened, refreshed or closed). None of them
does I/O; the same functions serve the single calls, the unified contract and the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sentoffers.domain.error_codes import fingerprint as description_fingerprint
from sentoffers.domain.errors import Conflict
from sentoffers.domain.ids import new_id
from sentoffers.domain.model import (
    UNMAPPED_CODE,
    Context,
    DataStatus,
    ErrorOccurrence,
    FieldKind,
    Interaction,
    Log,
    LogError,
    LogType,
    Offer,
    OfferData,
    OfferStatus,
    Result,
    State,
    StatusChange,
    offer_fields,
)

UNAVAILABLE_DATA = frozenset({DataStatus.UNAVAILABLE, DataStatus.DISABLED})
DEFAULT_IDLE_TIMEOUT = timedelta(hours=24)
DEFAULT_STUCK_AFTER = timedelta(minutes=30)


@dataclass(slots=True)
class Effects:
    """What a rule changed, for the store to write."""

    status_changes: list[StatusChange] = field(default_factory=list)
    opened_errors: list[ErrorOccurrence] = field(default_factory=list)
    refreshed_errors: list[ErrorOccurrence] = field(default_factory=list)
    closed_errors: list[ErrorOccurrence] = field(default_factory=list)

    def extend(self, other: Effects) -> None:
        self.status_changes.extend(other.status_changes)
        self.opened_errors.extend(other.opened_errors)
        self.refreshed_errors.extend(other.refreshed_errors)
        self.closed_errors.extend(other.closed_errors)


def result_of_logs(has_failure: bool, has_success: bool) -> Result:
    """``failure`` if any failure log; else ``success`` if any success log; else notification."""
    if has_failure:
        return Result.FAILURE
    if has_success:
        return Result.SUCCESS
    return Result.NOTIFICATION


def merge_log_data(current: OfferData, new: OfferData) -> OfferData:
    """The latest value of each data field wins; fields a log leaves out are kept."""
    return replace(
        current,
        **{
            name: value for name in OfferData.__slots__ if (value := getattr(new, name)) is not None
        },
    )


def _change_status(
    offer: Offer,
    to_status: OfferStatus,
    *,
    interaction: Interaction,
    log_id: str | None,
    reason: str,
    now: datetime,
    effects: Effects,
) -> None:
    if offer.status == to_status:
        return
    effects.status_changes.append(
        StatusChange(offer.status, to_status, interaction.id, log_id, reason, now)
    )
    offer.status = to_status
    offer.status_since = now


def create_offer(interaction: Interaction, now: datetime) -> tuple[Offer, Effects]:
    """An offer is created by the first interaction on its SKU, in Sending."""
    offer = Offer(
        feed_id=interaction.feed_id,
        sku_id=interaction.sku_id,
        status=OfferStatus.SENDING,
        created_at=now,
        updated_at=now,
        status_since=now,
        last_interaction_id=interaction.id,
    )
    effects = Effects()
    effects.status_changes.append(
        StatusChange(
            None,
            OfferStatus.SENDING,
            interaction.id,
            None,
            f"first interaction on the SKU ({interaction.origin.value})",
            now,
        )
    )
    return offer, effects


def open_interaction(offer: Offer, interaction: Interaction, now: datetime) -> Effects:
    """A processing ``setup`` interaction puts the offer in Sending, unless it is in Error."""
    effects = Effects()
    offer.last_interaction_id = interaction.id
    offer.updated_at = now
    if interaction.context == Context.SETUP and offer.status != OfferStatus.ERROR:
        _change_status(
            offer,
            OfferStatus.SENDING,
            interaction=interaction,
            log_id=None,
            reason=f"{interaction.origin.value} setup interaction is processing",
            now=now,
            effects=effects,
        )
    return effects


def ensure_open(interaction: Interaction) -> None:
    if interaction.state == State.CLOSED:
        raise Conflict(
            f"interaction {interaction.id} is closed; open a new interaction to log more",
            code="interaction_closed",
        )


def append_log(offer: Offer, interaction: Interaction, log: Log, now: datetime) -> Effects:
    """Record a log on an open interaction.

    The log's data updates the interaction's summary and the offer's metadata and, unless
    the log is a failure, the offer's last known values (price, inventory, offer id). A
    failure log opens its errors on the offer at once and puts the offer in Error; an error
    already open with the same code (and, if unmapped, the same description fingerprint) is
    refreshed, not repeated.
    """

    ensure_open(interaction)
    effects = Effects()
    interaction.last_log_id = log.id
    interaction.log_count += 1
    interaction.last_activity_at = now
    interaction.data = merge_log_data(interaction.data, log.data)
    offer.updated_at = now
    if log.type == LogType.SUCCESS:
        interaction.has_success = True
    _apply_data(offer, log.data, OFFER_METADATA_FIELDS)
    if log.type != LogType.FAILURE:
        _apply_data(offer, log.data, OFFER_VALUE_FIELDS)
        if log.data.status == DataStatus.SENDING and offer.status != OfferStatus.ERROR:
            _change_status(
                offer,
                OfferStatus.SENDING,
                interaction=interaction,
                log_id=log.id,
                reason=f"{interaction.origin.value} log stated the offer is sending",
                now=now,
                effects=effects,
            )
        return effects

    interaction.has_failure = True
    for error in log.errors:
        occurrence = _find_open(offer, error)
        if occurrence is not None:
            occurrence.log_id = log.id
            occurrence.interaction_id = interaction.id
            occurrence.date = log.date
            occurrence.origin = interaction.origin
            occurrence.title = error.title
            occurrence.description = error.description
            occurrence.closable_origins = error.closable_origins
            effects.refreshed_errors.append(occurrence)
            continue
        occurrence = ErrorOccurrence(
            id=new_id(),
            code=error.code,
            error_code_id=error.error_code_id,
            origin=interaction.origin,
            interaction_id=interaction.id,
            log_id=log.id,
            date=log.date,
            external_code=error.external_code,
            title=error.title,
            description=error.description,
            closable_origins=error.closable_origins,
            fingerprint=error.fingerprint,
        )
        offer.open_errors.append(occurrence)
        effects.opened_errors.append(occurrence)
    count = len(log.errors)
    _change_status(
        offer,
        OfferStatus.ERROR,
        interaction=interaction,
        log_id=log.id,
        reason=f"{interaction.origin.value} failure log reported {count} error(s)",
        now=now,
        effects=effects,
    )
    return effects


def _find_open(offer: Offer, error: LogError) -> ErrorOccurrence | None:
    key = (error.code, error.external_code, _unmapped_key(error))
    for occurrence in offer.open_errors:
        if (occurrence.code, occurrence.external_code, _unmapped_key(occurrence)) == key:
            return occurrence
    return None


def _unmapped_key(error: LogError | ErrorOccurrence) -> str | None:
    # Every unrecognized error is NTMAP-001: only its description tells two of them apart.
    if error.error_code_id != UNMAPPED_CODE:
        return None
    return error.fingerprint or description_fingerprint(error.description or "")


# What a log says the channel now holds: applied unless the log is a failure.
OFFER_VALUE_FIELDS = offer_fields(FieldKind.VALUE)
# What describes the SKU itself: true whatever happened to the sending.
OFFER_METADATA_FIELDS = offer_fields(FieldKind.METADATA)


def _apply_data(offer: Offer, data: OfferData, fields: tuple[str, ...]) -> None:
    """The offer keeps the last value a connector reported for each field."""
    for name in fields:
        value = getattr(data, name)
        if value is not None:
            setattr(offer, name, value)


def is_closable_by(error: ErrorOccurrence, interaction: Interaction) -> bool:
    """An error is closable by the origins it lists, or by its own origin if it lists none."""
    origins = error.closable_origins or (error.origin,)
    return interaction.origin in origins


def close_interaction(offer: Offer, interaction: Interaction, now: datetime) -> Effects:
    """Close an interaction, fix its result and derive the offer's status from it.

    The status the interaction's logs last stated (``data.status``) decides first, whatever
    the result: ``unavailable``/``disabled`` makes the offer Unavailable; ``synced`` makes
    it Synced if no error is left open, else Error. Otherwise the result decides:

    - success makes the offer Synced if no error is left open, else Error;
    - notification changes nothing;
    - failure leaves the offer in Error.

    A success, or a notification stating ``synced``, first closes the open errors
    closable by the interaction's origin: the connector says the channel now holds what it
    sent (see ``stated_close_status``).
    """
    ensure_open(interaction)
    effects = Effects()
    interaction.state = State.CLOSED
    interaction.result = result_of_logs(interaction.has_failure, interaction.has_success)
    interaction.closed_at = now
    offer.updated_at = now
    stated = interaction.data.status
    origin = interaction.origin.value
    word = interaction.result.value

    if closes_errors(interaction.result, stated):
        still_open: list[ErrorOccurrence] = []
        for error in offer.open_errors:
            if is_closable_by(error, interaction):
                error.open = False
                error.closed_at = now
                error.closed_by_interaction_id = interaction.id
                effects.closed_errors.append(error)
            else:
                still_open.append(error)
        offer.open_errors = still_open

    left = len(offer.open_errors)
    target = status_on_close(interaction.result, stated, left)
    if target is None:
        return effects
    if stated in UNAVAILABLE_DATA:
        reason = f"{origin} {word} said the offer is {stated.value}"
    elif stated == DataStatus.SYNCED:
        reason = f"{origin} {word} stated the offer synchronized" + (
            f" but {left} error(s) are still open" if left else ""
        )
    elif interaction.result == Result.SUCCESS:
        reason = f"{origin} success left " + (f"{left} error(s) open" if left else "no open error")
    else:
        reason = f"{origin} interaction closed with failure"
    _change_status(
        offer,
        target,
        interaction=interaction,
        log_id=interaction.last_log_id,
        reason=reason,
        now=now,
        effects=effects,
    )
    return effects


def closes_errors(result: Result, stated: DataStatus | None) -> bool:
    """A close clears the errors its origin may close when it succeeded, or when its logs
    stated the offer synchronized without a failure (the SDK document's price and inventory
    flows report only ``Info`` logs with ``Status = "Synchronized"``)."""
    return result == Result.SUCCESS or (
        result == Result.NOTIFICATION and stated == DataStatus.SYNCED
    )


def status_on_close(
    result: Result, stated: DataStatus | None, open_errors_left: int
) -> OfferStatus | None:
    """The offer's status once an interaction closes, or None to leave it as it is.

    The connector's stated status wins over the result: Unavailable when it said
    unavailable or disabled; Synced when it said synchronized and no error is left open,
    else Error (a Synced offer never has an open error). With no such statement, a success
    gives Synced or Error the same way, a failure Error, a notification no change.
    """
    if stated in UNAVAILABLE_DATA:
        return OfferStatus.UNAVAILABLE
    if stated == DataStatus.SYNCED or result == Result.SUCCESS:
        return OfferStatus.ERROR if open_errors_left else OfferStatus.SYNCED
    if result == Result.FAILURE:
        return OfferStatus.ERROR
    return None


def stuck_cutoff(now: datetime, stuck_after: timedelta) -> datetime:
    """Offers in Sending since before this instant are stuck (see ``is_stuck``)."""
    return now - stuck_after


def is_stuck(status: OfferStatus, status_since: datetime | None, cutoff: datetime) -> bool:
    """An offer is stuck when it has been in Sending since before ``cutoff``, that is for
    longer than the stuck time (``stuck_cutoff``).

    Reports that never conclude (only information or warning logs, an ongoing interaction
    for a new SKU, a connector that died mid-flow) leave an offer in Sending; past that
    time the seller is told so rather than left to wonder.
    """
    return status == OfferStatus.SENDING and status_since is not None and status_since < cutoff


def is_idle(interaction: Interaction, now: datetime, idle_timeout: timedelta) -> bool:
    """An open interaction with no new log for longer than the idle timeout is forgotten."""
    last = interaction.last_activity_at or interaction.start_date
    return interaction.state == State.OPEN and now - last > idle_timeout


def idle_close_log(interaction: Interaction, now: datetime, idle_timeout: timedelta) -> Log:
    """The information log the service writes when it closes a forgotten interaction."""
    hours = idle_timeout.total_seconds() / 3600
    return Log(
        id=new_id(),
        interaction_id=interaction.id,
        date=now,
        type=LogType.INFORMATION,
        description=(
            f"Closed by the service: no new log for more than {hours:g} h. "
            "The connector never closed this interaction."
        ),
        agent="sentoffers",
    )


def close_idle_interaction(
    offer: Offer,
    interaction: Interaction,
    now: datetime,
    idle_timeout: timedelta,
    status_before_sending: OfferStatus | None,
) -> tuple[Log, Effects]:
    """Close a forgotten interaction with an information log saying so.

    So that no offer stays in Sending forever: when the close leaves the offer in Sending
    (no success or failure was ever logged), it goes back to the status it had before it
    entered Sending, or to Unavailable if the connector never finished sending it at all.
    """
    log = idle_close_log(interaction, now, idle_timeout)
    effects = append_log(offer, interaction, log, now)
    effects.extend(close_interaction(offer, interaction, now))
    if offer.status == OfferStatus.SENDING and interaction.result == Result.NOTIFICATION:
        if status_before_sending is not None and status_before_sending != OfferStatus.SENDING:
            target = status_before_sending
            reason = "the service closed an abandoned interaction; back to the status before it"
        else:
            target = OfferStatus.UNAVAILABLE
            reason = "the service closed an abandoned interaction; the connector never sent it"
        _change_status(
            offer,
            target,
            interaction=interaction,
            log_id=log.id,
            reason=reason,
            now=now,
            effects=effects,
        )
    return log, effects

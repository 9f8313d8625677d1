"""Builders of domain objects for the unit tests: fixed ids, fixed UTC dates, sane defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sentoffers.domain.error_codes import fingerprint
from sentoffers.domain.model import (
    UNMAPPED_CODE,
    Context,
    DataStatus,
    ErrorOccurrence,
    Interaction,
    Log,
    LogError,
    LogType,
    Offer,
    OfferData,
    OfferStatus,
    Origin,
    Source,
)
from sentoffers.domain.rules import append_log, create_offer

T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
FEED_ID = "vtex.netshoes"
SKU_ID = "1234"


def at(minutes: float = 0, *, hours: float = 0) -> datetime:
    """A fixed instant: ``T0`` plus the given offset."""
    return T0 + timedelta(minutes=minutes, hours=hours)


def make_interaction(
    *,
    id: str = "A" * 32,
    origin: Origin = Origin.CATALOG,
    context: Context = Context.ONGOING,
    source: Source = Source.CHANNEL,
    start_date: datetime = T0,
) -> Interaction:
    return Interaction(
        id=id,
        feed_id=FEED_ID,
        sku_id=SKU_ID,
        start_date=start_date,
        source=source,
        origin=origin,
        context=context,
    )


def make_offer(status: OfferStatus = OfferStatus.SYNCED) -> Offer:
    return Offer(feed_id=FEED_ID, sku_id=SKU_ID, status=status, created_at=T0, updated_at=T0)


def new_offer_from(interaction: Interaction, now: datetime = T0) -> Offer:
    """The offer the first interaction on the SKU creates, its effects dropped."""
    offer, _ = create_offer(interaction, now)
    return offer


def make_error(
    code: str = "CTLG-005",
    *,
    error_code_id: str | None = None,
    external_code: str | None = None,
    title: str = "Description too long",
    description: str = "The description has more than 4000 characters",
    closable_origins: tuple[Origin, ...] = (),
    unmapped: bool = False,
) -> LogError:
    """A log error; ``unmapped`` classifies it as NTMAP-001 and fingerprints its description."""
    return LogError(
        code=code,
        error_code_id=UNMAPPED_CODE if unmapped else (error_code_id or code),
        external_code=external_code,
        title=title,
        description=description,
        closable_origins=closable_origins,
        fingerprint=fingerprint(description) if unmapped else None,
    )


def make_log(
    type: LogType = LogType.INFORMATION,
    *,
    id: str = "L1",
    interaction: Interaction | None = None,
    date: datetime = T0,
    data: OfferData | None = None,
    errors: tuple[LogError, ...] = (),
    description: str = "",
) -> Log:
    return Log(
        id=id,
        interaction_id=interaction.id if interaction is not None else "A" * 32,
        date=date,
        type=type,
        description=description,
        agent="test-connector",
        data=data if data is not None else OfferData(),
        errors=errors,
    )


def success_log(
    *, id: str = "L-success", status: DataStatus | None = None, date: datetime = T0
) -> Log:
    return make_log(LogType.SUCCESS, id=id, date=date, data=OfferData(status=status))


def notification_log(
    *, id: str = "L-info", status: DataStatus | None = None, date: datetime = T0
) -> Log:
    return make_log(LogType.INFORMATION, id=id, date=date, data=OfferData(status=status))


def failure_log(*errors: LogError, id: str = "L-failure", date: datetime = T0) -> Log:
    return make_log(LogType.FAILURE, id=id, date=date, errors=errors)


def offer_in_error(
    *errors: LogError, origin: Origin = Origin.CATALOG, interaction_id: str = "F" * 32
) -> tuple[Offer, list[ErrorOccurrence]]:
    """A Synced offer that a failure log of ``origin`` has put in Error with ``errors``.

    The failing interaction is left open: its close is not what the test is about.
    """
    offer = make_offer(OfferStatus.SYNCED)
    failing = make_interaction(id=interaction_id, origin=origin)
    append_log(offer, failing, failure_log(*errors, id="L-setup-failure"), T0)
    return offer, list(offer.open_errors)

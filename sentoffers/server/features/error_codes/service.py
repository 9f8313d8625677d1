"""The error-code list: read by everyone, maintained by platform keys.

An account may override a code's solution (text and link): ``account_codes`` is the list as
that account sees it, and what its offers show.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    FromClause,
    Subquery,
    and_,
    case,
    delete,
    insert,
    select,
    update,
)

from sentoffers.contract.error_codes import (
    ErrorCodeCreate,
    ErrorCodeOverride,
    ErrorCodeRead,
    ErrorCodeUpdate,
)
from sentoffers.domain.errors import Conflict, InvalidInput, NotFound
from sentoffers.domain.model import UNMAPPED_CODE
from sentoffers.server.store.tables import error_code_overrides, error_codes
from sentoffers.sql.db import Database
from sentoffers.sql.dialect import upsert_rows


def _read(row: object) -> ErrorCodeRead:
    m = row._mapping  # type: ignore[attr-defined]
    return ErrorCodeRead(
        id=m["id"],
        type=m["type"],
        description=m["description"],
        solution_text=m["solution_text"],
        solution_link=m["solution_link"],
    )


def _not_found(code_id: str) -> NotFound:
    return NotFound(f"error code {code_id!r} is not in the list", field="errorCodeId")


def account_codes(account: str) -> Subquery:
    """The error codes as ``account`` sees them: its own solution where it overrides a code.

    An override replaces the solution as a whole (text and link), so an account may also
    drop a link it does not want shown. The columns are those of ``error_codes``.
    """
    mine = error_code_overrides
    overridden = mine.c.error_code_id.is_not(None)
    return (
        select(
            error_codes.c.id,
            error_codes.c.type,
            error_codes.c.description,
            case((overridden, mine.c.solution_text), else_=error_codes.c.solution_text).label(
                "solution_text"
            ),
            case((overridden, mine.c.solution_link), else_=error_codes.c.solution_link).label(
                "solution_link"
            ),
        )
        .select_from(
            error_codes.outerjoin(
                mine, and_(mine.c.account == account, mine.c.error_code_id == error_codes.c.id)
            )
        )
        .subquery("account_error_codes")
    )


def _codes(account: str | None) -> FromClause:
    return error_codes if account is None else account_codes(account)


def all_codes(conn: Connection, account: str | None = None) -> list[ErrorCodeRead]:
    """Every code, as ``account`` sees it (the global list when None)."""
    codes = _codes(account)
    return [_read(row) for row in conn.execute(select(codes).order_by(codes.c.id))]


def list_codes(db: Database, account: str | None = None) -> list[ErrorCodeRead]:
    with db.unit_of_work(write=False) as uow:
        return all_codes(uow.conn, account)


def get(db: Database, code_id: str, account: str | None = None) -> ErrorCodeRead:
    """One code, as ``account`` sees it (the global code when None)."""
    codes = _codes(account)
    with db.unit_of_work(write=False) as uow:
        row = uow.conn.execute(select(codes).where(codes.c.id == code_id.strip().upper())).first()
    if row is None:
        raise _not_found(code_id)
    return _read(row)


def create(db: Database, body: ErrorCodeCreate) -> ErrorCodeRead:
    code_id = body.id.upper()
    with db.unit_of_work() as uow:
        if uow.conn.execute(select(error_codes.c.id).where(error_codes.c.id == code_id)).first():
            raise Conflict(f"error code {code_id!r} already exists", code="error_code_exists")
        uow.conn.execute(insert(error_codes).values(id=code_id, **body.model_dump(exclude={"id"})))
        uow.commit()
    return ErrorCodeRead(id=code_id, **body.model_dump(exclude={"id"}))


def replace(db: Database, code_id: str, body: ErrorCodeUpdate) -> ErrorCodeRead:
    code_id = code_id.strip().upper()
    with db.unit_of_work() as uow:
        done = uow.conn.execute(
            update(error_codes).where(error_codes.c.id == code_id).values(**body.model_dump())
        )
        if done.rowcount == 0:
            raise _not_found(code_id)
        uow.commit()
    return ErrorCodeRead(id=code_id, **body.model_dump())


def remove(db: Database, code_id: str) -> None:
    """Delete a global code, and every account's override of it."""
    code_id = code_id.strip().upper()
    if code_id == UNMAPPED_CODE:
        raise InvalidInput(
            f"{UNMAPPED_CODE} classifies every unknown code and cannot be deleted",
            code="error_code_required",
            field="errorCodeId",
        )
    with db.unit_of_work() as uow:
        done = uow.conn.execute(delete(error_codes).where(error_codes.c.id == code_id))
        if done.rowcount == 0:
            raise _not_found(code_id)
        uow.conn.execute(
            delete(error_code_overrides).where(error_code_overrides.c.error_code_id == code_id)
        )
        uow.commit()


def override(db: Database, account: str, code_id: str, body: ErrorCodeOverride) -> ErrorCodeRead:
    """Set ``account``'s own solution for a global code; the code as the account now sees it."""
    code_id = code_id.strip().upper()
    with db.unit_of_work() as uow:
        code = uow.conn.execute(select(error_codes).where(error_codes.c.id == code_id)).first()
        if code is None:
            raise _not_found(code_id)
        solution = body.model_dump(include={"solution_text", "solution_link"})
        row = {"account": account, "error_code_id": code_id, **solution}
        upsert_rows(
            uow.conn,
            error_code_overrides,
            [{**row, "updated_at": datetime.now(UTC)}],
            update=["solution_text", "solution_link", "updated_at"],
        )
        uow.commit()
    return ErrorCodeRead(id=code_id, type=code.type, description=code.description, **solution)


def remove_override(db: Database, account: str, code_id: str) -> None:
    """Remove ``account``'s own solution for a code: it sees the global one again."""
    code_id = code_id.strip().upper()
    with db.unit_of_work() as uow:
        done = uow.conn.execute(
            delete(error_code_overrides).where(
                error_code_overrides.c.account == account,
                error_code_overrides.c.error_code_id == code_id,
            )
        )
        if done.rowcount == 0:
            raise NotFound(
                f"account {account!r} has no solution of its own for error code {code_id!r}",
                field="errorCodeId",
            )
        uow.commit()

"""The error-code list: read by everyone, maintained by admins."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from sentoffers.domain.model import UNMAPPED_CODE
from sentoffers.error_codes.schemas import ErrorCodeCreate, ErrorCodeRead, ErrorCodeUpdate
from sentoffers.errors import Conflict, InvalidInput, NotFound
from sentoffers.store.db import Database
from sentoffers.store.tables import error_codes


def _read(row: object) -> ErrorCodeRead:
    m = row._mapping  # type: ignore[attr-defined]
    return ErrorCodeRead(
        id=m["id"],
        type=m["type"],
        description=m["description"],
        solution_text=m["solution_text"],
        solution_link=m["solution_link"],
    )


def all_codes(conn: Connection) -> list[ErrorCodeRead]:
    return [_read(row) for row in conn.execute(select(error_codes).order_by(error_codes.c.id))]


def list_codes(db: Database) -> list[ErrorCodeRead]:
    with db.unit_of_work(write=False) as uow:
        return all_codes(uow.conn)


def get(db: Database, code_id: str) -> ErrorCodeRead:
    with db.unit_of_work(write=False) as uow:
        row = uow.conn.execute(
            select(error_codes).where(error_codes.c.id == code_id.strip().upper())
        ).first()
    if row is None:
        raise NotFound(f"error code {code_id!r} is not in the list", field="errorCodeId")
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
            raise NotFound(f"error code {code_id!r} is not in the list", field="errorCodeId")
        uow.commit()
    return ErrorCodeRead(id=code_id, **body.model_dump())


def remove(db: Database, code_id: str) -> None:
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
            raise NotFound(f"error code {code_id!r} is not in the list", field="errorCodeId")
        uow.commit()

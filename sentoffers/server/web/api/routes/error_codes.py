"""The error-code list over HTTP.

Without ``an``, the routes read and change the global list, which every account reads: only
platform keys change it. With ``an=ACCOUNT``, they read the list as that account sees it,
and change that account's own solution for a code (its admins only).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from sentoffers.contract.error_codes import (
    ErrorCodeCreate,
    ErrorCodeOverride,
    ErrorCodeRead,
    ErrorCodeUpdate,
)
from sentoffers.domain import permissions
from sentoffers.domain.errors import Forbidden, InvalidInput, Problem
from sentoffers.server.features.error_codes import service
from sentoffers.server.features.keys import Principal
from sentoffers.server.web.api.auth import CurrentPrincipal
from sentoffers.server.web.api.compat import ContractRoute
from sentoffers.server.web.api.deps import Db, ErrorCodes
from sentoffers.server.web.api.idempotency import IdempotencyKeyDep, keyed_write

router = APIRouter(
    prefix="/api/sent-offers/error-codes", tags=["Error codes"], route_class=ContractRoute
)

CodeId = Annotated[str, Path(alias="errorCodeId", max_length=64)]
OwnAccount = Annotated[
    str | None,
    Query(
        alias="an",
        min_length=1,
        max_length=128,
        description="An account: the codes as it sees them (its own solutions in place of the "
        "global ones), or, to change, that account's own solution. Without it, the global list.",
    ),
]
GLOBAL_FIELDS = ("type", "description")
"""What an account cannot override: the code's meaning is the same for every account."""

_Model = TypeVar("_Model", bound=BaseModel)


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True)


PUT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"anyOf": [_schema(ErrorCodeUpdate), _schema(ErrorCodeOverride)]}
            }
        },
    }
}
"""PUT's body: the global code (``ErrorCodeUpdate``) or, with ``an``, the account's solution."""


@router.get(
    "/{errorCodeId}",
    response_model=list[ErrorCodeRead],
    summary="Get Error Code data by errorCodeId",
    operation_id="RetrieveErrorCode",
)
def get_error_code(
    code_id: CodeId, principal: CurrentPrincipal, db: Db, an: OwnAccount = None
) -> list[ErrorCodeRead]:
    """The code, as a list holding it (the contract's shape). Error codes are global; with
    ``an``, the code as that account sees it."""
    account = _readable(principal, an)
    return [service.get(db, code_id, account)]


@router.get("", response_model=list[ErrorCodeRead], summary="List every error code")
def list_error_codes(
    principal: CurrentPrincipal, db: Db, an: OwnAccount = None
) -> list[ErrorCodeRead]:
    return service.list_codes(db, _readable(principal, an))


@router.post(
    "", status_code=201, response_model=ErrorCodeRead, summary="Create an error code (platform)"
)
def create_error_code(
    body: ErrorCodeCreate,
    principal: CurrentPrincipal,
    keyed: IdempotencyKeyDep,
    db: Db,
    error_codes: ErrorCodes,
) -> Response:
    """Platform keys maintain the list; connectors then use the code, with their own suffixes."""
    _require_global_change(principal)
    with keyed_write(db, keyed) as write:
        answer = write.answer(201, service.create(write.db, body))
    error_codes.reload()
    return answer


@router.put(
    "/{errorCodeId}",
    response_model=ErrorCodeRead,
    summary="Update an error code (platform), or an account's own solution for it (admin)",
    openapi_extra=PUT_BODY,
)
def update_error_code(
    code_id: CodeId,
    body: Annotated[dict[str, Any], Body()],
    principal: CurrentPrincipal,
    db: Db,
    an: OwnAccount = None,
) -> ErrorCodeRead:
    """Without ``an``: replace the global code (type, description, solution), which every
    account reads. With ``an``: set that account's own ``solutionText`` and ``solutionLink``
    for the code, shown on its offers only; the answer is the code as the account sees it."""
    if an is None:
        _require_global_change(principal)
        return service.replace(db, code_id, _parse(ErrorCodeUpdate, body))
    account = _overridable(principal, an)
    _reject_global_fields(body)
    return service.override(db, account, code_id, _parse(ErrorCodeOverride, body))


@router.delete(
    "/{errorCodeId}",
    status_code=204,
    response_class=Response,
    summary="Delete an error code (platform), or an account's own solution for it (admin)",
)
def delete_error_code(
    code_id: CodeId,
    principal: CurrentPrincipal,
    db: Db,
    error_codes: ErrorCodes,
    an: OwnAccount = None,
) -> Response:
    """Without ``an``: later logs with this code are classified NTMAP-001; errors already
    open keep it. With ``an``: the account sees the global solution again."""
    if an is None:
        _require_global_change(principal)
        service.remove(db, code_id)
        error_codes.reload()
    else:
        service.remove_override(db, _overridable(principal, an), code_id)
    return Response(status_code=204)


def _readable(principal: Principal, an: str | None) -> str | None:
    if an is None:
        return None
    account = an.strip()
    principal.require_read(account)
    return account


def _require_global_change(principal: Principal) -> None:
    if not permissions.may_change_global_error_codes(principal):
        raise Forbidden(
            "only a platform key changes the global error codes, which every account reads; "
            "an account's admin sets its own solution for a code with ?an=ACCOUNT",
            code="platform_only",
        )


def _overridable(principal: Principal, an: str) -> str:
    account = an.strip()
    principal.require_read(account)
    if not permissions.may_override_error_code(principal, account):
        raise Forbidden(
            f"only an admin of account {account!r} sets its own solution for an error code",
            code="admin_only",
        )
    return account


def _reject_global_fields(body: dict[str, Any]) -> None:
    sent = {str(key).lower() for key, value in body.items() if value is not None}
    problems = [
        Problem(
            "not_overridable",
            f"{name} is the global code's and the same for every account; an account sets "
            "only solutionText and solutionLink",
            name,
        )
        for name in GLOBAL_FIELDS
        if name in sent
    ]
    if problems:
        raise InvalidInput.of(problems)


def _parse(model: type[_Model], body: dict[str, Any]) -> _Model:
    """``body`` as ``model``, its problems answered like any request body's (400, all listed)."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        raise RequestValidationError(errors) from None

"""The errors the service raises, each carrying a stable code.

ServiceError
├── InvalidInput   400  (carries every problem found, never only the first)
├── Unauthorized   401
├── Forbidden      403
├── NotFound       404
├── Conflict       409
├── Gone           410  (e.g. an interaction whose details were purged)
└── PayloadTooLarge 413
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem with a request: a machine code, a message and the field it concerns."""

    code: str
    message: str
    field: str | None = None


class ServiceError(Exception):
    status_code = 500
    default_code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.problems: list[Problem] = [Problem(code or self.default_code, message, field)]

    @property
    def message(self) -> str:
        return self.problems[0].message


class InvalidInput(ServiceError):
    status_code = 400
    default_code = "invalid"

    @classmethod
    def of(cls, problems: list[Problem]) -> InvalidInput:
        error = cls(problems[0].message, code=problems[0].code, field=problems[0].field)
        error.problems = list(problems)
        return error


class Unauthorized(ServiceError):
    status_code = 401
    default_code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    default_code = "forbidden"


class NotFound(ServiceError):
    status_code = 404
    default_code = "not_found"


class Conflict(ServiceError):
    status_code = 409
    default_code = "conflict"


class Gone(ServiceError):
    status_code = 410
    default_code = "gone"


class PayloadTooLarge(ServiceError):
    status_code = 413
    default_code = "payload_too_large"

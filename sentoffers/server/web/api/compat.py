"""The route class every API route uses: strict JSON bodies, answers without nulls, error
answers documented."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from sentoffers.server.web.api.errors import ERROR_RESPONSES


class ContractRoute(APIRoute):
    """Every route of the API reads its JSON body strictly (``loads_strict``), answers
    without null values, and documents its error answers."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_none"] = True
        kwargs["responses"] = {**ERROR_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_json_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_json_handler


class StrictJSONRequest(Request):
    """A request whose JSON body is read by ``loads_strict``."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


def loads_strict(body: bytes | str) -> Any:
    """JSON as RFC 8259 has it: no ``NaN``, ``Infinity`` or ``-Infinity``, and no number out
    of a double's range (``1e309``), which Python's ``json`` would read as a float.

    Raises ``json.JSONDecodeError``, which FastAPI answers as invalid JSON (a 400).
    """
    try:
        return json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # from the hooks, or an integer of over 4,300 digits
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        raise json.JSONDecodeError(str(error), text, 0) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value (JSON numbers are finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of range (a JSON number is finite)")
    return value

"""The route class every API route uses: answers without nulls, error answers documented."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute

from sentoffers.api.errors import ERROR_RESPONSES


class ContractRoute(APIRoute):
    """Every route of the API answers without null values, and documents its error answers."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_none"] = True
        kwargs["responses"] = {**ERROR_RESPONSES, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

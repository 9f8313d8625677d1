"""The API's routes, one module per resource: parse the request, call a feature, answer."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Serve ``router``'s routes on ``app`` as they were built, once, with their router.

    ``include_router`` would build every route's models again for each app that includes it
    (on its first request), to give the route an including app's prefix, dependencies and
    overrides; these routers take none (their prefix is their own), and an app made per
    test would pay it each time.
    """
    app.router.routes.extend(router.routes)

"""The seller's web UI, served by the service itself at ``/``.

Server-rendered pages (Jinja2, autoescaped) over the same service functions as the API;
JavaScript only enhances them (the evidence dialog, live updates). See ``install_ui``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from sentoffers.server.web.api.routes import add_routes
from sentoffers.server.web.ui import export, live, pages, session
from sentoffers.server.web.ui.errors import install_error_pages
from sentoffers.server.web.ui.security import SecurityHeadersMiddleware, image_origins

STATIC = Path(__file__).parent / "static"

__all__ = ["SecurityHeadersMiddleware", "image_origins", "install_ui"]


def install_ui(app: FastAPI) -> None:
    """Add the UI's routes, its static files and its HTML error pages to ``app``.

    Call after the API's error handlers are installed; add ``SecurityHeadersMiddleware``
    with the app's other middleware, given the ``image_origins`` of its settings.
    """
    # The export's path is more specific than the offer page's, so it comes first.
    for router in (session.router, export.router, live.router, pages.router):
        add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_error_pages(app)

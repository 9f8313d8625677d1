"""The service: the official API, the unified contract and its batch form, and the seller's
web UI, over one store.

``app`` is the composition root. Below it, ``web`` (HTTP: the API's routes and plumbing, the
UI) calls ``features`` (what each part of the product does), which use ``store`` (tables,
mapping, queries, migrations); all of them stand on ``sentoffers.domain`` and
``sentoffers.contract``. See docs/architecture.md.
"""

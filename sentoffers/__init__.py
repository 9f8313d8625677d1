"""sentoffers: an open, self-hostable Offer Management service."""

__version__ = "0.1.0"

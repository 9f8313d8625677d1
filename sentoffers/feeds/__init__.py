"""Feeds: a seller account connected to a channel."""

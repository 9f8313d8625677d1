"""Channels: the marketplaces offers are sent to."""

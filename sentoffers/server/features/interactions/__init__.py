"""Interactions and their logs: the write path of the service."""

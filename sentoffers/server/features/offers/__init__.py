"""Offers: what sellers look at — status, open errors, why, and what happened."""

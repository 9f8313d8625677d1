"""The Offer Management domain: entities and rules, free of storage and HTTP."""

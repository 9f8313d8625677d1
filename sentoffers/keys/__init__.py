"""API keys: creation, authentication and the tokens exchanged for them."""

"""The HTTP adapter: app factory, error rendering, authentication, compatibility parsing."""

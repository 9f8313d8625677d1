"""The error-code list: global, maintained by admins, read by connectors."""

"""The error-code list: global, maintained by platform keys, read by connectors.

An account's admins may override a code's solution (text and link) for their own account;
that account's offers then show its own solution, and no other account sees it.
"""

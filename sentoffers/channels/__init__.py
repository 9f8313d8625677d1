"""Channels: the marketplaces offers are sent to.

A channel is global: every account's feeds of ``vtex.amazon`` show the same name and logo.
Creating one is first come (a connector or admin, for one of its accounts; a second create
is a conflict, never a change), and only a platform key changes it afterwards, so no account
changes what another account shows.
"""

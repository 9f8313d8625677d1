"""SQL plumbing shared by the service and the connector toolkit: engines, the unit of work,
dialect helpers and group commit. Knows no table of either."""

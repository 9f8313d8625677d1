"""What the service tells its operators: JSON log lines and Prometheus metrics.

``logs`` formats every log line (the service's, uvicorn's) as JSON or text, tagged with
the request's id and account; ``metrics`` holds the process's Prometheus metrics and the
small hooks the HTTP layer, the group commit and the background jobs call. Neither imports
anything of the service, so any layer may call them.
"""

"""The process's Prometheus metrics, and the hooks that feed them.

Metrics are per process. Under several uvicorn workers, ``sentoffers serve --workers N``
sets ``PROMETHEUS_MULTIPROC_DIR`` (a fresh directory) unless it is set already, and
``exposition`` then adds up every worker's figures; without it, each scrape would see
whichever worker answered it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "exposition",
    "job_run",
    "observe_group",
    "observe_request",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REGISTRY = CollectorRegistry(auto_describe=True)
"""The service's own registry: the library's default one may hold other libraries'
metrics, and a test process builds many apps."""
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

HTTP_REQUESTS = Counter(
    "sentoffers_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "sentoffers_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
GROUP_SIZES = Histogram(
    "sentoffers_group_commit_batch_size",
    "Items written (or sent) together by one group commit, by what they are.",
    ["what"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    registry=REGISTRY,
)
# `task`, not `job`: Prometheus puts its own `job` label on every scraped series.
JOB_RUNS = Counter(
    "sentoffers_job_runs",
    "Runs of a background job, failed ones included.",
    ["task"],
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "sentoffers_job_failures",
    "Runs of a background job that raised.",
    ["task"],
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "sentoffers_job_duration_seconds",
    "How long one run of a background job took.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0),
    registry=REGISTRY,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request; ``route`` is its template, never the raw path."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


def observe_group(what: str, size: int) -> None:
    """One group commit of ``size`` items."""
    GROUP_SIZES.labels(what).observe(size)


@contextmanager
def job_run(task: str) -> Iterator[None]:
    """Count and time one run of the background job ``task``; one that raises fails."""
    started = time.perf_counter()
    JOB_RUNS.labels(task).inc()
    try:
        yield
    except Exception:
        JOB_FAILURES.labels(task).inc()
        raise
    finally:
        JOB_DURATION.labels(task).observe(time.perf_counter() - started)


def exposition() -> bytes:
    """Every metric in Prometheus's text format: every worker's, added up, in
    multiprocess mode; else this process's."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)

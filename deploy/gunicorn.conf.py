"""gunicorn settings for the web process (``gunicorn config.wsgi --config deploy/gunicorn.conf.py``).

Environment: ``PORT`` (8000), ``BIND_ADDRESS`` (all interfaces), ``WEB_CONCURRENCY``
(workers; 2 × cores + 1 by default), ``FORWARDED_ALLOW_IPS`` (the proxy's address).

The workers' request figures go to files in ``PROMETHEUS_MULTIPROC_DIR`` (default
``$TRACKER_VAR_DIR/prometheus``, emptied at start), so ``/metrics`` sums every worker,
whichever one answers. It is set here, for the web only: Celery processes keep their
figures in memory and need no such directory.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path
from typing import Any

# Before any worker imports prometheus_client, which reads it once.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(os.environ.get("TRACKER_VAR_DIR", "var")) / "prometheus"))

# All interfaces by default: the proxy or load balancer is on another machine.
bind = f"{os.environ.get('BIND_ADDRESS', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30
graceful_timeout = 20
max_requests = 2000  # recycle workers now and then: bounded memory over months
max_requests_jitter = 200
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server: Any) -> None:
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)  # figures of a previous run's workers
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

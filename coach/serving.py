"""How the coach is served: the gunicorn settings that both the shipped
`gunicorn.conf.py` (for `gunicorn -c gunicorn.conf.py 'coach:create_app()'`) and
`coach serve` use, so that the two never drift apart.

Why these numbers:

- `gthread`: a streamed reply holds its thread for as long as the model talks, so
  the concurrency we need is threads, not processes. A thread waiting on the
  model costs little memory and no CPU. (`sync` holds one stream per process and
  kills it at `timeout`; gevent would need every library, psycopg included,
  patched for it.)
- threads: gthread hands a connection to a thread once its first bytes arrive
  and that thread then waits for the rest of the headers, however long the
  client takes. A client that sends half a request therefore holds a thread, as
  does each stream. 128 threads per worker leave room for 64 streams plus dozens
  of such idle connections before `/healthz` queues. Put a proxy that buffers
  requests (nginx does by default) in front in production; it absorbs slow
  clients entirely.
- workers: the rate limits count in memory unless COACH_REDIS_URL is set, and
  several processes counting alone would each allow the full limit. So one
  worker without Redis, two with it (a second core; and one worker dying leaves
  the other serving). This reads COACH_REDIS_URL from the environment: set only
  in the instance's config.py, it is not seen here; say `--workers 2` then.
  `--workers` on the command line overrides it.
- measured (`tests/test_serving.py`: 64 streams from the fake model at once, 40
  half-sent requests held open, on a busy two-core machine): 1 worker x 16
  threads, the old default, left /healthz timing out and 64 streams got their
  first byte after 13 s (median; p95 27 s); 1 x 128 gives a median of 2-3.5 s
  and p95 2.5-5 s, every stream open at once, /healthz under 1.6 s; 2 x 64
  (with Redis) a median of 1.9 s, p95 2.8 s. The first byte waits for the
  safety screen and the turn's database writes, which share one core's GIL
  inside a worker: that, not threads, is what a second worker buys.
- graceful_timeout: on a restart a worker finishes the replies it is writing;
  it may take as long as the longest reply before gunicorn kills it, or the
  reply would be cut (the reply mark would free the conversation anyway).
- logging: gunicorn's own loggers use the coach's configuration (`coach.logs`),
  and the access log is the app's (`coach.web.request_log`), which knows each
  request's id, so gunicorn's own access log is off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from coach.coaching.reply_mark import LONGEST_REPLY_SECONDS
from coach.logs import logging_config
from coach.metrics import forget_worker
from coach.web.shutdown import post_worker_init

THREADS_PER_WORKER = 128
# A little over the longest reply: the worker stores what it has before it exits.
GRACEFUL_TIMEOUT = int(LONGEST_REPLY_SECONDS) + 10


def worker_count(environment: Mapping[str, str] = os.environ) -> int:
    """One worker while the rate limits count in memory, two once Redis shares them."""
    return 2 if environment.get("COACH_REDIS_URL") else 1


def gunicorn_settings(environment: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Gunicorn's settings by their names in its configuration file."""
    return {
        "worker_class": "gthread",
        "workers": worker_count(environment),
        "threads": THREADS_PER_WORKER,
        # Heartbeats come from each worker's main loop, not from the threads that
        # stream, so a long reply never trips it; a worker that hangs does.
        "timeout": 30,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": 5,
        "accesslog": None,
        "logconfig_dict": logging_config(environment),
        # Each worker writes its metrics to files in one folder that /metrics adds up
        # (prepared before the app is built: by gunicorn.conf.py, or `coach serve`).
        "child_exit": _child_exit,
        # On shutdown, a reply that cannot finish in time stores what it has.
        "post_worker_init": post_worker_init,
    }


def _child_exit(_server: Any, worker: Any) -> None:
    forget_worker(worker.pid)

"""gunicorn settings for production and `make bench` (command-line flags still override them).

gthread workers: the site waits on PostgreSQL, Redis and Stripe, and threads share one
process's caches and connections. After a worker has loaded Django, everything loaded
so far (modules, URLconf, settings, templates' engines) is moved out of the garbage
collector's reach with gc.freeze(): a full collection then walks only what requests
created, instead of pausing a request for every object of the loaded application.
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # e.g. "-" for stdout


def post_worker_init(worker):
    gc.collect()
    gc.freeze()

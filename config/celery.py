"""Celery application: configured from Django settings (CELERY_*), tasks autodiscovered.

Database connections in a worker follow Django's rules for requests, not Celery's:
Celery's Django fixup closes every connection before and after each task unless
`CELERY_DB_REUSE_MAX` is set, so each task used to open a new PostgreSQL connection (a
backend forked, authenticated and set up: about a fifth of a webhook job's wall time).
Settings set `CELERY_DB_REUSE_MAX` (the fixup then closes them only every that many
tasks), and the handlers below do what Django does around a request: close a connection
that is past `CONN_MAX_AGE`, left in a transaction, or broken after an error (health
checks on), and keep the others for the next task. Eager tasks run inside the caller's
request or transaction and are left alone.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("plateau")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _connections_close_old(sender=None, **kwargs) -> None:
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()

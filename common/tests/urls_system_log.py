"""Views that log, for the system log tests (ROOT_URLCONF is pointed here)."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path

logger = logging.getLogger("plateau.test")


@login_required
def logs_a_warning(request):
    logger.warning("stock of %s is low", "widgets", extra={"organization_id": 42, "context": {"left": 3}})
    return HttpResponse("ok")


def logs_an_event(request):
    logger.info("payment failed for invoice %s", "in_1", extra={"event": "payment_failed", "context": {"n": 1}})
    logger.info("an ordinary info line")
    return HttpResponse("ok")


def breaks(request):
    raise RuntimeError("the view broke")


urlpatterns = [
    path("warn", logs_a_warning),
    path("event", logs_an_event),
    path("break", breaks),
    path("", include("config.urls")),
]

"""Sentry, by setting (SENTRY_DSN): the official SDK with its Django and Celery integrations.

Called from settings only when a DSN is set; nothing is sent otherwise. Events carry the
request id as a tag, so a Sentry issue leads to the same request's log lines and
SystemLog rows.
"""

from common.request_id import get_request_id


def before_send(event, hint):
    request_id = get_request_id()
    if request_id and request_id != "-":
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def sentry_init(*, dsn: str, environment: str, release: str | None, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=False)],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,  # no cookies, headers with credentials or user emails leave for Sentry
        before_send=before_send,
    )

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self):
        # common.events.track() only buffers; this starts a flush once enough events wait
        # (or at once when Celery is eager, the embedded default). Nobody imports analytics.
        from analytics.tasks import events_flush_when_due
        from common.events import flusher_register

        flusher_register(events_flush_when_due)

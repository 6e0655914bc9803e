from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self):
        # common.events.track() only buffers; this is what starts a flush when enough wait
        # (or at once when Celery is eager, the embedded default). Nobody imports analytics.
        from analytics.tasks import events_flush
        from common.events import flusher_register

        flusher_register(events_flush.delay)

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"

    def ready(self):
        # common.events.track() only buffers; this starts a flush once enough events wait
        # (or at once when Celery is eager, the embedded default). Nobody imports analytics.
        from analytics.selectors import item_audience_from_events
        from analytics.tasks import events_flush_when_due
        from common.events import flusher_register
        from common.item_audience import item_audience_provider_register

        flusher_register(events_flush_when_due)
        # The seller dashboard's views, unique viewers and renders (marketplace reads them through common).
        item_audience_provider_register(item_audience_from_events)

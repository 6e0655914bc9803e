from django.contrib import admin, messages

from common.models import BackupLog, OutboxMessage, SystemLog
from common.outbox import outbox_publish


@admin.register(SystemLog)
class SystemLogAdmin(admin.ModelAdmin):
    """Read-only: rows are evidence written by the logging handler."""

    list_display = (
        "created_at",
        "level",
        "event",
        "logger",
        "short_message",
        "request_id",
        "user_id",
        "organization_id",
        "source",
    )
    list_filter = ("level", "event", "logger", ("created_at", admin.DateFieldListFilter))
    search_fields = ("message", "request_id", "logger", "event")
    date_hierarchy = "created_at"
    list_per_page = 100
    show_full_result_count = False  # a count(*) of a big log on every page is not worth it

    @admin.display(description="message")
    def short_message(self, obj):
        return obj.message[:120]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BackupLog)
class BackupLogAdmin(admin.ModelAdmin):
    list_display = ("started_at", "kind", "status", "size_bytes", "duration", "path", "triggered_by", "pruned_at")
    list_filter = ("kind", "status", "database_vendor")
    search_fields = ("path", "checksum", "error")
    date_hierarchy = "started_at"

    @admin.display(description="seconds")
    def duration(self, obj):
        seconds = obj.duration_seconds
        return "" if seconds is None else f"{seconds:.1f}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "handler", "key", "attempts", "published_at", "done_at", "last_error"]
    list_filter = ["handler", ("done_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "handler", "last_error"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["publish_again"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Run again now")
    def publish_again(self, request, queryset):
        published = sum(
            outbox_publish(message_id=pk) for pk in queryset.filter(done_at__isnull=True).values_list("pk", flat=True)
        )
        messages.info(request, f"Published {published} message(s).")

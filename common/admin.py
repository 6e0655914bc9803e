from django.contrib import admin, messages

from common.models import OutboxMessage
from common.outbox import outbox_publish


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

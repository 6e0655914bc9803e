"""Marketplace back office: staff see and correct templates; publishing goes through the service's rules."""

from django.contrib import admin, messages
from rest_framework.exceptions import APIException

from marketplace.models import PromptTemplate
from marketplace.services import prompt_template_publish


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "seller", "category", "price_amount", "currency", "status", "published_at"]
    list_filter = ["status", "category"]
    search_fields = ["title", "slug", "tags", "seller__name"]
    list_select_related = ["seller"]
    autocomplete_fields = ["seller"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["status", "published_at", "created_at", "updated_at"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        # The slug is the item id on buyers' purchases: it cannot change once on sale.
        if obj is not None and obj.is_published:
            return [*self.readonly_fields, "slug"]
        return self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.is_published else self.prepopulated_fields

    @admin.action(description="Publish (as a seller or admin of the selling organization)")
    def publish(self, request, queryset):
        published = 0
        for template in queryset.select_related("seller"):
            try:
                prompt_template_publish(template=template, actor=request.user)
                published += 1
            except APIException as error:
                messages.error(request, f"{template}: {error.detail}")
        if published:
            messages.success(request, f"Published {published} template(s).")

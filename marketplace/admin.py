"""Marketplace back office: templates (through the studio's rules), review moderation, the ledger, payouts."""

from django import forms
from django.contrib import admin, messages
from rest_framework.exceptions import APIException

from marketplace.models import PromptTemplate
from marketplace.services.templates import (
    prompt_template_archive,
    prompt_template_field_problems,
    prompt_template_problems,
    prompt_template_publish,
    prompt_template_unpublish,
)


class PromptTemplateAdminForm(forms.ModelForm):
    """Staff edits obey the studio's rules: valid fields always, the publishing rules while on sale."""

    class Meta:
        model = PromptTemplate
        fields = [
            "seller",
            "title",
            "slug",
            "description",
            "category",
            "tags",
            "body",
            "variables",
            "example_output",
            "price_amount",
            "currency",
            "visibility",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        candidate = self.instance
        for field, value in cleaned.items():
            setattr(candidate, field, value)
        problems = prompt_template_field_problems(template=candidate)
        if candidate.is_published:
            problems = {**problems, **prompt_template_problems(template=candidate)}
        for field, items in problems.items():
            for item in items:
                self.add_error(field if field in self.fields else None, item)
        return cleaned


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    form = PromptTemplateAdminForm
    list_display = ["title", "seller", "category", "price_amount", "currency", "status", "visibility", "published_at"]
    list_filter = ["status", "visibility", "category"]
    search_fields = ["title", "slug", "tags", "seller__name"]
    list_select_related = ["seller"]
    autocomplete_fields = ["seller"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "status",
        "published_at",
        "created_at",
        "updated_at",
        "rating_count",
        "rating_sum",
        "rating_average",
        "sales_count",
        "revenue_amount",
        "validation_result",
    ]
    actions = ["publish", "unpublish", "archive"]

    def get_readonly_fields(self, request, obj=None):
        # The slug is the item id on buyers' purchases: it cannot change once it has been on sale.
        if obj is not None and obj.published_at is not None:
            return [*self.readonly_fields, "slug"]
        return self.readonly_fields

    def get_prepopulated_fields(self, request, obj=None):
        return {} if obj is not None and obj.published_at is not None else self.prepopulated_fields

    def _change_each(self, request, queryset, change, done: str):
        changed = 0
        for template in queryset.select_related("seller"):
            try:
                change(template=template, actor=request.user)
                changed += 1
            except APIException as error:
                messages.error(request, f"{template}: {error.detail}")
        if changed:
            messages.success(request, f"{done} {changed} template(s).")

    @admin.action(description="Publish (as a seller or admin of the selling organization)")
    def publish(self, request, queryset):
        self._change_each(request, queryset, prompt_template_publish, "Published")

    @admin.action(description="Unpublish (as a seller or admin of the selling organization)")
    def unpublish(self, request, queryset):
        self._change_each(request, queryset, prompt_template_unpublish, "Unpublished")

    @admin.action(description="Archive (as a seller or admin of the selling organization)")
    def archive(self, request, queryset):
        self._change_each(request, queryset, prompt_template_archive, "Archived")

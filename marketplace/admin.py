"""Marketplace back office: templates (through the studio's rules), review moderation, the ledger, payouts."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from rest_framework.exceptions import APIException
from reversion.admin import VersionAdmin

from marketplace.cache import catalogue_changed
from marketplace.models import LedgerEntry, Payout, PromptTemplate, Review, ReviewReport
from marketplace.services.ledger import payout_record, seller_balance_amount
from marketplace.services.reviews import review_hide, review_unhide
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
class PromptTemplateAdmin(VersionAdmin):
    """History and rollback come from django-reversion; a rollback goes through the same form rules."""

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

    def save_model(self, request, obj, form, change):
        obj.seller_name = obj.seller.name  # searched with the template
        super().save_model(request, obj, form, change)
        catalogue_changed()

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


class ReviewReportInline(admin.TabularInline):
    model = ReviewReport
    extra = 0
    fields = ["reporter", "reason", "created_at", "resolved_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Moderation: staff hide (or show again) a review; a hidden one leaves the template's rating."""

    list_display = ["template", "rating", "author", "organization", "created_at", "hidden_at", "open_reports"]
    list_filter = ["rating", ("hidden_at", admin.EmptyFieldListFilter)]
    search_fields = ["text", "template__title", "author__email"]
    list_select_related = ["template", "author", "organization"]
    fields = ["template", "organization", "author", "rating", "text", "seller_reply", "hidden_at", "hidden_reason"]
    readonly_fields = fields
    inlines = [ReviewReportInline]
    actions = ["hide", "unhide"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_open_reports=Count("reports", filter=Q(reports__resolved_at__isnull=True)))
        )

    @admin.display(description="Open reports", ordering="_open_reports")
    def open_reports(self, review):
        return review._open_reports

    def has_add_permission(self, request):
        return False

    @admin.action(description="Hide (moderation): off the page and out of the rating")
    def hide(self, request, queryset):
        for review in queryset:
            review_hide(review=review, actor=request.user, reason="Hidden by a moderator.")
        messages.success(request, f"Hid {queryset.count()} review(s).")

    @admin.action(description="Show again")
    def unhide(self, request, queryset):
        for review in queryset:
            review_unhide(review=review, actor=request.user)
        messages.success(request, f"Showed {queryset.count()} review(s) again.")


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are written by billing's purchase and refund callbacks, never by hand."""

    list_display = ["created_at", "seller", "kind", "template", "gross_amount", "fee_amount", "amount", "currency"]
    list_filter = ["kind", "currency"]
    search_fields = ["seller__name", "template__title"]
    list_select_related = ["seller", "template"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PayoutForm(forms.ModelForm):
    class Meta:
        model = Payout
        fields = ["seller", "amount", "currency", "reference", "paid_on"]

    def clean(self):
        cleaned = super().clean()
        seller, amount, currency = cleaned.get("seller"), cleaned.get("amount"), cleaned.get("currency")
        if seller is not None and amount is not None and currency:
            owed = seller_balance_amount(seller_id=seller.pk, currency=currency)
            if amount > owed:
                self.add_error("amount", f"The seller is owed {owed} {currency} minor units; pay at most that.")
        return cleaned


@admin.register(Payout)
class PayoutAdmin(admin.ModelAdmin):
    """Staff record a payout sent outside Plateau; it is a financial record: no edits, no deletes."""

    form = PayoutForm
    list_display = ["paid_on", "seller", "amount", "currency", "reference", "recorded_by"]
    search_fields = ["seller__name", "reference"]
    list_select_related = ["seller", "recorded_by"]
    autocomplete_fields = ["seller"]

    def has_change_permission(self, request, obj=None):
        return obj is None

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        saved = payout_record(
            seller=obj.seller,
            amount=obj.amount,
            currency=obj.currency,
            reference=obj.reference,
            paid_on=obj.paid_on,
            actor=request.user,
        )
        obj.pk = saved.pk

"""Billing back office. Computed tables are read-only; staff grants go through services.

Customers (our copy of each organization's Stripe customer) are listed read-only: searchable by
name, email, Stripe id and organization, filtered by archived. Each action is tested through the
changelist in tests/test_admin_actions.py (refund in tests/test_refunds.py).

Failed Stripe webhooks are listed under "Webhook event triggers" with their error and
traceback; the action "Process again" runs them through the same intake as Stripe's
deliveries, and replays converge. Refused deliveries are counted under "Webhook rejections".
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from djstripe.admin.admin import WebhookEventTriggerAdmin as DjstripeWebhookEventTriggerAdmin
from djstripe.models import WebhookEventTrigger
from rest_framework.exceptions import APIException

from billing.models import (
    BillingEmail,
    Customer,
    EntitlementGrant,
    ManualDiscount,
    Purchase,
    PurchaseRefund,
    StaffQuotaGrant,
    SubscriptionState,
    UsageCounter,
    UsageLedgerEntry,
    WebhookRejection,
)
from billing.money import money_display
from billing.services.entitlements import entitlements_refresh
from billing.services.purchases import purchase_refund
from billing.services.staff import manual_discount_save, staff_quota_grant_delete, staff_quota_grant_save
from billing.services.subscription_changes import subscription_cancel
from billing.services.subscriptions import subscription_state_sync
from billing.services.webhook_intake import webhook_trigger_process
from billing.tasks import billing_email_send_task


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    """Our copy of each organization's Stripe customer: written by billing's services and Stripe's
    `customer.*` webhooks (the API's create, update and archive), so read-only here."""

    list_display = ["name", "email", "organization", "stripe_customer_id", "created_at", "updated_at", "archived_at"]
    list_filter = [("archived_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "email", "stripe_customer_id", "organization__name", "organization__slug"]
    list_select_related = ["organization"]
    readonly_fields = [f.name for f in Customer._meta.fields]
    date_hierarchy = "created_at"


@admin.register(SubscriptionState)
class SubscriptionStateAdmin(ReadOnlyAdmin):
    list_display = ["organization", "plan", "status", "current_period_end", "cancel_at_period_end", "grace_until"]
    list_filter = ["plan", "status", "cancel_at_period_end"]
    search_fields = ["organization__name", "organization__email", "stripe_customer_id", "stripe_subscription_id"]
    list_select_related = ["organization"]
    actions = ["resync", "cancel_now"]

    @admin.action(description="Re-sync from Stripe's mirror and refresh entitlements")
    def resync(self, request, queryset):
        for state in queryset.select_related("organization"):
            subscription_state_sync(organization=state.organization)
            entitlements_refresh(organization=state.organization)  # even if the state did not change
        messages.success(request, f"Re-synced {queryset.count()} organization(s).")

    @admin.action(description="Cancel the subscription now (no refund; access ends at once)")
    def cancel_now(self, request, queryset):
        cancelled = 0
        for state in queryset.select_related("organization").exclude(stripe_subscription_id=""):
            try:
                subscription_cancel(
                    organization=state.organization,
                    subscription_id=state.stripe_subscription_id,
                    at_period_end=False,
                    actor=request.user,
                )
                cancelled += 1
            except APIException as error:
                messages.error(request, f"{state.organization}: {error.detail}")
        if cancelled:
            messages.success(request, f"Cancelled {cancelled} subscription(s) at once.")


@admin.register(EntitlementGrant)
class EntitlementGrantAdmin(ReadOnlyAdmin):
    list_display = ["organization", "feature", "limit", "period", "cycle_end", "source", "updated_at"]
    list_filter = ["feature", "period"]
    search_fields = ["organization__name"]
    list_select_related = ["organization"]
    actions = ["refresh"]

    @admin.action(description="Recompute these organizations' entitlements")
    def refresh(self, request, queryset):
        organizations = {grant.organization for grant in queryset.select_related("organization")}
        for organization in organizations:
            entitlements_refresh(organization=organization)
        messages.success(request, f"Refreshed {len(organizations)} organization(s).")


@admin.register(UsageCounter)
class UsageCounterAdmin(ReadOnlyAdmin):
    list_display = ["organization", "user", "feature", "period_start", "period_end", "used", "limit", "warned_at"]
    list_filter = ["feature"]
    search_fields = ["organization__name", "user__email"]
    list_select_related = ["organization", "user"]


@admin.register(UsageLedgerEntry)
class UsageLedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "user", "feature", "quantity", "idempotency_key"]
    list_filter = ["feature"]
    search_fields = ["organization__name", "user__email", "idempotency_key"]
    list_select_related = ["organization", "user"]
    date_hierarchy = "created_at"


@admin.register(StaffQuotaGrant)
class StaffQuotaGrantAdmin(admin.ModelAdmin):
    list_display = ["organization", "feature", "quantity", "period", "expires_at", "reason", "granted_by", "created_at"]
    list_filter = ["feature"]
    search_fields = ["organization__name", "reason"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["granted_by", "created_at"]

    def save_model(self, request, obj, form, change):
        staff_quota_grant_save(grant=obj, actor=request.user)

    def delete_model(self, request, obj):
        staff_quota_grant_delete(grant=obj)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            staff_quota_grant_delete(grant=grant)


@admin.register(ManualDiscount)
class ManualDiscountAdmin(admin.ModelAdmin):
    list_display = ["organization", "item_type", "percent_off", "expires_at", "reason", "granted_by", "created_at"]
    list_filter = ["item_type"]
    search_fields = ["organization__name", "reason"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["granted_by", "created_at"]

    def save_model(self, request, obj, form, change):
        manual_discount_save(discount=obj, actor=request.user)


@admin.register(BillingEmail)
class BillingEmailAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "template", "status", "attempts", "sent_at", "last_error"]
    list_filter = ["template", "status"]
    search_fields = ["recipient", "key"]
    actions = ["resend"]

    @admin.action(description="Send failed or pending emails again")
    def resend(self, request, queryset):
        pending = list(queryset.exclude(status="sent").values_list("pk", flat=True))
        for email_id in pending:
            billing_email_send_task.delay(email_id=email_id)
        messages.success(request, f"Queued {len(pending)} email(s).")


class PurchaseRefundInline(admin.TabularInline):
    model = PurchaseRefund
    fields = ["created_at", "amount", "source", "refunded_by", "reason", "stripe_refund_id"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    inlines = [PurchaseRefundInline]
    list_display = ["created_at", "organization", "item_type", "item_name", "list_amount", "discount_amount", "amount"]
    list_display += ["currency", "status", "refunded_amount"]
    list_filter = ["status", "item_type", "discount_rule", "is_demo"]
    search_fields = ["organization__name", "item_id", "stripe_checkout_session_id", "stripe_payment_intent_id"]
    list_select_related = ["organization"]
    actions = ["refund"]

    @admin.action(description="Refund… (asks for the amount and the reason first)")
    def refund(self, request, queryset):
        """Money moves only after staff confirm the amount and give a reason on the page this opens."""
        if queryset.count() != 1:
            messages.error(request, "Refund one purchase at a time: select exactly one.")
            return None
        purchase = queryset.get()
        left = purchase.amount - purchase.refunded_amount
        form = RefundConfirmForm(request.POST if "confirm" in request.POST else None, initial={"amount": left})
        if form.is_valid():
            try:
                purchase_refund(
                    purchase=purchase,
                    amount=form.cleaned_data["amount"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except APIException as exc:
                messages.error(request, f"Purchase {purchase.pk}: {exc.detail}")
            else:
                shown = money_display(amount=form.cleaned_data["amount"], currency=purchase.currency)
                messages.success(request, f"Purchase {purchase.pk}: {shown} refunded.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Confirm the refund",
            "purchase": purchase,
            "left_display": money_display(amount=left, currency=purchase.currency),
            "form": form,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "billing/admin/refund_confirm.html", context)


class RefundConfirmForm(forms.Form):
    amount = forms.IntegerField(min_value=1, help_text="Minor units (cents), at most what is left to refund.")
    reason = forms.CharField(max_length=500, help_text="Kept with the refund and shown in the audit log.")


# dj-stripe's own trigger admin replays through dj-stripe alone; ours goes through the same
# intake as Stripe's deliveries (object lock, duplicate check, our part in one transaction).
django_admin_site = admin.site
if django_admin_site.is_registered(WebhookEventTrigger):
    django_admin_site.unregister(WebhookEventTrigger)


@admin.register(WebhookEventTrigger)
class WebhookEventTriggerAdmin(DjstripeWebhookEventTriggerAdmin):
    actions = ["reprocess"]
    list_filter = ["processed", "valid", "created"]
    search_fields = ["exception", "event__id", "event__type"]

    @admin.action(description="Process again (failed or left unprocessed)")
    def reprocess(self, request, queryset):
        done, failed = 0, 0
        for trigger_id in queryset.filter(valid=True, processed=False).values_list("pk", flat=True):
            try:
                webhook_trigger_process(trigger_id=trigger_id)
            except Exception as error:  # kept on the trigger with its traceback; shown here in one line
                failed += 1
                messages.error(request, f"Trigger {trigger_id}: {error}", fail_silently=True)
            else:
                done += 1
        messages.info(request, f"Processed {done} trigger(s); {failed} failed again.", fail_silently=True)


@admin.register(WebhookRejection)
class WebhookRejectionAdmin(ReadOnlyAdmin):
    list_display = ["minute", "remote_ip", "reason", "count", "bytes", "last_at"]
    list_filter = ["reason"]
    search_fields = ["remote_ip"]
    date_hierarchy = "minute"

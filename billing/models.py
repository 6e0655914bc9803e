"""Billing's own indexed tables, kept in step with dj-stripe's mirror.

dj-stripe keeps most Stripe fields in a JSON column and changes its schema between
minor versions, so the product reads these tables instead: subscription state per
organization, computed entitlement grants, usage counters and ledger, staff grants,
purchases and the billing email log.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.plans import FEATURES, PLANS, Period

FEATURE_CHOICES = [(f.value, d.name) for f, d in FEATURES.items()]
PLAN_CHOICES = [(key, plan.name) for key, plan in PLANS.items()]
PERIOD_CHOICES = [(p.value, p.value) for p in Period]


class Customer(models.Model):
    """The organization as a billing customer: our indexed copy of its Stripe customer.

    The customer id in the API is the organization's id. Archiving is a soft delete:
    the row and its history stay, new checkouts are refused.
    """

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="billing_customer"
    )
    stripe_customer_id = models.CharField(max_length=255, unique=True)
    email = models.EmailField(db_index=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} <{self.email}> ({self.stripe_customer_id})"


class SubscriptionState(models.Model):
    """What billing believes about an organization's subscription, synced from dj-stripe.

    One row per organization; an organization without a paying subscription has
    plan "free". Periods come from the subscription items (Stripe API ≥ 2025-03-31).
    """

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="subscription_state"
    )
    plan = models.CharField(max_length=32, choices=PLAN_CHOICES, default="free")
    # Stripe's status verbatim ("active", "trialing", "past_due", "canceled", ...) or "none".
    status = models.CharField(max_length=32, default="none", db_index=True)
    price_lookup_key = models.CharField(max_length=64, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    trial_end = models.DateTimeField(null=True, blank=True)
    # Set when the subscription first turned past_due; access lasts until grace_until.
    past_due_since = models.DateTimeField(null=True, blank=True)
    grace_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.organization_id}: {self.plan} ({self.status})"


class EntitlementGrant(models.Model):
    """The computed right of an organization to a feature (one row per org and feature).

    Written only by `entitlements_refresh`; `limit=None` means unlimited. For
    `period=cycle` the cycle bounds are copied here so usage can be counted without
    reading the subscription.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="entitlements")
    feature = models.CharField(max_length=32, choices=FEATURE_CHOICES)
    limit = models.PositiveIntegerField(null=True, blank=True)
    period = models.CharField(max_length=8, choices=PERIOD_CHOICES, blank=True)
    cycle_start = models.DateTimeField(null=True, blank=True)
    cycle_end = models.DateTimeField(null=True, blank=True)
    per_member = models.BooleanField(default=False)
    # Where the grant comes from, e.g. "plan:premium" or "plan:free+staff".
    source = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "feature"], name="entitlement_unique_org_feature")
        ]
        ordering = ["organization_id", "feature"]

    def __str__(self):
        return (
            f"{self.organization_id}: {self.feature} = {'∞' if self.limit is None else self.limit}/{self.period or '-'}"
        )


class UsageCounter(models.Model):
    """How much of a metered feature was used in one period (per member for per-member features).

    `limit` is copied from the grant so one conditional UPDATE can both check and count.
    """

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="usage_counters")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    feature = models.CharField(max_length=32, choices=FEATURE_CHOICES)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    used = models.PositiveIntegerField(default=0)
    limit = models.PositiveIntegerField(null=True, blank=True)
    # The 80% warning goes out once per period: claimed by a conditional UPDATE on this.
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "feature", "period_start"],
                condition=Q(user__isnull=True),
                name="usage_counter_unique_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "user", "feature", "period_start"],
                condition=Q(user__isnull=False),
                name="usage_counter_unique_member",
            ),
        ]
        indexes = [models.Index(fields=["period_end"])]
        ordering = ["-period_start", "id"]

    def __str__(self):
        return f"{self.organization_id}/{self.user_id or '-'}: {self.feature} {self.used}/{self.limit}"


class UsageLedgerEntry(models.Model):
    """One recorded use: who, what, when, how much; a retried key is not counted twice."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="usage_ledger")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feature = models.CharField(max_length=32, choices=FEATURE_CHOICES)
    quantity = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=255)
    period_start = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # Set when the use was given back (the work it paid for failed): no longer counted.
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "idempotency_key"], name="usage_ledger_unique_key")
        ]
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "usage ledger entries"

    def __str__(self):
        return f"{self.organization_id}: {self.feature} ×{self.quantity} ({self.idempotency_key})"


class StaffQuotaGrant(models.Model):
    """Extra quota granted by staff, added to the plan's limit until it expires."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="quota_grants")
    feature = models.CharField(max_length=32, choices=FEATURE_CHOICES)
    quantity = models.PositiveIntegerField()
    # Used only when the plan itself lacks the feature.
    period = models.CharField(max_length=8, choices=PERIOD_CHOICES, default=Period.MONTH.value)
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"+{self.quantity} {self.feature} for {self.organization_id} until {self.expires_at:%Y-%m-%d}"


class ItemType(models.TextChoices):
    QUIZ = "quiz", "Quiz"
    ARTICLE = "article", "Article"
    PROMPT_TEMPLATE = "prompt_template", "Prompt template"


class ManualDiscount(models.Model):
    """A percentage off granted by staff to one organization, optionally for one item type."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="manual_discounts")
    item_type = models.CharField(max_length=32, choices=ItemType.choices, blank=True, help_text="Blank: every item.")
    percent_off = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_off__gte=1, percent_off__lte=100), name="manual_discount_percent_range"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.percent_off}% off {self.item_type or 'everything'} for {self.organization_id}"


class PurchaseStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    EXPIRED = "expired", "Expired"


class Purchase(models.Model):
    """A one-time purchase; the price and discount are computed on our side, never sent by the client."""

    # Kept (without its buyer) when an organization is deleted: it is a financial record.
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Anonymous buyers are remembered by session until they sign up.
    anonymous_session_id = models.CharField(max_length=64, blank=True, db_index=True)
    item_type = models.CharField(max_length=32, choices=ItemType.choices)
    item_id = models.CharField(max_length=64)
    item_name = models.CharField(max_length=255)
    list_amount = models.PositiveIntegerField()
    discount_amount = models.PositiveIntegerField(default=0)
    discount_rule = models.CharField(max_length=64, blank=True)
    amount = models.PositiveIntegerField(help_text="Charged, in minor units.")
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=24, choices=PurchaseStatus.choices, default=PurchaseStatus.PENDING)
    refunded_amount = models.PositiveIntegerField(default=0)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    is_demo = models.BooleanField(
        default=False,
        help_text="Seed data (seed_demo): priced and settled like a paid purchase, but never in Stripe.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")), name="purchase_refund_le_amount"
            ),
            models.CheckConstraint(
                condition=Q(discount_amount__lte=models.F("list_amount")), name="purchase_discount_le_list"
            ),
            # One open Checkout per buyer and item: a second Buy answers the open one instead of charging twice.
            models.UniqueConstraint(
                fields=["organization", "item_type", "item_id"],
                condition=Q(status="pending", organization__isnull=False),
                name="purchase_one_open_per_customer_item",
            ),
            models.UniqueConstraint(
                fields=["anonymous_session_id", "item_type", "item_id"],
                condition=Q(status="pending", organization__isnull=True),
                name="purchase_one_open_per_anonymous_item",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"]),
            # Revenue by period (analytics).
            models.Index(fields=["paid_at"], name="billing_purchase_paid_at"),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.item_type}:{self.item_id} {self.amount} {self.currency} ({self.status})"


class RefundSource(models.TextChoices):
    STAFF = "staff", "Staff, through Plateau"
    STRIPE = "stripe", "Made in Stripe (dashboard or API)"
    UNRECORDED = "unrecorded", "Refunded before refunds were recorded one by one"


class PurchaseRefund(models.Model):
    """One refund of a purchase: how much, when, by whom. Their sum is the purchase's refunded_amount."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="refunds")
    amount = models.PositiveIntegerField(help_text="Minor units, in the purchase's currency.")
    # Null only for refunds recorded before this table existed; Stripe's id makes a replayed event a no-op.
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    source = models.CharField(max_length=16, choices=RefundSource.choices)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="purchase_refund_amount_positive")]
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"refund of {self.amount} on purchase {self.purchase_id}"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"  # claimed by one worker; a claim older than a few minutes is taken over
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class BillingEmail(models.Model):
    """One billing email and its delivery: written before sending (outbox), updated per attempt."""

    # Business key: a second send of the same email (same event, same period) is a no-op.
    key = models.CharField(max_length=255, unique=True)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="billing_emails"
    )
    recipient = models.EmailField()
    template = models.CharField(max_length=64)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The id the email provider (SendGrid, Postmark) gave the accepted message; empty for SMTP and the console.
    provider_message_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.template} → {self.recipient} ({self.status})"


class WebhookRejection(models.Model):
    """Deliveries to our Stripe endpoint that were refused, counted per minute, address and reason.

    No body and no headers are kept: a flood of forged posts costs one small row per
    sender and minute, not megabytes. Pruned with the settled deliveries.
    """

    minute = models.DateTimeField()
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=1)
    bytes = models.PositiveBigIntegerField(default=0, help_text="Body sizes added up.")
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["minute", "remote_ip", "reason"], name="webhook_rejection_unique_window")
        ]
        indexes = [models.Index(fields=["minute"])]
        ordering = ["-minute"]

    def __str__(self):
        return f"{self.count}× {self.reason} from {self.remote_ip} at {self.minute:%Y-%m-%d %H:%M}"


class SubscriptionCheckout(models.Model):
    """A Stripe Checkout session that subscribes an organization: at most one open per organization.

    A second start answers the open one (same price) or closes it first (another price),
    so two paid subscriptions cannot come out of two tabs.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="subscription_checkouts"
    )
    lookup_key = models.CharField(max_length=64)
    stripe_checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization"], condition=Q(status="open"), name="subscription_checkout_one_open"
            )
        ]
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.organization_id}: {self.lookup_key} ({self.status})"


class SubscriptionPayment(models.Model):
    """One paid invoice of a subscription (`invoice.paid`); Stripe's invoice id makes a replay a no-op."""

    # Kept (without its customer) when an organization is deleted: it is a financial record.
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription_payments"
    )
    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    stripe_subscription_id = models.CharField(max_length=255, db_index=True)
    amount = models.PositiveIntegerField(help_text="Paid, in minor units.")
    currency = models.CharField(max_length=3)
    paid_at = models.DateTimeField(db_index=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    billing_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="subscription_payment_amount_positive")]
        indexes = [models.Index(fields=["organization", "paid_at"], name="billing_subpay_org_paid")]
        ordering = ["-paid_at", "-id"]

    def __str__(self):
        return f"{self.stripe_invoice_id}: {self.amount} {self.currency}"


class SubscriptionRefund(models.Model):
    """A refund of a subscription payment (`refund.created/updated` whose payment is not a purchase's)."""

    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription_refunds"
    )
    stripe_refund_id = models.CharField(max_length=255, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, db_index=True)
    amount = models.PositiveIntegerField(help_text="Refunded, in minor units.")
    currency = models.CharField(max_length=3)
    refunded_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="subscription_refund_amount_positive")]
        ordering = ["-refunded_at", "-id"]

    def __str__(self):
        return f"refund {self.stripe_refund_id}: {self.amount} {self.currency}"


class SubscriptionChange(models.TextChoices):
    NEW = "new", "New: counted in MRR for the first time"
    CHURN = "churn", "Cancelled after being counted in MRR"
    UPDATE = "update", "Any other change"


class SubscriptionHistory(models.Model):
    """One state of one Stripe subscription, in force from `valid_from` until `valid_to` (null: still).

    Appended by billing whenever a sync changes what it tracks, so the MRR of any past
    instant is a sum over the rows in force then. `mrr_amount` is what the state adds to
    MRR: the recurring price × quantity net of a recurring discount, per month, rounded
    half up to the minor unit; 0 unless the status is active or past_due.
    """

    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription_history"
    )
    stripe_subscription_id = models.CharField(max_length=255)
    status = models.CharField(max_length=32)
    plan = models.CharField(max_length=32, blank=True)
    price_lookup_key = models.CharField(max_length=64, blank=True)
    unit_amount = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    interval = models.CharField(max_length=8, blank=True)  # day, week, month, year
    interval_count = models.PositiveSmallIntegerField(default=1)
    quantity = models.PositiveIntegerField(default=1)
    discount_percent_off = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    discount_amount_off = models.PositiveIntegerField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    mrr_amount = models.PositiveIntegerField(default=0, help_text="Monthly recurring revenue, minor units.")
    change = models.CharField(max_length=8, choices=SubscriptionChange.choices, default=SubscriptionChange.UPDATE)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=Q(valid_to__isnull=True),
                name="subscription_history_one_open_row",
            )
        ]
        indexes = [
            models.Index(fields=["stripe_subscription_id", "valid_from"], name="billing_subhist_sub_from"),
            models.Index(fields=["valid_from"], name="billing_subhist_from"),
            models.Index(fields=["valid_to"], name="billing_subhist_to"),
        ]
        ordering = ["stripe_subscription_id", "valid_from", "id"]
        verbose_name_plural = "subscription history"

    def __str__(self):
        return f"{self.stripe_subscription_id} {self.status} from {self.valid_from:%Y-%m-%d}"


class MrrDay(models.Model):
    """What changed, per UTC day and currency, in the end-of-day subscription figures: kept by billing.

    Written in the transaction that appends or closes a subscription state
    (billing.services.revenue_rollups), so that a figure at the end of day d is the sum
    of the rows up to d: MRR (minor units), subscriptions counted in it, paying customers
    (organizations with a state adding more than 0, per currency), and how many
    subscriptions were counted for the first time (`new`) or cancelled after being
    counted (`churned`) that day. Rows are only ever incremented; `revenue_rollups_rebuild`
    recomputes them from the states.
    """

    day = models.DateField()
    currency = models.CharField(max_length=3, blank=True)
    mrr = models.BigIntegerField(default=0)
    subscriptions = models.IntegerField(default=0)
    paying_customers = models.IntegerField(default=0)
    new = models.IntegerField(default=0)
    churned = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "currency"], name="mrr_day_unique_day_currency")]
        ordering = ["day", "currency"]

    def __str__(self):
        return f"{self.day} {self.currency}: MRR {self.mrr:+d}, customers {self.paying_customers:+d}"


class PayingCustomerChange(models.Model):
    """+1 on the UTC day an organization starts paying in a currency (a state adding to MRR in force at
    the end of the day), -1 on the day it stops: recomputed per organization when its states change.

    The organization is a plain id: the rows are this table's record of what it added to
    `MrrDay.paying_customers`, which the next recomputation takes back.
    """

    organization_id = models.BigIntegerField()
    currency = models.CharField(max_length=3, blank=True)
    day = models.DateField()
    change = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "currency", "day"], name="paying_customer_change_unique_day"
            )
        ]
        ordering = ["organization_id", "currency", "day"]

    def __str__(self):
        return f"organization {self.organization_id} {self.currency} {self.day}: {self.change:+d}"


class CustomerRevenue(models.Model):
    """Subscription invoices paid by one organization in one currency, all time: kept by billing.

    Incremented in the transaction that records the payment; lifetime values and first
    payments read these (one per customer and currency) instead of every payment.
    """

    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(default=0)
    payments = models.IntegerField(default=0)
    first_paid_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "currency"], name="customer_revenue_unique")]
        indexes = [
            models.Index(fields=["first_paid_at"], name="billing_custrev_first_paid"),
            models.Index(fields=["currency", "-amount", "organization"], name="billing_custrev_ranked"),
        ]
        ordering = ["organization_id", "currency"]

    def __str__(self):
        return f"organization {self.organization_id}: {self.amount} {self.currency}"


class PaymentDay(models.Model):
    """Subscription invoices paid on one UTC day in one currency: kept by billing with each payment."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.BigIntegerField(default=0)
    payments = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "currency"], name="payment_day_unique_day_currency")]
        ordering = ["day", "currency"]

    def __str__(self):
        return f"{self.day} {self.currency}: {self.amount} in {self.payments} payments"


class CustomerCohort(models.Model):
    """One organization's cohort and paying months from its subscriptions (invoices and states): kept by billing.

    `cohort_month`: the UTC month of its first subscription invoice (None: none yet).
    `open_from`: the month from which a state adding to MRR is still in force (it pays in
    every month from then on); the months before, in `CustomerPayingMonth`. These rows are
    what the organization added to `CohortCell` / `CohortOpen`, taken back when recomputed.
    One-time purchases are not in these tables: analytics' cohorts add them when it reads.
    """

    organization_id = models.BigIntegerField(unique=True)
    cohort_month = models.DateField(null=True, blank=True)
    open_from = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"organization {self.organization_id}: cohort {self.cohort_month}"


class CustomerPayingMonth(models.Model):
    """A month (before `CustomerCohort.open_from`) in which an organization paid an invoice or had a state
    adding to MRR in force at the end of one of its days."""

    organization_id = models.BigIntegerField()
    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "month"], name="customer_paying_month_unique")
        ]

    def __str__(self):
        return f"organization {self.organization_id} paid in {self.month:%Y-%m}"


class CohortCell(models.Model):
    """How many organizations of a cohort (month of first subscription invoice) paid in a month (≥ the cohort)."""

    cohort_month = models.DateField()
    month = models.DateField()
    customers = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort_month", "month"], name="cohort_cell_unique")]

    def __str__(self):
        return f"cohort {self.cohort_month:%Y-%m}, {self.month:%Y-%m}: {self.customers}"


class CohortOpen(models.Model):
    """How many organizations of a cohort pay in every month from `from_month` on (a state still in force)."""

    cohort_month = models.DateField()
    from_month = models.DateField()
    customers = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort_month", "from_month"], name="cohort_open_unique")]

    def __str__(self):
        return f"cohort {self.cohort_month:%Y-%m}, from {self.from_month:%Y-%m}: {self.customers}"

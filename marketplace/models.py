from decimal import ROUND_HALF_UP, Decimal

import reversion
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.money import money_display
from common.search import SearchIndexed, search_indexes


class Category(models.TextChoices):
    WRITING = "writing", "Writing"
    MARKETING = "marketing", "Marketing"
    CODING = "coding", "Coding"
    DATA = "data", "Data & analysis"
    PRODUCTIVITY = "productivity", "Productivity"


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public: listed and searchable"
    UNLISTED = "unlisted", "Unlisted: only with the link"


class VariableType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"


def tag_list_of(tags: str) -> list[str]:
    """The tags of a comma-separated `tags` value, trimmed, empty ones left out."""
    return [tag.strip() for tag in (tags or "").split(",") if tag.strip()]


# What the catalogue and search show (PromptTemplateQuerySet.listed), for partial indexes.
LISTED = Q(status="published", visibility="public")


class PromptTemplateQuerySet(models.QuerySet):
    def published(self) -> "PromptTemplateQuerySet":
        return self.filter(status=TemplateStatus.PUBLISHED)

    def listed(self) -> "PromptTemplateQuerySet":
        """On sale and public: what the catalogue and search show."""
        return self.published().filter(visibility=Visibility.PUBLIC)


# What a version keeps: the template as buyers see and use it (not its figures or search column).
VERSIONED_FIELDS = [
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
    "status",
    "visibility",
    "published_at",
]


class PromptTemplateManager(models.Manager.from_queryset(PromptTemplateQuerySet)):
    def get_queryset(self) -> PromptTemplateQuerySet:
        # The search document is for the database's matching only; reading it back costs more
        # than the rest of the row (measured: the template page's heaviest query).
        return super().get_queryset().defer("search_vector")


# Every published change is a version (the services open the revision); buyers keep theirs.
# Registered here, at import, so the admin's VersionAdmin finds it registered with these fields.
@reversion.register(fields=VERSIONED_FIELDS)
class PromptTemplate(SearchIndexed):
    """A prompt with `{{variable}}` placeholders that a seller organization sells once per buyer.

    The slug is the item id billing records on purchases (`Purchase.item_id`), so it must
    not change once the template is published: the admin makes it read-only from then on.
    `variables` declares every placeholder of `body`:
    `[{"name": "topic", "type": "text"|"number"|"choice", "default": ..., "choices": [...]}]`;
    a variable without a default (absent or null) is required.
    """

    # Search weights (common/search.py): typos are forgiven in the title.
    SEARCH_FIELDS = {"title": "A", "tags": "B", "seller_name": "B", "description": "C"}

    seller = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="prompt_templates")
    # The seller's name when the template was last saved, so search weighs it without a join.
    seller_name = models.CharField(max_length=200, blank=True, editable=False)
    title = models.CharField(max_length=200)
    # Billing's Purchase.item_id holds 64 characters.
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField()
    category = models.CharField(max_length=32, choices=Category.choices)
    tags = models.CharField(max_length=255, blank=True, help_text="Comma-separated, e.g. “email, sales”.")
    body = models.TextField(help_text="The prompt, with {{variable}} placeholders.")
    variables = models.JSONField(default=list, blank=True)
    example_output = models.TextField(blank=True)
    price_amount = models.PositiveIntegerField(help_text="List price in minor units (cents); 0 is free.")
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT)
    visibility = models.CharField(max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    # First publication; kept when unpublished, so the slug (billing's item id) stays fixed for ever after.
    published_at = models.DateTimeField(null=True, blank=True)
    # Kept in step by the review services and billing's purchase/refund callbacks (one UPDATE each),
    # so pages and sorting read them without aggregating reviews or purchases.
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, default=0)
    # How many visible reviews gave 1..5 stars (the page's distribution), kept in the same UPDATE.
    rating_count_1 = models.PositiveIntegerField(default=0)
    rating_count_2 = models.PositiveIntegerField(default=0)
    rating_count_3 = models.PositiveIntegerField(default=0)
    rating_count_4 = models.PositiveIntegerField(default=0)
    rating_count_5 = models.PositiveIntegerField(default=0)
    sales_count = models.PositiveIntegerField(default=0)
    revenue_amount = models.BigIntegerField(default=0, help_text="Paid minus refunded, minor units.")
    # What the optional AI check said about the draft (empty until run).
    validation_result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromptTemplateManager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="prompt_template_price_not_negative"),
            models.CheckConstraint(
                condition=Q(status=TemplateStatus.DRAFT) | Q(published_at__isnull=False),
                name="prompt_template_published_has_date",
            ),
        ]
        indexes = [
            *search_indexes("mkt_template"),
            models.Index(fields=["status", "category", "-published_at"]),
            # The catalogue's sort orders over listed templates only (read in order, filters applied
            # on the way, so a page of 24 is found without sorting the whole table).
            models.Index(fields=["-published_at", "-id"], name="mkt_listed_newest", condition=LISTED),
            models.Index(
                fields=["-rating_average", "-rating_count", "-id"], name="mkt_listed_rating", condition=LISTED
            ),
            models.Index(fields=["-sales_count", "-rating_average", "-id"], name="mkt_listed_sales", condition=LISTED),
            models.Index(fields=["price_amount", "-rating_average", "id"], name="mkt_listed_price", condition=LISTED),
            # The tag filter (a case-insensitive regular expression) reads this on PostgreSQL.
            GinIndex(fields=["tags"], opclasses=["gin_trgm_ops"], name="mkt_template_tags_trgm"),
        ]
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == TemplateStatus.PUBLISHED

    @property
    def rating_exact(self) -> Decimal:
        """The average from the stored count and sum, to two places (0 with no ratings)."""
        if not self.rating_count:
            return Decimal("0.00")
        return (Decimal(self.rating_sum) / self.rating_count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def rating_counts(self) -> dict[int, int]:
        """{stars: how many visible reviews gave them}, 1 to 5."""
        return {stars: getattr(self, f"rating_count_{stars}") for stars in range(1, 6)}

    @property
    def is_archived(self) -> bool:
        return self.status == TemplateStatus.ARCHIVED

    @property
    def is_free(self) -> bool:
        return self.price_amount == 0

    @property
    def price_display(self) -> str:
        return "Free" if self.is_free else money_display(amount=self.price_amount, currency=self.currency)

    @property
    def tag_list(self) -> list[str]:
        return tag_list_of(self.tags)


class ReviewQuerySet(models.QuerySet):
    def visible(self) -> "ReviewQuerySet":
        return self.filter(hidden_at__isnull=True)


class Review(models.Model):
    """One owner's stars and words about a template: one per member of a buying organization.

    A hidden review (staff moderation) no longer counts in the template's rating.
    """

    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="reviews")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=4000, blank=True)
    seller_reply = models.TextField(max_length=4000, blank=True)
    seller_replied_at = models.DateTimeField(null=True, blank=True)
    seller_replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "organization", "author"], name="review_one_per_member"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["template", "-created_at"], name="mkt_review_template_recent")]
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.rating}★ on {self.template_id} by {self.author_id}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class ReviewReport(models.Model):
    """A member's report of a review to the moderators (staff hide it or not, in the admin)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["review", "reporter"], name="review_report_once")]
        ordering = ["resolved_at", "-created_at"]

    def __str__(self):
        return f"report of review {self.review_id}"


class LedgerKind(models.TextChoices):
    CREDIT = "credit", "Sale (price minus platform fee)"
    DEBIT = "debit", "Refund"


class LedgerEntry(models.Model):
    """The seller's share of one paid purchase (credit) or of one refund (debit), in minor units.

    Written by billing's "purchase settled" and "refund recorded" callbacks inside billing's
    own transaction, once per purchase or refund row (the unique constraints make a replay a no-op).
    """

    seller = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(PromptTemplate, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=LedgerKind.choices)
    purchase = models.ForeignKey("billing.Purchase", on_delete=models.PROTECT, related_name="+")
    # Billing deletes a refund row that Stripe later reports failed: its debit goes with it.
    refund = models.OneToOneField(
        "billing.PurchaseRefund", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    gross_amount = models.PositiveIntegerField(help_text="What the buyer paid, or what was refunded.")
    fee_amount = models.PositiveIntegerField(help_text="The platform's share of the gross amount.")
    amount = models.PositiveIntegerField(help_text="The seller's share: gross minus fee.")
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["purchase"], condition=Q(kind="credit"), name="ledger_one_credit_per_purchase"
            ),
            models.CheckConstraint(
                condition=Q(kind="credit", refund__isnull=True) | Q(kind="debit", refund__isnull=False),
                name="ledger_debit_has_refund",
            ),
            models.CheckConstraint(
                condition=Q(amount=models.F("gross_amount") - models.F("fee_amount")),
                name="ledger_amount_is_gross_minus_fee",
            ),
        ]
        indexes = [models.Index(fields=["seller", "-created_at"], name="mkt_ledger_seller_recent")]
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"

    def __str__(self):
        return f"{self.kind} {self.amount} {self.currency} for {self.seller_id}"


class OwnedVersion(models.Model):
    """Which version of a template a purchase bought (the newest published one when it was paid).

    Written by billing's "purchase settled" callback; buyers keep that version and see the newest.
    """

    purchase = models.OneToOneField("billing.Purchase", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(PromptTemplate, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey("reversion.Version", null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"purchase {self.purchase_id}: version {self.version_id} of {self.template_id}"


class Payout(models.Model):
    """Money staff sent a seller outside Plateau (bank transfer...): recorded, never sent from here."""

    seller = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveIntegerField(help_text="Minor units.")
    currency = models.CharField(max_length=3, default="usd")
    reference = models.CharField(max_length=200, help_text="The bank transfer's reference.")
    paid_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive")]
        ordering = ["-paid_on", "-id"]

    def __str__(self):
        return f"payout of {self.amount} {self.currency} to {self.seller_id}"

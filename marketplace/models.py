from django.db import models
from django.db.models import Q
from django.utils import timezone


class Category(models.TextChoices):
    WRITING = "writing", "Writing"
    MARKETING = "marketing", "Marketing"
    CODING = "coding", "Coding"
    DATA = "data", "Data & analysis"
    PRODUCTIVITY = "productivity", "Productivity"


class TemplateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class VariableType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"


class PromptTemplateQuerySet(models.QuerySet):
    def published(self) -> "PromptTemplateQuerySet":
        return self.filter(status=TemplateStatus.PUBLISHED)


class PromptTemplate(models.Model):
    """A prompt with `{{variable}}` placeholders that a seller organization sells once per buyer.

    The slug is the item id billing records on purchases (`Purchase.item_id`), so it must
    not change once the template is published: the admin makes it read-only from then on.
    `variables` declares every placeholder of `body`:
    `[{"name": "topic", "type": "text"|"number"|"choice", "default": ..., "choices": [...]}]`;
    a variable without a default (absent or null) is required.
    """

    seller = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="prompt_templates")
    title = models.CharField(max_length=200)
    # Billing's Purchase.item_id holds 64 characters.
    slug = models.SlugField(max_length=64, unique=True)
    description = models.TextField()
    category = models.CharField(max_length=32, choices=Category.choices)
    tags = models.CharField(max_length=255, blank=True, help_text="Comma-separated, e.g. “email, sales”.")
    body = models.TextField(help_text="The prompt, with {{variable}} placeholders.")
    variables = models.JSONField(default=list, blank=True)
    example_output = models.TextField(blank=True)
    price_amount = models.PositiveIntegerField(help_text="List price in minor units (cents).")
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PromptTemplateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gt=0), name="prompt_template_price_positive"),
            models.CheckConstraint(
                condition=Q(status=TemplateStatus.DRAFT) | Q(published_at__isnull=False),
                name="prompt_template_published_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "category", "-published_at"])]
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == TemplateStatus.PUBLISHED

    @property
    def tag_list(self) -> list[str]:
        return [tag.strip() for tag in self.tags.split(",") if tag.strip()]

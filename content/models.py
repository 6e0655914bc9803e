"""Learning content: the first slice, the articles and quizzes that billing sells once.

- An `Article` is free (anyone reads it) or premium (bought once, for its `price_amount`;
  Premium subscribers get some a cycle from their plan).
- A `Quiz` is always bought once, for its `price_amount`; its `Question`s show to its owners.

Billing knows these items only through the resolvers registered in `ContentConfig.ready`
(`content.selectors.article_for_sale` / `quiz_for_sale`): the item id billing stores on a
Purchase is the item's **slug**, so a slug is fixed once created (read-only in the admin)
or the purchases of the item would point at nothing. Who owns what is billing's record
(`billing.selectors.purchased_item_ids`), and what a viewer would pay comes from
`billing.services.purchases.purchase_quote`; `content.selectors` combines them into the
lock state the pages show.

Prices are integer minor units with an ISO currency code, as everywhere. Chapters,
versions, progress, search and quiz attempts come in later issues and extend these models.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

# billing.models.Purchase.item_id is 64 characters long: a slug must fit in it.
SLUG_MAX_LENGTH = 64
CURRENCY_PATTERN = r"^[a-z]{3}$"


class PublishedQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class ArticleTier(models.TextChoices):
    FREE = "free", "Free"
    PREMIUM = "premium", "Premium"


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, help_text="Also the id purchases refer to.")
    summary = models.TextField(blank=True, help_text="Shown to everyone, also while the article is locked.")
    body = models.TextField()
    tier = models.CharField(max_length=16, choices=ArticleTier.choices, default=ArticleTier.FREE)
    price_amount = models.PositiveIntegerField(
        default=0, help_text="List price of buying it once, in minor units (cents). Required for premium."
    )
    currency = models.CharField(max_length=3, default="usd", help_text="ISO code, lower case.")
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tier=ArticleTier.FREE) | Q(price_amount__gt=0), name="content_article_premium_has_price"
            ),
            models.CheckConstraint(condition=Q(tier__in=ArticleTier.values), name="content_article_tier_valid"),
            models.CheckConstraint(condition=Q(currency__regex=CURRENCY_PATTERN), name="content_article_currency_iso"),
        ]

    def __str__(self):
        return self.title

    @property
    def is_premium(self) -> bool:
        return self.tier == ArticleTier.PREMIUM


class Quiz(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, help_text="Also the id purchases refer to.")
    description = models.TextField(blank=True, help_text="Shown to everyone, also while the quiz is locked.")
    price_amount = models.PositiveIntegerField(help_text="List price of buying it once, in minor units (cents).")
    currency = models.CharField(max_length=3, default="usd", help_text="ISO code, lower case.")
    is_published = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "quizzes"
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gt=0), name="content_quiz_has_price"),
            models.CheckConstraint(condition=Q(currency__regex=CURRENCY_PATTERN), name="content_quiz_currency_iso"),
        ]

    def __str__(self):
        return self.title


class Question(models.Model):
    """One multiple-choice question; attempts and scores come with a later issue."""

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    choices = models.JSONField(default=list, help_text='A list of answers, e.g. ["Yes", "No"].')
    correct_index = models.PositiveSmallIntegerField(help_text="Position of the right answer in choices, from 0.")

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["quiz", "order"], name="content_question_order_unique")]

    def __str__(self):
        return self.text[:80]

    def clean(self):
        # A JSON list's length cannot be checked portably in the database: forms check it here.
        choices = self.choices
        if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
            raise ValidationError({"choices": "Give a list of at least two non-empty answers."})
        if self.correct_index is not None and self.correct_index >= len(choices):
            last = len(choices) - 1
            raise ValidationError({"correct_index": f"Must point at one of the answers: 0 to {last}."})

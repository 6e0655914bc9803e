"""The catalogue: plans, their prices, features and quotas, defined once.

Everything else reads from here: `billing_setup` creates the products and prices in
Stripe from it, `entitlements_refresh` turns a plan into grants, the pricing page lists
it and the discount rules read their percentages from it.
"""

from dataclasses import dataclass, field
from enum import StrEnum


class FeatureKind(StrEnum):
    BOOLEAN = "boolean"
    METERED = "metered"


class Period(StrEnum):
    DAY = "day"  # calendar day, UTC
    MONTH = "month"  # calendar month, UTC
    CYCLE = "cycle"  # the subscription's current billing period (from its items)


class Feature(StrEnum):
    AI_CHAT = "ai_chat"
    FREE_QUIZ = "free_quiz"
    PREMIUM_ARTICLE = "premium_article"
    QUIZ_DISCOUNT = "quiz_discount"
    ARTICLE_DISCOUNT = "article_discount"


@dataclass(frozen=True)
class FeatureDef:
    key: Feature
    name: str
    kind: FeatureKind
    # Counted per member inside the organization (e.g. AI chats per day) instead of per org.
    per_member: bool = False
    unit: str = ""


FEATURES: dict[Feature, FeatureDef] = {
    f.key: f
    for f in (
        FeatureDef(Feature.AI_CHAT, "AI chat", FeatureKind.METERED, per_member=True, unit="chats"),
        FeatureDef(Feature.FREE_QUIZ, "Free quizzes", FeatureKind.METERED, unit="quizzes"),
        FeatureDef(Feature.PREMIUM_ARTICLE, "Premium articles", FeatureKind.METERED, unit="premium articles"),
        FeatureDef(Feature.QUIZ_DISCOUNT, "Discounted extra quizzes", FeatureKind.METERED, unit="discounted quizzes"),
        FeatureDef(Feature.ARTICLE_DISCOUNT, "Discount on extra articles", FeatureKind.BOOLEAN),
    )
}


@dataclass(frozen=True)
class Quota:
    """A grant of a feature: `limit=None` means unlimited (and is how boolean features are granted)."""

    limit: int | None
    period: Period | None = None


UNLIMITED = Quota(limit=None)


@dataclass(frozen=True)
class PriceDef:
    lookup_key: str
    unit_amount: int  # minor units
    currency: str
    interval: str  # "month" | "year"


@dataclass(frozen=True)
class PlanDef:
    key: str
    name: str
    description: str
    prices: tuple[PriceDef, ...] = ()
    quotas: dict[Feature, Quota] = field(default_factory=dict)
    contact_sales: bool = False


# Discount rules for Premium subscribers (see billing.services.pricing).
QUIZ_FREE_MAX_VALUE = 5000  # a free quiz covers a quiz worth at most $50.00
QUIZ_DISCOUNT_PERCENT = 20  # on up to QUOTA[QUIZ_DISCOUNT] extra quizzes per calendar month
ARTICLE_DISCOUNT_PERCENT = 30  # on every extra article

FREE = "free"
PREMIUM = "premium"
ENTERPRISE = "enterprise"

PLANS: dict[str, PlanDef] = {
    p.key: p
    for p in (
        PlanDef(
            key=FREE,
            name="Free",
            description="Learn at your pace with a daily AI tutor allowance.",
            quotas={Feature.AI_CHAT: Quota(limit=5, period=Period.DAY)},
        ),
        PlanDef(
            key=PREMIUM,
            name="Premium",
            description="Unlimited AI tutoring, free quizzes and premium articles every cycle.",
            prices=(
                PriceDef("premium_monthly", 3200, "usd", "month"),
                PriceDef("premium_yearly", 32000, "usd", "year"),
            ),
            quotas={
                # Unlimited, still counted per day so a downgrade applies to today's use.
                Feature.AI_CHAT: Quota(limit=None, period=Period.DAY),
                Feature.FREE_QUIZ: Quota(limit=2, period=Period.CYCLE),
                Feature.PREMIUM_ARTICLE: Quota(limit=3, period=Period.CYCLE),
                Feature.QUIZ_DISCOUNT: Quota(limit=3, period=Period.MONTH),
                Feature.ARTICLE_DISCOUNT: UNLIMITED,
            },
        ),
        PlanDef(
            key=ENTERPRISE,
            name="Enterprise",
            description="Custom price and quotas for teams. Contact sales.",
            contact_sales=True,
            # Baseline for an enterprise contract; staff grants add what the contract says.
            quotas={
                Feature.AI_CHAT: Quota(limit=None, period=Period.DAY),
                Feature.FREE_QUIZ: Quota(limit=10, period=Period.CYCLE),
                Feature.PREMIUM_ARTICLE: UNLIMITED,
                Feature.QUIZ_DISCOUNT: Quota(limit=10, period=Period.MONTH),
                Feature.ARTICLE_DISCOUNT: UNLIMITED,
            },
        ),
    )
}

PRICES: dict[str, tuple[PlanDef, PriceDef]] = {
    price.lookup_key: (plan, price) for plan in PLANS.values() for price in plan.prices
}


def plan_for_lookup_key(lookup_key: str | None) -> PlanDef | None:
    entry = PRICES.get(lookup_key or "")
    return entry[0] if entry else None


def plan_feature_lines(plan: PlanDef) -> list[str]:
    """What the plan gives, in words, from its quotas (for the pricing page)."""
    dollars = f"${QUIZ_FREE_MAX_VALUE // 100}"
    lines = []
    for feature, quota in plan.quotas.items():
        n = quota.limit
        if feature == Feature.AI_CHAT:
            lines.append("Unlimited AI tutor chats" if n is None else f"{n} AI tutor chats a day per member")
        elif feature == Feature.FREE_QUIZ:
            lines.append(f"{n} free quizzes each billing cycle (worth up to {dollars} each)")
        elif feature == Feature.PREMIUM_ARTICLE:
            lines.append("Unlimited premium articles" if n is None else f"{n} premium articles each billing cycle")
        elif feature == Feature.QUIZ_DISCOUNT:
            lines.append(f"{QUIZ_DISCOUNT_PERCENT}% off up to {n} more quizzes a month")
        elif feature == Feature.ARTICLE_DISCOUNT:
            lines.append(f"{ARTICLE_DISCOUNT_PERCENT}% off more articles")
    return lines

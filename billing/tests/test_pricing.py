from datetime import UTC, datetime

import pytest

from billing.plans import Feature
from billing.services.pricing import ProrationPreview, Quote, price_quote, proration_preview


@pytest.mark.parametrize(
    ("list_amount", "free_left", "expected"),
    [
        (5000, 1, Quote(5000, 5000, 0, "free_quiz", Feature.FREE_QUIZ)),  # exactly $50: free
        (4999, 2, Quote(4999, 4999, 0, "free_quiz", Feature.FREE_QUIZ)),
        (5001, 1, Quote(5001, 0, 5001, "")),  # one cent over $50: not free, no discount left
        (5000, 0, Quote(5000, 0, 5000, "")),  # no free quiz left
    ],
)
def test_free_quiz_only_up_to_fifty_dollars_and_while_quota_lasts(list_amount, free_left, expected):
    assert price_quote(item_type="quiz", list_amount=list_amount, free_quizzes_left=free_left) == expected


@pytest.mark.parametrize(
    ("list_amount", "discounted_left", "expected"),
    [
        (2000, 1, Quote(2000, 400, 1600, "quiz_discount", Feature.QUIZ_DISCOUNT)),
        (2000, 0, Quote(2000, 0, 2000, "")),
        (999, 3, Quote(999, 200, 799, "quiz_discount", Feature.QUIZ_DISCOUNT)),  # 199.8 rounds to 200
        (7500, 1, Quote(7500, 1500, 6000, "quiz_discount", Feature.QUIZ_DISCOUNT)),
    ],
)
def test_twenty_percent_off_extra_quizzes_while_monthly_quota_lasts(list_amount, discounted_left, expected):
    assert price_quote(item_type="quiz", list_amount=list_amount, discounted_quizzes_left=discounted_left) == expected


def test_a_quiz_over_fifty_dollars_uses_the_discount_not_a_free_quiz():
    quote = price_quote(item_type="quiz", list_amount=6000, free_quizzes_left=2, discounted_quizzes_left=3)
    assert quote == Quote(6000, 1200, 4800, "quiz_discount", Feature.QUIZ_DISCOUNT)


@pytest.mark.parametrize(
    ("articles_left", "discount", "expected"),
    [
        (1, True, Quote(1000, 1000, 0, "premium_article", Feature.PREMIUM_ARTICLE)),
        (0, True, Quote(1000, 300, 700, "article_discount")),
        (0, False, Quote(1000, 0, 1000, "")),
    ],
)
def test_articles_free_within_the_cycle_quota_then_thirty_percent_off(articles_left, discount, expected):
    quote = price_quote(
        item_type="article", list_amount=1000, premium_articles_left=articles_left, article_discount=discount
    )
    assert quote == expected


def test_article_discount_rounds_half_up_to_the_cent():
    assert price_quote(item_type="article", list_amount=5, article_discount=True) == Quote(5, 2, 3, "article_discount")


def test_manual_discount_replaces_a_smaller_plan_discount_and_never_stacks():
    quote = price_quote(item_type="article", list_amount=1000, article_discount=True, manual_percent_off=50)
    assert quote == Quote(1000, 500, 500, "manual_discount")
    smaller = price_quote(item_type="article", list_amount=1000, article_discount=True, manual_percent_off=10)
    assert smaller == Quote(1000, 300, 700, "article_discount")


def test_full_manual_discount_does_not_spend_a_free_quiz():
    quote = price_quote(item_type="quiz", list_amount=3000, free_quizzes_left=1, manual_percent_off=100)
    assert quote == Quote(3000, 3000, 0, "manual_discount")


def test_prompt_templates_only_get_manual_discounts():
    assert price_quote(item_type="prompt_template", list_amount=1500, article_discount=True) == Quote(1500, 0, 1500, "")
    assert price_quote(item_type="prompt_template", list_amount=1500, manual_percent_off=20).amount == 1200


def test_proration_half_way_through_a_month_to_yearly_credits_half_the_month():
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    preview = proration_preview(
        current_amount=3200,
        new_amount=32000,
        currency="usd",
        period_start=start,
        period_end=end,
        now=datetime(2026, 11, 16, tzinfo=UTC),
        same_interval=False,
    )
    assert preview == ProrationPreview(credit=1600, charge=32000, amount_due=30400, currency="usd")


@pytest.mark.parametrize(
    ("now", "credit", "charge"),
    [
        (datetime(2026, 11, 1, tzinfo=UTC), 3200, 6400),  # at the very start: all of it
        (datetime(2026, 12, 1, tzinfo=UTC), 0, 0),  # at the end: nothing left
        (datetime(2026, 12, 5, tzinfo=UTC), 0, 0),  # past the end (renewal not yet seen)
        (datetime(2026, 11, 21, tzinfo=UTC), 1067, 2133),  # a third left, rounded to the cent
    ],
)
def test_proration_within_the_same_interval(now, credit, charge):
    preview = proration_preview(
        current_amount=3200,
        new_amount=6400,
        currency="usd",
        period_start=datetime(2026, 11, 1, tzinfo=UTC),
        period_end=datetime(2026, 12, 1, tzinfo=UTC),
        now=now,
        same_interval=True,
    )
    assert (preview.credit, preview.charge, preview.amount_due) == (credit, charge, charge - credit)

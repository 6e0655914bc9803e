import pytest

from billing.plans import Feature
from billing.services.pricing import ProrationPreview, Quote, price_quote, proration_from_invoice


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


def _line(amount: int, *, proration: bool) -> dict:
    return {
        "amount": amount,
        "parent": {"type": "subscription_item_details", "subscription_item_details": {"proration": proration}},
    }


def test_a_change_billed_at_once_costs_the_invoice_total_discounts_included():
    invoice = {
        "billing_reason": "subscription_update",
        "currency": "usd",
        "lines": {"data": [_line(32000, proration=False), _line(-1600, proration=True)]},
        "total": 15200,  # a 50% discount on the invoice
    }
    assert proration_from_invoice(invoice) == ProrationPreview(
        credit=1600, charge=32000, amount_due=15200, currency="usd"
    )


def test_a_change_within_the_interval_costs_only_its_proration_lines_on_the_next_renewal():
    invoice = {
        "billing_reason": "upcoming",
        "currency": "usd",
        "lines": {"data": [_line(-1067, proration=True), _line(2133, proration=True), _line(6400, proration=False)]},
        "total": 7466,
    }
    assert proration_from_invoice(invoice) == ProrationPreview(
        credit=1067, charge=2133, amount_due=1066, currency="usd"
    )


def test_older_api_versions_mark_prorations_on_the_line_itself():
    invoice = {
        "billing_reason": "upcoming",
        "currency": "eur",
        "lines": {"data": [{"amount": -500, "proration": True}]},
    }
    assert proration_from_invoice(invoice) == ProrationPreview(credit=500, charge=0, amount_due=-500, currency="eur")

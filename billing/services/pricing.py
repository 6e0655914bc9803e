"""Discount rules: what a one-time purchase costs this customer, computed on our side only."""

from dataclasses import dataclass

from billing.plans import ARTICLE_DISCOUNT_PERCENT, QUIZ_DISCOUNT_PERCENT, QUIZ_FREE_MAX_VALUE, Feature

# The metered feature a plan rule spends one unit of.
RULE_FEATURE = {
    "free_quiz": Feature.FREE_QUIZ,
    "quiz_discount": Feature.QUIZ_DISCOUNT,
    "premium_article": Feature.PREMIUM_ARTICLE,
}
# The rules under which the plan itself pays for the item (the customer pays nothing).
INCLUDED_IN_PLAN_RULES = ("free_quiz", "premium_article")


@dataclass(frozen=True)
class Quote:
    list_amount: int
    discount_amount: int
    amount: int
    rule: str  # "" when no discount applies
    # The metered feature this purchase uses one unit of, if the rule is quota-bound.
    consumes: Feature | None = None


def _percent_of(amount: int, percent: int) -> int:
    # Round half up to the cent; integer arithmetic only.
    return (amount * percent + 50) // 100


def price_quote(
    *,
    item_type: str,
    list_amount: int,
    free_quizzes_left: int = 0,
    discounted_quizzes_left: int = 0,
    premium_articles_left: int = 0,
    article_discount: bool = False,
    manual_percent_off: int = 0,
) -> Quote:
    """The price of one item for a customer with the given remaining rights.

    Premium rules (SPEC §2): a quiz worth at most $50 is free while free quizzes are
    left; otherwise 20% off while discounted quizzes are left this month. An article
    is free while premium articles are left this cycle, otherwise 30% off. A staff
    discount applies instead of a plan rule when it is worth more; they never stack.
    """
    if list_amount < 0:
        raise ValueError("list_amount must not be negative")
    candidates: list[Quote] = []
    if item_type == "quiz":
        if free_quizzes_left > 0 and list_amount <= QUIZ_FREE_MAX_VALUE:
            candidates.append(Quote(list_amount, list_amount, 0, "free_quiz", Feature.FREE_QUIZ))
        elif discounted_quizzes_left > 0:
            off = _percent_of(list_amount, QUIZ_DISCOUNT_PERCENT)
            candidates.append(Quote(list_amount, off, list_amount - off, "quiz_discount", Feature.QUIZ_DISCOUNT))
    elif item_type == "article":
        if premium_articles_left > 0:
            candidates.append(Quote(list_amount, list_amount, 0, "premium_article", Feature.PREMIUM_ARTICLE))
        elif article_discount:
            off = _percent_of(list_amount, ARTICLE_DISCOUNT_PERCENT)
            candidates.append(Quote(list_amount, off, list_amount - off, "article_discount"))
    if manual_percent_off > 0:
        off = _percent_of(list_amount, min(manual_percent_off, 100))
        candidates.append(Quote(list_amount, off, list_amount - off, "manual_discount"))
    if not candidates:
        return Quote(list_amount, 0, list_amount, "")
    # The biggest saving wins; on a tie, the one that spends no quota (the customer keeps it).
    return max(candidates, key=lambda q: (q.discount_amount, q.consumes is None))


@dataclass(frozen=True)
class ProrationPreview:
    credit: int  # unused time on the current price, returned
    charge: int  # the new price for the rest of the period, or a full new period
    amount_due: int  # what the change costs (negative: a credit for later invoices), discounts included
    currency: str


def proration_from_invoice(invoice: dict) -> ProrationPreview:
    """Read a plan change's cost off Stripe's preview of the invoice it causes (pure).

    A change Stripe bills at once (a new interval restarts the cycle) previews as that
    invoice: the new price, the credit for unused time and any discount, and its total is
    what is due now. Otherwise the preview is the next renewal, and only its proration
    lines are the change's: they are billed then.
    """
    lines = (invoice.get("lines") or {}).get("data") or []
    immediate = invoice.get("billing_reason") == "subscription_update"
    own = lines if immediate else [line for line in lines if _is_proration(line)]
    credit = -sum(line["amount"] for line in own if line["amount"] < 0)
    charge = sum(line["amount"] for line in own if line["amount"] > 0)
    amount_due = invoice.get("total", charge - credit) if immediate else charge - credit
    return ProrationPreview(credit=credit, charge=charge, amount_due=amount_due, currency=invoice.get("currency", ""))


def _is_proration(line: dict) -> bool:
    if line.get("proration"):  # API versions before 2025-03-31
        return True
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or parent.get("invoice_item_details") or {}
    return bool(details.get("proration"))

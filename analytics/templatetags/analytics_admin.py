"""Template helpers of the back office: the admin index's grouping, money in the dashboard."""

from django import template

from billing.money import money_display

register = template.Library()

# Our apps, in the order staff use them; then the rest; dj-stripe's ~45 mirror lists last, folded.
LEADING = ("accounts", "billing", "content", "marketplace", "analytics")
MIRROR = "djstripe"


@register.filter
def apps_day_to_day(app_list):
    ours = sorted((a for a in app_list if a["app_label"] in LEADING), key=lambda a: LEADING.index(a["app_label"]))
    rest = [a for a in app_list if a["app_label"] not in LEADING and a["app_label"] != MIRROR]
    return ours + rest


@register.filter
def apps_mirror(app_list):
    return [a for a in app_list if a["app_label"] == MIRROR]


@register.filter
def money(amount, currency):
    """Minor units as the currency shows them ($1,234.50)."""
    return money_display(amount=amount, currency=currency)

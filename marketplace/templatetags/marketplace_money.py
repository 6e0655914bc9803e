from django import template

from billing.money import money_display

register = template.Library()


@register.filter
def money(amount: int, currency: str = "usd") -> str:
    """Minor units as money: `{{ 1520|money:"usd" }}` → $15.20."""
    return money_display(amount=int(amount or 0), currency=currency or "usd")

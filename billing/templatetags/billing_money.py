"""`{% money amount currency %}`: integer minor units shown as money ("$32.00"), in templates."""

from django import template

from billing.money import money_display

register = template.Library()


@register.simple_tag
def money(amount: int, currency: str) -> str:
    return money_display(amount=amount, currency=currency)

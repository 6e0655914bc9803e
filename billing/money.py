"""Showing money: integer minor units and a currency code, never floats."""

# Currencies whose minor unit is the unit itself (Stripe's zero-decimal currencies we may meet).
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "huf"}
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def money_display(*, amount: int, currency: str) -> str:
    """3200, "usd" → "$32.00"; 500, "jpy" → "500 JPY"."""
    code = currency.lower()
    sign = "-" if amount < 0 else ""
    if code in ZERO_DECIMAL:
        return f"{sign}{abs(amount)} {code.upper()}"
    units, cents = divmod(abs(amount), 100)
    symbol = SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{units:,}.{cents:02d}"
    return f"{sign}{units:,}.{cents:02d} {code.upper()}"

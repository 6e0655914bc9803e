import logging

import pytest
from django.core.management import call_command
from djstripe.models import Price, Product

from billing import gateway
from billing.plans import PLANS

pytestmark = pytest.mark.django_db


def prices_by_key():
    return {p.lookup_key: p for p in gateway.price_list(lookup_keys=["premium_monthly", "premium_yearly"])}


def test_billing_setup_creates_the_catalogue_once(stripe_sandbox, capsys, caplog):
    caplog.set_level(logging.WARNING)
    call_command("billing_setup")
    first = capsys.readouterr().out
    assert "created product plateau_premium" in first
    assert "created product plateau_enterprise" in first
    prices = prices_by_key()
    assert (prices["premium_monthly"].unit_amount, prices["premium_monthly"].recurring.interval) == (3200, "month")
    assert (prices["premium_yearly"].unit_amount, prices["premium_yearly"].recurring.interval) == (32000, "year")
    assert set(Product.objects.values_list("id", flat=True)) == {"plateau_premium", "plateau_enterprise"}
    assert Price.objects.count() == 2

    call_command("billing_setup")
    assert "Catalogue in sync (0 changes)." in capsys.readouterr().out
    assert {k: p.id for k, p in prices_by_key().items()} == {k: p.id for k, p in prices.items()}
    assert Price.objects.count() == 2
    # dj-stripe's syncs (products' features included) found everything they asked the API for.
    assert [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_changed_amount_replaces_the_price_and_moves_the_lookup_key(stripe_sandbox, monkeypatch, capsys):
    call_command("billing_setup")
    old = prices_by_key()["premium_monthly"]
    premium = PLANS["premium"]
    changed = (premium.prices[0].__class__("premium_monthly", 3500, "usd", "month"), premium.prices[1])
    monkeypatch.setitem(PLANS, "premium", premium.__class__(**{**premium.__dict__, "prices": changed}))
    call_command("billing_setup")
    new = prices_by_key()["premium_monthly"]
    assert (new.unit_amount, new.id != old.id) == (3500, True)
    assert Price.objects.get(id=old.id).active is False

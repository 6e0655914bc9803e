"""Subscription history for the subscriptions dj-stripe mirrors today, so MRR has a past from day one.

What the mirror still says is rebuilt by `billing.services.revenue.history_rows_from_mirror`
(pure: a dict in, rows out): trial, then today's price from the end of the trial or the
start, then the cancellation. Earlier price changes are not in the mirror. Subscriptions
that already have history (from a webhook applied after 0006) are left alone. Recurring
discounts are not resolved here (dj-stripe's discount and coupon rows may not be there
yet); the next sync of the customer appends a row with them.
"""

from django.db import migrations

from billing.services.revenue import history_rows_from_mirror


def fill_history(apps, schema_editor):
    Subscription = apps.get_model("djstripe", "Subscription")
    Customer = apps.get_model("djstripe", "Customer")
    SubscriptionHistory = apps.get_model("billing", "SubscriptionHistory")
    known = set(SubscriptionHistory.objects.values_list("stripe_subscription_id", flat=True).distinct())
    subscriber_of = dict(Customer.objects.exclude(subscriber_id=None).values_list("id", "subscriber_id"))
    rows = []
    for subscription in Subscription.objects.all().iterator():
        if subscription.id in known or not subscription.stripe_data:
            continue
        organization_id = subscriber_of.get(subscription.customer_id)
        for row in history_rows_from_mirror(subscription.stripe_data):
            rows.append(SubscriptionHistory(organization_id=organization_id, stripe_subscription_id=subscription.id, **row))
    SubscriptionHistory.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("billing", "0011_subscription_revenue_records"), ("djstripe", "0003_2_11")]

    operations = [migrations.RunPython(fill_history, migrations.RunPython.noop)]

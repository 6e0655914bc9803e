"""Purchases refunded before refunds were recorded one by one get one row for what was refunded.

Afterwards the sum of a purchase's refund rows is its refunded_amount. When those refunds
were made is not known: the row is dated at the payment.
"""

from django.db import migrations


def record_earlier_refunds(apps, schema_editor):
    Purchase = apps.get_model("billing", "Purchase")
    PurchaseRefund = apps.get_model("billing", "PurchaseRefund")
    rows = [
        PurchaseRefund(
            purchase_id=purchase.pk,
            amount=purchase.refunded_amount,
            source="unrecorded",
            created_at=purchase.paid_at or purchase.created_at,
        )
        for purchase in Purchase.objects.filter(refunded_amount__gt=0, refunds__isnull=True).iterator()
    ]
    PurchaseRefund.objects.bulk_create(rows, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_purchase_refund")]

    operations = [migrations.RunPython(record_earlier_refunds, migrations.RunPython.noop)]

from django.db import migrations, models


def mark_earlier_demo_purchases(apps, schema_editor):
    """Demo purchases seeded before this field carried made-up Stripe ids (cs_demo_…, pi_demo_…): mark them instead."""
    Purchase = apps.get_model("billing", "Purchase")
    made_up = models.Q(stripe_checkout_session_id__startswith="cs_demo_") | models.Q(
        stripe_payment_intent_id__startswith="pi_demo_"
    )
    Purchase.objects.filter(made_up).update(is_demo=True, stripe_checkout_session_id="", stripe_payment_intent_id="")


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0013_usage_ledger_released_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="purchase",
            name="is_demo",
            field=models.BooleanField(
                default=False,
                help_text="Seed data (seed_demo): priced and settled like a paid purchase, but never in Stripe.",
            ),
        ),
        migrations.RunPython(mark_earlier_demo_purchases, migrations.RunPython.noop),
    ]

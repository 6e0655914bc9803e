from django.db import migrations


def backfill(apps, schema_editor):
    """Fill the rollups from the states and payments recorded before they existed (the repair's own code)."""
    from billing.services.revenue_rollups import revenue_rollups_rebuild

    revenue_rollups_rebuild(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0015_revenue_rollups"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

"""pg_trgm for common.search's typo-tolerant matching; on other databases it does nothing.

Apps whose models use common.search depend on this migration.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [TrigramExtension()]

"""The first slice's articles become lessons (same rows, same slugs, so purchases still point at them)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial"), ("common", "0001_pg_trgm")]
    operations = [migrations.RenameModel("Article", "Lesson")]

"""Trigram (gin_trgm_ops) indexes for search's typo match on the title, and the tag filter's
index declared on the model (0003 created it with SQL on PostgreSQL only; tables built from the
models, as the tests build them, lacked it)."""

import django.contrib.postgres.indexes
from django.db import migrations

TAGS_TRGM = django.contrib.postgres.indexes.GinIndex(
    fields=["tags"], name="mkt_template_tags_trgm", opclasses=["gin_trgm_ops"]
)


def tags_index_where_missing(apps, schema_editor):
    """PostgreSQL has it from 0003 (same name and definition); elsewhere make it (SQLite: a plain index)."""
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.add_index(apps.get_model("marketplace", "PromptTemplate"), TAGS_TRGM)


def drop_tags_index_where_made(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":  # 0003's reverse drops PostgreSQL's
        schema_editor.remove_index(apps.get_model("marketplace", "PromptTemplate"), TAGS_TRGM)


class Migration(migrations.Migration):

    dependencies = [
        ("marketplace", "0003_listing_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="prompttemplate",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["title"], name="mkt_template_title_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="prompttemplate", index=TAGS_TRGM)],
            database_operations=[migrations.RunPython(tags_index_where_missing, drop_tags_index_where_made)],
        ),
    ]

"""Per-star rating counts stored on the template (the page's distribution without a grouped query),
filled from the visible reviews."""

from django.db import migrations, models
from django.db.models import Count, Q

STARS = range(1, 6)


def fill_counts(apps, schema_editor):
    PromptTemplate = apps.get_model("marketplace", "PromptTemplate")
    Review = apps.get_model("marketplace", "Review")
    if schema_editor.connection.vendor == "postgresql":
        # One pass over the reviews, one UPDATE (a million reviews: seconds).
        columns = ", ".join(f"rating_count_{s} = r.n{s}" for s in STARS)
        counts = ", ".join(f"count(*) FILTER (WHERE rating = {s}) AS n{s}" for s in STARS)
        schema_editor.execute(
            f"UPDATE marketplace_prompttemplate t SET {columns} FROM (SELECT template_id, {counts} "
            "FROM marketplace_review WHERE hidden_at IS NULL GROUP BY template_id) r WHERE r.template_id = t.id"
        )
        return
    rows = (
        Review.objects.filter(hidden_at__isnull=True)
        .values("template_id")
        .annotate(**{f"n{s}": Count("id", filter=Q(rating=s)) for s in STARS})
    )
    for row in rows:
        PromptTemplate.objects.filter(pk=row["template_id"]).update(
            **{f"rating_count_{s}": row[f"n{s}"] for s in STARS}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("marketplace", "0004_search_trigram_indexes"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name="prompttemplate",
                name=f"rating_count_{stars}",
                field=models.PositiveIntegerField(default=0),
            )
            for stars in STARS
        ),
        migrations.RunPython(fill_counts, migrations.RunPython.noop),
    ]

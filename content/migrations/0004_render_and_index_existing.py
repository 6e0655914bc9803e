"""Existing lessons get their rendered HTML, and lessons and quizzes their search document."""

from django.contrib.postgres.search import SearchVector
from django.db import migrations

from common.search import SEARCH_CONFIG
from content.markdown import markdown_to_html


def forwards(apps, schema_editor):
    Lesson = apps.get_model("content", "Lesson")
    Quiz = apps.get_model("content", "Quiz")
    for lesson in Lesson.objects.only("pk", "body"):
        Lesson.objects.filter(pk=lesson.pk).update(body_html=markdown_to_html(lesson.body))
    if schema_editor.connection.vendor != "postgresql":
        return

    def vector(weights):
        parts = [SearchVector(name, weight=weight, config=SEARCH_CONFIG) for name, weight in weights.items()]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined + part
        return combined

    # The weights of Lesson.SEARCH_FIELDS and Quiz.SEARCH_FIELDS when this migration was written.
    Lesson.objects.update(search_vector=vector({"title": "A", "summary": "B", "body": "C"}))
    Quiz.objects.update(search_vector=vector({"title": "A", "description": "B"}))


class Migration(migrations.Migration):
    dependencies = [("content", "0003_courses_chapters_principles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]

"""Content models django-auditlog tracks: every change (staff edits, rollbacks) with actor, before, after."""

from auditlog.registry import auditlog

from content.models import Chapter, Course, Lesson, Principle, Question, Quiz


def register_audited_models() -> None:
    # Rendered HTML and the search document are derived from the audited fields: leave them out.
    for model in (Course, Lesson):
        auditlog.register(model, exclude_fields=["search_vector", "body_html", "description_html", "updated_at"])
    auditlog.register(Quiz, exclude_fields=["search_vector", "updated_at"])
    for model in (Chapter, Principle, Question):
        auditlog.register(model)

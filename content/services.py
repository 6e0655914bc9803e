"""Writes of learning content: quiz attempts, progress, conversations, community.

Each service takes keyword-only arguments, checks the rules, and writes inside one
transaction; work that must follow the commit (awarding achievements, emails) goes
through `transaction.on_commit`.
"""

from collections.abc import Mapping

from django.db import transaction

from billing.selectors import Viewer
from content.exceptions import InvalidAnswers, ItemLocked
from content.models import Quiz, QuizAttempt
from content.selectors import quiz_access

# --- Quizzes ------------------------------------------------------------------------------


def quiz_attempt_submit(*, quiz: Quiz, user, viewer: Viewer, answers: Mapping) -> QuizAttempt:
    """Grade the answers on the server and keep the attempt.

    `answers` maps a question id to the index of the chosen answer (a missing or None
    answer counts as wrong). The quiz must be open to the viewer (owned); an unknown
    question or an index outside the answers refuses the whole attempt and stores nothing.
    """
    if not quiz_access(viewer=viewer, quiz=quiz).is_open:
        raise ItemLocked()
    questions = list(quiz.questions.all())
    if not questions:
        raise InvalidAnswers("This quiz has no questions yet.")
    by_id = {str(question.pk): question for question in questions}
    chosen: dict[str, int] = {}
    for key, value in answers.items():
        question = by_id.get(str(key))
        if question is None:
            raise InvalidAnswers(f"Question {key} is not part of this quiz.")
        if value is None or value == "":
            continue
        try:
            index = int(value)
        except (TypeError, ValueError):
            raise InvalidAnswers(f"Question {key}: answer with a number.") from None
        if isinstance(value, bool) or not 0 <= index < len(question.choices):
            raise InvalidAnswers(f"Question {key}: choose an answer from 0 to {len(question.choices) - 1}.")
        chosen[str(question.pk)] = index
    score = sum(1 for question in questions if chosen.get(str(question.pk)) == question.correct_index)
    with transaction.atomic():
        attempt = QuizAttempt.objects.create(quiz=quiz, user=user, answers=chosen, score=score, total=len(questions))
    return attempt

"""The database refuses content that could not be sold or shown correctly."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from content.models import Lesson, Question, Quiz, Tier
from content.tests.factories import LessonFactory, QuestionFactory, QuizFactory

pytestmark = pytest.mark.django_db


def _refused(**kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        kwargs.pop("factory")(**kwargs)


def test_a_premium_article_needs_a_price_and_a_free_one_does_not():
    _refused(factory=LessonFactory, slug="no-price", price_amount=0)
    assert LessonFactory(free=True, slug="free").price_amount == 0
    assert list(Lesson.objects.values_list("slug", "tier")) == [("free", Tier.FREE)]


def test_a_quiz_needs_a_price_and_currencies_are_lower_case_iso_codes():
    _refused(factory=QuizFactory, slug="gratis", price_amount=0)
    _refused(factory=QuizFactory, slug="upper", currency="USD")
    _refused(factory=LessonFactory, slug="dollars", currency="us$")
    assert Quiz.objects.count() == 0
    assert Lesson.objects.count() == 0


def test_question_order_is_unique_within_a_quiz():
    question = QuestionFactory(order=1)
    _refused(factory=QuestionFactory, quiz=question.quiz, order=1)
    QuestionFactory(order=1)  # another quiz
    assert Question.objects.count() == 2


def test_question_choices_and_correct_index_are_checked_by_forms():
    quiz = QuizFactory()
    with pytest.raises(ValidationError) as bad_choices:
        Question(quiz=quiz, order=1, text="?", choices=["only one"], correct_index=0).full_clean()
    assert bad_choices.value.message_dict == {"choices": ["Give a list of at least two non-empty answers."]}
    with pytest.raises(ValidationError) as bad_index:
        Question(quiz=quiz, order=1, text="?", choices=["a", "b"], correct_index=2).full_clean()
    assert bad_index.value.message_dict == {"correct_index": ["Must point at one of the answers: 0 to 1."]}
    Question(quiz=quiz, order=1, text="?", choices=["a", "b"], correct_index=1).full_clean()

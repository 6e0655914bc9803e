import factory

from billing.models import Purchase
from content.models import Chapter, Course, Lesson, Principle, Question, Quiz, Tag, Tier


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    summary = factory.LazyAttribute(lambda c: f"What {c.title} teaches.")
    is_published = True


class ChapterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chapter

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Chapter {n}")
    order = factory.Sequence(lambda n: n)


class PrincipleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Principle

    chapter = factory.SubFactory(ChapterFactory)
    title = factory.Sequence(lambda n: f"Principle {n}")
    order = factory.Sequence(lambda n: n)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"tag{n}")
    slug = factory.LazyAttribute(lambda t: t.name)


class LessonFactory(factory.django.DjangoModelFactory):
    """A published premium lesson at $10.00 (billing's "article"), standalone unless given a principle."""

    class Meta:
        model = Lesson

    title = factory.Sequence(lambda n: f"Lesson {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = factory.LazyAttribute(lambda a: f"What {a.title} is about.")
    body = factory.LazyAttribute(lambda a: f"The full text of {a.title}.")
    tier = Tier.PREMIUM
    price_amount = 1000
    is_published = True

    class Params:
        free = factory.Trait(tier=Tier.FREE, price_amount=0)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class QuizFactory(factory.django.DjangoModelFactory):
    """A published quiz at $40.00, without questions."""

    class Meta:
        model = Quiz

    title = factory.Sequence(lambda n: f"Quiz {n}")
    slug = factory.Sequence(lambda n: f"quiz-{n}")
    description = factory.LazyAttribute(lambda q: f"Questions about {q.title}.")
    price_amount = 4000
    is_published = True


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    quiz = factory.SubFactory(QuizFactory)
    order = factory.Sequence(lambda n: n + 1)
    text = factory.Sequence(lambda n: f"Question number {n}?")
    choices = factory.LazyFunction(lambda: ["Yes", "No", "It depends"])
    correct_index = 2


def own(*, item_type: str, item_id: str, organization=None, anonymous_session_id: str = "") -> Purchase:
    """A paid purchase of an item, as billing records it once Stripe has been paid."""
    return Purchase.objects.create(
        organization=organization,
        anonymous_session_id=anonymous_session_id,
        item_type=item_type,
        item_id=item_id,
        item_name=item_id,
        list_amount=1000,
        amount=1000,
        status="paid",
    )

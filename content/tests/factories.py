import factory

from content.models import Article, ArticleTier, Question, Quiz


class ArticleFactory(factory.django.DjangoModelFactory):
    """A published premium article at $10.00."""

    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = factory.LazyAttribute(lambda a: f"What {a.title} is about.")
    body = factory.LazyAttribute(lambda a: f"The full text of {a.title}.")
    tier = ArticleTier.PREMIUM
    price_amount = 1000
    is_published = True

    class Params:
        free = factory.Trait(tier=ArticleTier.FREE, price_amount=0)


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

"""In the browser: a Premium subscriber unlocks an article with the plan, then buys a quiz at the plan's discount."""

import pytest
from django.test import Client

from billing.models import Purchase, UsageCounter
from content.tests.factories import LessonFactory, QuestionFactory, QuizFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_premium_subscriber_reads_an_article_from_the_plan_and_buys_a_quiz(billing_site, live_server, page, premium):
    article = LessonFactory(
        title="Retrieval that works", slug="retrieval", price_amount=1200, body="Chunk, embed, rank."
    )
    quiz = QuizFactory(title="Agents in production", slug="agents", price_amount=6000)
    QuestionFactory(quiz=quiz, order=1, text="What should an agent log first?")
    client = Client()
    client.force_login(premium.user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/learn/")
    page.shot("index")
    page.click("text=Retrieval that works")
    assert "Chunk, embed, rank." not in page.content()
    assert page.locator("#unlock button").inner_text() == "Unlock with your plan"
    page.shot("article-locked")
    page.click("#unlock button")
    page.locator("#lesson-body").wait_for()
    page.shot("article-open")
    assert "Chunk, embed, rank." in page.locator("#lesson-body").inner_text()
    assert "Retrieval that works is yours, included in your plan." in page.content()
    counter = UsageCounter.objects.get(organization=premium.organization, feature="premium_article")
    assert counter.used == 1

    page.goto(f"{live_server.url}/learn/quizzes/{quiz.slug}/")
    # Premium: a quiz over $50 is never free, but 20% off: $48.00 instead of $60.00.
    assert page.locator("#unlock button").inner_text() == "Buy for $48.00"
    page.click("#unlock button")
    page.fill("#card_number", "4242 4242 4242 4242")
    page.shot("checkout")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/learn/quizzes/{quiz.slug}/**")
    billing_site.flush()  # Stripe's checkout.session.completed settles the purchase
    page.reload()
    page.shot("quiz-open")
    assert "What should an agent log first?" in page.content()
    purchase = Purchase.objects.get(item_type="quiz")
    assert (purchase.status, purchase.amount, purchase.discount_rule) == ("paid", 4800, "quiz_discount")
    assert article.slug in {p.item_id for p in Purchase.objects.filter(item_type="article", status="paid")}

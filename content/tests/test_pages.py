"""The learning pages: lock state, why and for how much, the Buy form, and opening what is owned."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import OrganizationFactory
from billing.anonymous import SESSION_FIELD
from billing.models import Purchase, UsageCounter
from billing.services.usage import usage_track
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory
from content.selectors import ARTICLE_LOCKED, QUIZ_LOCKED
from content.tests.conftest import signed_in
from content.tests.factories import LessonFactory, QuestionFactory, QuizFactory, own

BUY = "/billing/purchase/"


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def hidden(name: str, value) -> str:
    return f'<input type="hidden" name="{name}" value="{value}">'


@pytest.mark.django_db
def test_a_premium_subscriber_unlocks_a_premium_article_with_the_plan(premium):
    LessonFactory(slug="rag", title="RAG in practice", body="Chunk, embed, retrieve.", price_amount=1000)
    org = premium.organization
    client = signed_in(premium)

    locked = html(client.get("/learn/lessons/rag/"))
    assert ARTICLE_LOCKED in locked
    assert "<strong>Free with your plan</strong>" in locked
    assert "Included in your plan (3 of 3 left this cycle)" in locked
    assert f'action="{BUY}"' in locked
    fields = [("item_type", "article"), ("item_id", "rag"), ("next", "/learn/lessons/rag/"), ("org", org.pk)]
    for name, value in fields:
        assert hidden(name, value) in locked
    assert "Chunk, embed, retrieve." not in locked

    response = client.post(BUY, {"item_type": "article", "item_id": "rag", "next": "/learn/lessons/rag/"})

    assert (response.status_code, response["Location"]) == (302, "/learn/lessons/rag/")
    purchase = Purchase.objects.get()
    assert (purchase.organization, purchase.buyer, purchase.item_type, purchase.item_id, purchase.item_name) == (
        org,
        premium.user,
        "article",
        "rag",
        "RAG in practice",
    )
    assert (purchase.status, purchase.list_amount, purchase.discount_amount, purchase.amount) == ("paid", 1000, 1000, 0)
    assert purchase.discount_rule == "premium_article"
    assert UsageCounter.objects.get(organization=org, feature="premium_article").used == 1
    opened = html(client.get("/learn/lessons/rag/"))
    assert "RAG in practice is yours, included in your plan." in opened
    assert "<p>Chunk, embed, retrieve.</p>" in opened
    assert '<span class="badge">Yours</span>' in opened
    assert 'id="buy-form"' not in opened
    # The next premium article now shows the quota left.
    LessonFactory(slug="evals", price_amount=1200)
    assert "Included in your plan (2 of 3 left this cycle)" in html(client.get("/learn/lessons/evals/"))


@pytest.mark.django_db
def test_a_free_member_buying_a_quiz_is_sent_to_checkout_at_the_list_price(free_member, stripe_sandbox):
    QuizFactory(slug="basics", title="Prompting basics", price_amount=4000)
    client = signed_in(free_member)
    locked = html(client.get("/learn/quizzes/basics/"))
    assert QUIZ_LOCKED in locked
    assert "<strong>$40.00</strong>" in locked
    assert "Buy for $40.00</button>" in locked

    response = client.post(BUY, {"item_type": "quiz", "item_id": "basics", "next": "/learn/quizzes/basics/"})

    assert response.status_code == 302
    assert response["Location"].startswith(stripe_sandbox.url)
    purchase = Purchase.objects.get()
    assert purchase.stripe_checkout_session_id in response["Location"]
    assert (purchase.organization, purchase.item_type, purchase.item_id, purchase.status) == (
        free_member.organization,
        "quiz",
        "basics",
        "pending",
    )
    amounts = (purchase.list_amount, purchase.discount_amount, purchase.amount, purchase.discount_rule)
    assert amounts == (4000, 0, 4000, "")
    # Not paid yet: still locked.
    assert QUIZ_LOCKED in html(client.get("/learn/quizzes/basics/"))


@pytest.mark.django_db(transaction=True)
def test_a_visitor_pays_for_a_quiz_at_checkout_and_its_questions_open(billing_site):
    quiz = QuizFactory(slug="agents", title="Advanced agents", price_amount=6000)
    QuestionFactory(quiz=quiz, order=1, text="Where do you start?")
    visitor = Client()
    assert "Where do you start?" not in html(visitor.get("/learn/quizzes/agents/"))

    response = visitor.post(BUY, {"item_type": "quiz", "item_id": "agents", "next": "/learn/quizzes/agents/"})
    assert pay_hosted_checkout(response["Location"], card="4242424242424242", email="visitor@example.com") == 303
    billing_site.flush()

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount, purchase.anonymous_session_id) == (
        "paid",
        6000,
        visitor.session[SESSION_FIELD],
    )
    opened = html(visitor.get("/learn/quizzes/agents/"))
    assert "<legend>Where do you start?</legend>" in opened
    assert 'id="buy-form"' not in opened
    # Another browser has bought nothing.
    assert "Where do you start?" not in html(Client().get("/learn/quizzes/agents/"))


@pytest.mark.django_db
def test_an_owned_quiz_shows_its_questions_in_order(free_member):
    quiz = QuizFactory(slug="basics")
    QuestionFactory(quiz=quiz, order=2, text="Second?", choices=["c", "d"])
    QuestionFactory(quiz=quiz, order=1, text="First?", choices=["a", "b"])
    own(item_type="quiz", item_id="basics", organization=free_member.organization)
    page = html(signed_in(free_member).get("/learn/quizzes/basics/"))
    assert page.index("First?") < page.index("Second?")
    first = quiz.questions.get(order=1)
    assert f'name="q-{first.pk}" value="0"> a</label>' in page
    assert f'name="q-{first.pk}" value="1"> b</label>' in page
    assert 'id="buy-form"' not in page
    # Other members of the organization own it too; another organization does not.
    colleague = MembershipFactory(organization=free_member.organization)
    assert "First?" in html(signed_in(colleague).get("/learn/quizzes/basics/"))
    assert "First?" not in html(signed_in(MembershipFactory()).get("/learn/quizzes/basics/"))


@pytest.mark.django_db
def test_a_visitor_sees_free_articles_and_locked_premium_content_at_list_price():
    LessonFactory(slug="free-one", free=True, body="Open to all.")
    LessonFactory(slug="paid-one", price_amount=1250, body="Only for owners.", summary="A teaser.")
    quiz = QuizFactory(slug="q", price_amount=4500)
    QuestionFactory(quiz=quiz, text="Hidden question?")
    client = Client()

    index = html(client.get("/learn/"))
    assert 'id="article-free-one" data-state="free"' in index
    assert 'id="article-paid-one" data-state="locked"' in index
    assert 'id="quiz-q" data-state="locked"' in index
    assert "<strong>$12.50</strong>" in index
    assert "<strong>$45.00</strong>" in index
    assert "<p>Open to all.</p>" in html(client.get("/learn/lessons/free-one/"))
    article = html(client.get("/learn/lessons/paid-one/"))
    assert ("A teaser." in article, "Only for owners." in article) == (True, False)
    assert hidden("next", "/learn/lessons/paid-one/") in article
    assert 'name="org"' not in article
    assert '<a href="/accounts/login/?next=/learn/lessons/paid-one/">Log in</a>' in article
    assert "Hidden question?" not in html(client.get("/learn/quizzes/q/"))
    # Looking does not give the visitor an anonymous buyer id; buying does.
    assert SESSION_FIELD not in client.session


@pytest.mark.django_db
def test_a_visitor_reads_what_this_browser_bought():
    LessonFactory(slug="paid-one", body="Only for owners.")
    client = Client()
    session = client.session
    session[SESSION_FIELD] = "browser-1"
    session.save()
    own(item_type="article", item_id="paid-one", anonymous_session_id="browser-1")
    own(item_type="article", item_id="paid-one", anonymous_session_id="browser-2")
    assert "<p>Only for owners.</p>" in html(client.get("/learn/lessons/paid-one/"))
    assert 'id="article-paid-one" data-state="owned"' in html(client.get("/learn/"))


@pytest.mark.django_db
def test_unpublished_and_unknown_items_are_404_even_to_their_owners(free_member):
    LessonFactory(slug="draft", is_published=False, title="Draft article")
    QuizFactory(slug="draft-quiz", is_published=False, title="Draft quiz")
    own(item_type="article", item_id="draft", organization=free_member.organization)
    own(item_type="quiz", item_id="draft-quiz", organization=free_member.organization)
    client = signed_in(free_member)
    for url in ["/learn/lessons/draft/", "/learn/quizzes/draft-quiz/", "/learn/lessons/nope/", "/learn/quizzes/x/"]:
        assert client.get(url).status_code == 404, url
        assert Client().get(url).status_code == 404, url
    index = html(client.get("/learn/"))
    assert ("Draft article" in index, "Draft quiz" in index) == (False, False)


@pytest.mark.django_db
def test_a_premium_subscriber_sees_plan_discounts_once_the_free_ones_do_not_apply(premium):
    org = premium.organization
    LessonFactory(slug="rag", price_amount=1000)
    QuizFactory(slug="cheap", price_amount=4000)
    QuizFactory(slug="dear", price_amount=6000)
    usage_track(organization=org, user_id=None, feature="premium_article", quantity=3, idempotency_key="t")
    client = signed_in(premium)

    article = html(client.get("/learn/lessons/rag/"))
    assert "<del>$10.00</del> <strong>$7.00</strong>" in article
    assert "Your plan&#x27;s article discount" in article
    assert "Buy for $7.00</button>" in article
    dear = html(client.get("/learn/quizzes/dear/"))  # above the $50 a free quiz covers
    assert "<del>$60.00</del> <strong>$48.00</strong>" in dear
    assert "Your plan&#x27;s quiz discount (3 of 3 left this month)" in dear
    cheap = html(client.get("/learn/quizzes/cheap/"))
    assert "<strong>Free with your plan</strong>" in cheap
    assert "Included in your plan (2 of 2 left this cycle)" in cheap
    assert "Unlock with your plan</button>" in cheap


@pytest.mark.django_db
def test_the_page_speaks_for_the_organization_the_user_chooses(premium):
    user = premium.user
    personal = MembershipFactory(user=user, organization=OrganizationFactory(is_personal=True)).organization
    LessonFactory(slug="rag", price_amount=1000)
    client = signed_in(premium)

    mine = html(client.get(f"/learn/?org={personal.pk}"))  # the personal organization (Free)
    assert "<strong>$10.00</strong>" in mine
    assert f'data-org="{premium.organization.pk}">' in mine
    # Without a choice, the organization that pays (issue 10, item 11).
    assert "Free with your plan" in html(client.get("/learn/"))
    chosen = html(client.get(f"/learn/?org={premium.organization.pk}"))
    assert '<strong>Free with your plan</strong></span> <span class="muted">· Included in your plan (3 of 3' in chosen
    assert f'href="/learn/lessons/rag/?org={premium.organization.pk}"' in chosen
    article = html(client.get(f"/learn/lessons/rag/?org={premium.organization.pk}"))
    assert hidden("org", premium.organization.pk) in article
    assert hidden("next", f"/learn/lessons/rag/?org={premium.organization.pk}") in article
    assert hidden("org", premium.organization.pk) in html(client.get("/learn/lessons/rag/"))
    stranger = OrganizationFactory()
    assert client.get(f"/learn/?org={stranger.pk}").status_code == 404


def _index_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/learn/").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_index_reads_ownership_and_prices_once_however_many_items(premium):
    def add_items():
        own(item_type="article", item_id=LessonFactory(price_amount=1000).slug, organization=premium.organization)
        LessonFactory(price_amount=1000)
        LessonFactory(free=True)
        QuizFactory(price_amount=4000)
        QuizFactory(price_amount=6000)

    client = signed_in(premium)
    add_items()
    _index_queries(client)  # warms the session and the entitlement cache
    few = _index_queries(client)
    for _ in range(4):
        add_items()
    assert _index_queries(client) == few

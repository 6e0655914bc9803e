"""One-time purchases priced on our side, paid through the sandbox's Checkout, refunded by staff."""

import pytest
import stripe
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User
from accounts.selectors.organizations import membership_primary
from accounts.tests.factories import PASSWORD
from billing import purchasables
from billing.anonymous import SESSION_FIELD
from billing.models import Purchase, SubscriptionState, UsageCounter
from billing.purchasables import PricedItem
from billing.services.entitlements import entitlements_refresh
from billing.services.purchases import purchases_attach_anonymous
from billing.tests.checkout_helpers import pay_hosted_checkout
from billing.tests.factories import MembershipFactory
from billing.webhooks import webhook_endpoint_register

PURCHASES = "/api/v1/purchases/"
ITEMS = {
    ("quiz", "q40"): PricedItem("quiz", "q40", "Prompting basics quiz", 4000, "usd"),
    ("quiz", "q45"): PricedItem("quiz", "q45", "Evaluating prompts quiz", 4500, "usd"),
    ("quiz", "q40b"): PricedItem("quiz", "q40b", "Prompting basics quiz, part 2", 4000, "usd"),
    ("quiz", "q60"): PricedItem("quiz", "q60", "Advanced agents quiz", 6000, "usd"),
    ("article", "a10"): PricedItem("article", "a10", "RAG in practice", 1000, "usd"),
}


@pytest.fixture(autouse=True)
def items_for_sale(monkeypatch):
    for item_type in ("quiz", "article"):
        monkeypatch.setitem(purchasables._resolvers, item_type, lambda item_id, t=item_type: ITEMS.get((t, item_id)))


def client_for(membership):
    client = APIClient()
    client.force_authenticate(user=membership.user)
    return client


def used(org, feature):
    counter = UsageCounter.objects.filter(organization=org, feature=feature).first()
    return counter.used if counter else 0


@pytest.mark.django_db
def test_premium_gets_two_free_quizzes_then_twenty_percent_off(premium, stripe_sandbox):
    call_command("billing_setup")
    client, org = client_for(premium), premium.organization
    for item_id in ("q40", "q45"):
        free = client.post(PURCHASES, {"item_type": "quiz", "item_id": item_id}, format="json").json()
        assert (free["purchase"]["amount"], free["purchase"]["status"], free["checkout_url"]) == (0, "paid", "")
        assert free["purchase"]["discount_rule"] == "free_quiz"
    assert used(org, "free_quiz") == 2
    third = client.post(PURCHASES, {"item_type": "quiz", "item_id": "q40b"}, format="json").json()
    assert (third["purchase"]["amount"], third["purchase"]["discount_amount"]) == (3200, 800)
    assert (third["purchase"]["status"], third["purchase"]["discount_rule"]) == ("pending", "quiz_discount")
    assert third["checkout_url"].startswith(stripe_sandbox.url)


@pytest.mark.django_db
def test_a_quiz_over_fifty_dollars_is_never_free(premium, stripe_sandbox):
    body = client_for(premium).post(PURCHASES, {"item_type": "quiz", "item_id": "q60"}, format="json").json()
    assert (body["purchase"]["amount"], body["purchase"]["discount_rule"]) == (4800, "quiz_discount")
    assert used(premium.organization, "free_quiz") == 0


@pytest.mark.django_db
def test_the_client_never_sets_the_price(premium, stripe_sandbox):
    body = {"item_type": "article", "item_id": "a10", "amount": 1, "list_amount": 1, "discount_amount": 999}
    refused = client_for(premium).post(PURCHASES, body, format="json")
    # Fields the API does not take are refused by name, not silently ignored.
    assert refused.status_code == 400
    assert sorted(e["field"] for e in refused.json()["errors"]) == ["amount", "discount_amount", "list_amount"]
    assert not Purchase.objects.exists()
    response = client_for(premium).post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json").json()
    # Premium: 3 free articles a cycle.
    assert (response["purchase"]["list_amount"], response["purchase"]["amount"]) == (1000, 0)


@pytest.mark.django_db
def test_unknown_items_are_404(premium):
    response = client_for(premium).post(PURCHASES, {"item_type": "quiz", "item_id": "nope"}, format="json")
    assert response.status_code == 404
    assert not Purchase.objects.exists()


def _buy_anonymously(client, *, item: tuple[str, str] = ("article", "a10"), status: int = 201) -> Purchase:
    response = client.post(PURCHASES, {"item_type": item[0], "item_id": item[1]}, format="json")
    assert response.status_code == status
    return Purchase.objects.get(pk=response.json()["purchase"]["id"])


def _sign_up(client, email: str) -> User:
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content
    return User.objects.get(email=email)


@pytest.mark.django_db
def test_anonymous_purchase_keeps_an_id_in_the_session_not_the_session_key(stripe_sandbox):
    client = APIClient()
    purchase = _buy_anonymously(client)
    session = client.session
    assert (purchase.organization, purchase.buyer, purchase.amount) == (None, None, 1000)
    assert purchase.anonymous_session_id == session[SESSION_FIELD]
    assert purchase.anonymous_session_id != session.session_key
    # The same browser buying again: its open purchase (and Checkout) is answered again, with 200.
    assert _buy_anonymously(client, status=200) == purchase
    other = _buy_anonymously(client, item=("quiz", "q40"))
    assert other.anonymous_session_id == purchase.anonymous_session_id


@pytest.mark.django_db
def test_a_signed_out_buy_needs_its_sessions_csrf_token(stripe_sandbox):
    """Another site's form cannot start purchases in a visitor's browser session."""
    client = APIClient(enforce_csrf_checks=True)
    refused = client.post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert not Purchase.objects.exists()

    client.get("/accounts/login/")  # any page of the site gives the browser its csrftoken cookie
    token = client.cookies["csrftoken"].value
    bought = client.post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert bought.status_code == 201
    assert Purchase.objects.get().anonymous_session_id


@pytest.mark.django_db
def test_signing_up_in_the_same_session_attaches_the_purchases_to_the_personal_organization(stripe_sandbox):
    client = APIClient()
    first, second = _buy_anonymously(client), _buy_anonymously(client, item=("quiz", "q40"))
    user = _sign_up(client, "newcomer@example.com")
    personal = membership_primary(user=user).organization
    assert personal.is_personal
    for purchase in (first, second):
        purchase.refresh_from_db()
        assert (purchase.organization, purchase.buyer, purchase.anonymous_session_id) == (personal, user, "")
    assert SESSION_FIELD not in client.session


@pytest.mark.django_db
def test_signing_in_to_an_existing_account_attaches_the_purchases_to_its_organization(stripe_sandbox):
    member = MembershipFactory(user__email="returning@example.com")
    client = APIClient()
    purchase = _buy_anonymously(client)

    response = client.post("/accounts/login/", {"login": "returning@example.com", "password": PASSWORD})

    assert response.status_code == 302, response.content
    purchase.refresh_from_db()
    assert (purchase.organization, purchase.buyer, purchase.anonymous_session_id) == (
        member.organization,
        member.user,
        "",
    )
    assert SESSION_FIELD not in client.session
    # The history the account sees now lists it.
    client.force_authenticate(member.user)
    listed = client.get(PURCHASES, {"customer": member.organization.pk}).json()["results"]
    assert [row["id"] for row in listed] == [purchase.pk]


@pytest.mark.django_db
def test_the_purchase_survives_a_new_session_key_before_sign_up(stripe_sandbox):
    client = APIClient()
    purchase = _buy_anonymously(client)
    # What Django's login() does to the session: a new key, the same data.
    session = client.session
    old_key = session.session_key
    session.cycle_key()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert client.session.session_key != old_key
    user = _sign_up(client, "rotated@example.com")
    purchase.refresh_from_db()
    assert (purchase.organization, purchase.buyer) == (membership_primary(user=user).organization, user)


@pytest.mark.django_db
def test_signing_up_in_another_session_leaves_the_purchase_alone(stripe_sandbox):
    purchase = _buy_anonymously(APIClient())
    _sign_up(APIClient(), "someone-else@example.com")
    purchase.refresh_from_db()
    assert (purchase.organization, purchase.buyer, purchase.anonymous_session_id != "") == (None, None, True)


@pytest.mark.django_db
def test_attach_service_moves_only_unattached_purchases_of_that_id(stripe_sandbox):
    client = APIClient()
    purchase = _buy_anonymously(client)
    member = MembershipFactory()
    anonymous_id = client.session[SESSION_FIELD]
    attached = purchases_attach_anonymous(
        anonymous_session_id=anonymous_id, organization=member.organization, buyer_id=member.user.pk
    )
    purchase.refresh_from_db()
    assert (attached, purchase.organization, purchase.buyer) == (1, member.organization, member.user)
    other = MembershipFactory()
    again = purchases_attach_anonymous(
        anonymous_session_id=anonymous_id, organization=other.organization, buyer_id=other.user.pk
    )
    assert again == 0
    assert purchases_attach_anonymous(anonymous_session_id="", organization=other.organization, buyer_id=1) == 0
    purchase.refresh_from_db()
    assert purchase.organization == member.organization


@pytest.mark.django_db
def test_an_owned_item_is_not_sold_twice_but_a_fully_refunded_one_is(premium):
    client = client_for(premium)
    first = client.post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json")
    assert (first.status_code, first.json()["purchase"]["amount"]) == (201, 0)
    again = client.post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_owned")
    assert Purchase.objects.count() == 1
    assert used(premium.organization, "premium_article") == 1
    Purchase.objects.update(status="refunded")
    assert client.post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json").status_code == 201


@pytest.mark.django_db
def test_purchase_history_is_org_scoped(premium):
    client_for(premium).post(PURCHASES, {"item_type": "article", "item_id": "a10"}, format="json")
    own = client_for(premium).get(PURCHASES, {"customer": premium.organization.pk}).json()
    assert [p["item_id"] for p in own["results"]] == ["a10"]
    stranger = MembershipFactory()
    assert client_for(stranger).get(PURCHASES, {"customer": premium.organization.pk}).status_code == 404
    purchase_id = own["results"][0]["id"]
    assert client_for(stranger).get(f"{PURCHASES}{purchase_id}/").status_code == 404
    assert client_for(premium).get(f"{PURCHASES}{purchase_id}/").json()["amount"] == 0


@pytest.mark.django_db(transaction=True)
def test_paid_checkout_settles_the_purchase_and_staff_refund_never_exceeds_it(stripe_sandbox, live_server):
    call_command("billing_setup")
    webhook_endpoint_register(base_url=live_server.url)
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    started = client_for(member).post(PURCHASES, {"item_type": "quiz", "item_id": "q60"}, format="json").json()
    assert started["purchase"]["amount"] == 6000  # Free plan: list price
    assert pay_hosted_checkout(started["checkout_url"], card="4242424242424242", email=member.user.email) == 303
    stripe_sandbox.flush()
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.amount) == ("paid", 6000)
    assert purchase.stripe_payment_intent_id.startswith("pi_")

    staff = MembershipFactory(user__is_staff=True)
    refund = f"{PURCHASES}{purchase.pk}/refund/"
    assert client_for(member).post(refund, {"amount": 100}, format="json").status_code == 403
    too_much = client_for(staff).post(refund, {"amount": 6001}, format="json")
    assert (too_much.status_code, too_much.json()["code"]) == (400, "refund_exceeds_paid")
    purchase.refresh_from_db()
    assert (purchase.refunded_amount, purchase.status) == (0, "paid")

    partial = client_for(staff).post(refund, {"amount": 2500}, format="json").json()
    assert (partial["refunded_amount"], partial["status"]) == (2500, "partially_refunded")
    over = client_for(staff).post(refund, {"amount": 3501}, format="json")
    assert over.status_code == 400
    rest = client_for(staff).post(refund, {"amount": 3500}, format="json").json()
    assert (rest["refunded_amount"], rest["status"]) == (6000, "refunded")


@pytest.mark.django_db(transaction=True)
def test_a_promotion_code_typed_at_checkout_is_recorded_as_discount(billing_site):
    # Staff set up the code in Stripe's dashboard; here, through the API the dashboard uses.
    coupon = stripe.Coupon.create(percent_off=50, duration="once")
    stripe.PromotionCode.create(promotion={"type": "coupon", "coupon": coupon.id}, code="HALF")
    member = MembershipFactory()
    entitlements_refresh(organization=member.organization)
    started = client_for(member).post(PURCHASES, {"item_type": "quiz", "item_id": "q60"}, format="json").json()
    status = pay_hosted_checkout(started["checkout_url"], card="4242424242424242", email="a@b.c", promotion_code="HALF")
    assert status == 303
    billing_site.flush()
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.list_amount, purchase.amount, purchase.discount_amount) == (
        "paid",
        6000,
        3000,
        3000,
    )
    assert purchase.discount_rule == "promotion_code"


@pytest.mark.django_db(transaction=True)
def test_an_abandoned_checkout_expires_its_purchase_and_uses_no_quota(billing_site, premium):
    started = client_for(premium).post(PURCHASES, {"item_type": "quiz", "item_id": "q60"}, format="json").json()
    assert started["checkout_url"]
    purchase = Purchase.objects.get()
    assert purchase.status == "pending"

    # The buyer never pays; Stripe expires the session (here, explicitly, as it does after 24 h).
    stripe.checkout.Session.expire(purchase.stripe_checkout_session_id)
    billing_site.flush()

    purchase.refresh_from_db()
    assert purchase.status == "expired"
    assert used(premium.organization, "quiz_discount") == 0
    listed = client_for(premium).get(f"{PURCHASES}{purchase.pk}/").json()
    assert (listed["status"], listed["amount"]) == ("expired", purchase.amount)


@pytest.mark.django_db(transaction=True)
def test_a_discounted_purchase_paid_after_the_plan_ended_still_settles(billing_site, premium):
    started = client_for(premium).post(PURCHASES, {"item_type": "quiz", "item_id": "q60"}, format="json").json()
    assert (started["purchase"]["amount"], started["purchase"]["discount_rule"]) == (4800, "quiz_discount")
    # The subscription ends while the buyer is on the Checkout page.
    SubscriptionState.objects.filter(organization=premium.organization).update(plan="free", status="canceled")
    entitlements_refresh(organization=premium.organization)

    status = pay_hosted_checkout(started["checkout_url"], card="4242424242424242", email=premium.user.email)
    assert status == 303
    billing_site.flush()

    purchase = Purchase.objects.get()
    # Paid at the quoted price: the customer keeps the item; no quota is left to take.
    assert (purchase.status, purchase.amount) == ("paid", 4800)
    assert used(premium.organization, "quiz_discount") == 0

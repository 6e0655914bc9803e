"""POST /api/v1/auth/signup/: allauth's sign-up over the API, with the page's verification and answers."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, Profile, Role, User
from accounts.tests.api.conftest import OBTAIN, assert_error_shape
from accounts.tests.factories import PASSWORD as FACTORY_PASSWORD
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/api/v1/auth/signup/"
PASSWORD = "a-long-enough-Passw0rd"


def sign_up(api=None, **body):
    body = {"email": "new@example.com", "password": PASSWORD, **body}
    return (api or APIClient()).post(SIGNUP, body, format="json")


def test_sign_up_creates_the_account_and_sends_the_verification_email_as_the_page_does():
    response = sign_up(name="Ada Lovelace")

    assert response.status_code == 202
    assert response.json() == {
        "email": "new@example.com",
        "detail": "If this address can be used, a message is on its way to it: follow its link to verify the "
        "address, then log in.",
    }
    user = User.objects.get(email="new@example.com")
    assert user.check_password(PASSWORD)
    assert Profile.objects.get(user=user).display_name == "Ada Lovelace"
    membership = Membership.objects.get(user=user)
    assert (membership.role, membership.organization.is_personal) == (Role.ADMIN, True)
    assert membership.organization.name == "Ada's workspace"
    assert not EmailAddress.objects.get(email="new@example.com").verified
    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    assert message.subject == "[Plateau] Please Confirm Your Email Address"
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body).group(1)

    # Mandatory verification: no token before the link is followed, one after.
    api = APIClient()
    assert api.post(OBTAIN, {"email": "new@example.com", "password": PASSWORD}, format="json").status_code != 200
    browser = Client()
    assert browser.post(link).status_code == 302
    assert EmailAddress.objects.get(email="new@example.com").verified
    assert api.post(OBTAIN, {"email": "new@example.com", "password": PASSWORD}, format="json").status_code == 200


def test_an_address_already_taken_gets_the_same_answer_as_on_the_page_and_its_owner_is_told():
    owner = UserFactory(email="taken@example.com")
    fresh = sign_up(email="fresh@example.com")
    mail.outbox.clear()

    response = sign_up(email="Taken@Example.com", name="Mallory")

    assert response.status_code == fresh.status_code == 202
    assert response.json()["detail"] == fresh.json()["detail"]
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1
    owner.refresh_from_db()
    assert owner.check_password(FACTORY_PASSWORD) and not Membership.objects.filter(user=owner).exists()
    [message] = mail.outbox  # allauth tells the owner; the caller learns nothing
    assert message.to == ["taken@example.com"]
    assert message.subject == "[Plateau] Account Already Exists"
    # The page answers a taken address exactly as it answers a new one, too.
    page = Client().post(
        "/accounts/signup/", {"email": "taken@example.com", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert (page.status_code, page["Location"]) == (302, "/accounts/confirm-email/")


def test_invalid_input_is_a_400_naming_the_fields_and_creates_nothing():
    weak = sign_up(email="weak@example.com", password="short")
    body = assert_error_shape(weak, status=400, code="validation_error")
    assert {e["field"] for e in body["errors"]} == {"password"}
    assert "too short" in " ".join(e["message"] for e in body["errors"])

    bad_email = assert_error_shape(sign_up(email="not-an-email"), status=400)
    assert [e["field"] for e in bad_email["errors"]] == ["email"]

    unknown = assert_error_shape(sign_up(email="x@example.com", is_staff=True), status=400)
    assert unknown["errors"] == [{"field": "is_staff", "message": "This field is not accepted here."}]

    assert not User.objects.exists() and not mail.outbox


def test_sign_up_is_throttled_per_ip_like_the_other_auth_endpoints():
    api = APIClient(REMOTE_ADDR="10.9.9.9")
    for n in range(10):
        assert sign_up(api, email=f"bot{n}@example.com").status_code == 202
    response = sign_up(api, email="bot10@example.com")
    assert_error_shape(response, status=429, code="throttled")
    assert int(response["Retry-After"]) >= 1
    assert not User.objects.filter(email="bot10@example.com").exists()


def test_sign_up_is_in_the_openapi_schema():
    schema = Client().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/auth/signup/"]["post"]
    assert set(operation["responses"]) == {"202", "400", "429"}
    assert operation.get("security") == [{}] or "security" not in operation

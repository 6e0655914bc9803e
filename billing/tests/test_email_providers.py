"""Billing emails through SendGrid or Postmark (django-anymail), against fake providers on 127.0.0.1:
the log records the id the provider gave the message."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from billing.models import BillingEmail
from billing.services.emails import EmailSendFailed, billing_email_queue, billing_email_send
from billing.tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


class FakeProvider(BaseHTTPRequestHandler):
    requests: list = []
    answer_status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeProvider.requests.append((self.path, dict(self.headers), body))
        self.send_response(FakeProvider.answer_status)
        if self.path.startswith("/v3/"):  # SendGrid: 202, the id in a header
            self.send_header("X-Message-Id", "sg-message-1")
            self.end_headers()
        else:  # Postmark: 200, the id in the JSON body
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            answer = {
                "To": body.get("To"),
                "SubmittedAt": "2026-12-03T10:00:00Z",
                "MessageID": "pm-0a1b",
                "ErrorCode": 0,
                "Message": "OK",
            }
            if FakeProvider.answer_status >= 400:
                answer = {"ErrorCode": 300, "Message": "Invalid email request"}
            self.wfile.write(json.dumps(answer).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    FakeProvider.requests, FakeProvider.answer_status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def queue(org):
    return billing_email_queue(
        key="payment_failed:in_9:1",
        organization=org,
        recipient="owner@acme.example.com",
        template="payment_failed",
        context={"organization_name": org.name, "plan_name": "Premium", "grace_until": "26 Nov 2026"},
    )


# Anymail still sends through SendGrid but no longer supports it officially (anymail issue 432); it says so.
@pytest.mark.filterwarnings("ignore:django-anymail has dropped official support for SendGrid")
def test_sendgrid_message_id_is_logged(settings, provider):
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {"SENDGRID_API_KEY": "SG.test-key", "SENDGRID_API_URL": f"{provider}/v3/"}
    FakeProvider.answer_status = 202
    email = queue(OrganizationFactory())
    billing_email_send(email_id=email.pk)
    email.refresh_from_db()
    ((path, headers, body),) = FakeProvider.requests
    # Anymail names each SendGrid message itself (SendGrid's own header id is per batch) and sends the
    # name along, so SendGrid's event webhooks carry it back: that is the id to keep.
    assert email.status == "sent"
    assert email.provider_message_id == body["personalizations"][0]["custom_args"]["anymail_id"]
    assert path == "/v3/mail/send" and headers["Authorization"] == "Bearer SG.test-key"
    assert body["personalizations"][0]["to"] == [{"email": "owner@acme.example.com"}]
    assert body["subject"] == "Your Plateau payment failed"


def test_postmark_message_id_is_logged_and_a_refusal_is_a_failed_send(settings, provider):
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "pm-token", "POSTMARK_API_URL": f"{provider}/"}
    org = OrganizationFactory()
    FakeProvider.answer_status = 422
    email = queue(org)
    with pytest.raises(EmailSendFailed):
        billing_email_send(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.provider_message_id) == ("failed", "")
    FakeProvider.answer_status = 200
    billing_email_send(email_id=email.pk)
    email.refresh_from_db()
    assert (email.status, email.attempts, email.provider_message_id) == ("sent", 2, "pm-0a1b")
    assert FakeProvider.requests[-1][1]["X-Postmark-Server-Token"] == "pm-token"


def test_the_console_backend_leaves_no_provider_id(mailoutbox):
    email = queue(OrganizationFactory())
    billing_email_send(email_id=email.pk)
    assert BillingEmail.objects.get(pk=email.pk).provider_message_id == ""
    assert len(mailoutbox) == 1

"""Content-Security-Policy: strict on every page, and no page needs more.

The policy refuses inline scripts, event-handler attributes and inline styles, so a
template that used one would break in the browser without failing a server test. This
crawls every page route (those without parameters, then every same-site link found,
signed out, as a member and as staff in the admin) and checks each HTML page for them.
"""

from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role
from accounts.tests.factories import MembershipFactory
from content.tests.factories import LessonFactory, QuizFactory
from marketplace.tests.factories import PromptTemplateFactory

pytestmark = pytest.mark.django_db

EXPECTED_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
}
# Not pages: machine endpoints, downloads, and links that act (sign out) or leave.
SKIP_PREFIXES = ("/api/", "/stripe/", "/healthz", "/readyz", "/static/", "/settings/data/export/", "/accounts/logout/")
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class PageAudit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.links: list[str] = []
        self._inline_script = False
        self._script_text = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event-handler attribute")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
            if (
                name in ("src", "href")
                and tag in ("script", "img", "link", "iframe")
                and (value or "").startswith(("http:", "https:", "//"))
            ):
                self.problems.append(f"<{tag} {name}={value}> from another origin")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and "src" not in attributes and attributes.get("type") not in DATA_SCRIPT_TYPES:
            self._inline_script = True
            self._script_text = ""
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])

    def handle_data(self, data):
        if self._inline_script:
            self._script_text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._inline_script:
            self._inline_script = False
            self.problems.append(f"inline <script>: {self._script_text.strip()[:80]!r}")


def _parameterless_routes(resolver=None, prefix="") -> list[str]:
    resolver = resolver or get_resolver()
    paths = []
    for entry in resolver.url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths.extend(_parameterless_routes(entry, prefix + route))
        elif isinstance(entry, URLPattern) and "<" not in route and "(" not in route and "^" not in route:
            paths.append("/" + prefix + route)
    return paths


def _crawl(client: Client, start: list[str], *, limit: int) -> dict[str, list[str]]:
    seen, queue, problems = set(), list(start), {}
    while queue and len(seen) < limit:
        path = urldefrag(queue.pop(0))[0]
        if path in seen or not path.startswith("/") or path.startswith(SKIP_PREFIXES):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302):
            location = response["Location"]
            if not urlsplit(location).netloc:
                queue.append(location)
            continue
        if "text/html" not in response.get("Content-Type", ""):
            continue
        assert response.status_code < 500, path
        policy = response.get("Content-Security-Policy", "")
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        if directives != EXPECTED_POLICY:
            problems.setdefault(path, []).append(f"policy {policy!r}")
        audit = PageAudit()
        audit.feed(response.content.decode())
        if audit.problems:
            problems.setdefault(path, []).extend(audit.problems)
        queue.extend(link for link in audit.links if link.startswith("/"))
    return problems


@pytest.fixture
def catalogue():
    LessonFactory()
    QuizFactory()
    PromptTemplateFactory()


def test_pages_signed_out_have_the_policy_and_nothing_inline(client, catalogue):
    assert _crawl(client, _parameterless_routes(), limit=80) == {}


def test_pages_of_a_member_have_the_policy_and_nothing_inline(client, catalogue):
    member = MembershipFactory(role=Role.ADMIN)
    client.force_login(member.user)
    start = [*_parameterless_routes(), f"/settings/organizations/{member.organization_id}/"]
    assert _crawl(client, start, limit=120) == {}


def test_admin_pages_work_under_the_policy(staff_client, catalogue):
    assert _crawl(staff_client, ["/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"], limit=60) == {}

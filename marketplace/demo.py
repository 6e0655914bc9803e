"""Marketplace demo data for `manage.py seed_demo`: three sellers, 132 templates, buyers' purchases and reviews.

Prompt Forge's dozen templates are written by hand; the house library (100 templates, the
"100+ prompt library") and Data Dojo's 20 are generated (`demo_catalogue.py`). Templates
are published through the service and reviews written through theirs, so the demo obeys
the same rules as people do; the demo buyers' purchases are billing's demo purchases
(`purchase_settle_demo`: priced and settled as a paid Checkout is, marked `is_demo`, with
no made-up Stripe ids), so sales figures and the sellers' ledgers follow through the same
"settled" callback. Idempotent: templates are found by slug and left as they are;
purchases and reviews are made once.
"""

from allauth.account.models import EmailAddress
from django.db import transaction

from accounts.demo import DEMO_PASSWORD
from accounts.models import Membership, Organization, Role, User
from accounts.services.users import user_create_defaults
from billing.services.purchases import purchase_settle_demo
from marketplace.demo_catalogue import RATING_CYCLE, REVIEW_TEXTS, generated_templates
from marketplace.models import Category, PromptTemplate, Review
from marketplace.selectors import ITEM_TYPE
from marketplace.services.reviews import review_create
from marketplace.services.templates import prompt_template_publish

SELLER_EMAIL = "seller@plateau.test"
SELLER_ORGANIZATION_SLUG = "prompt-forge"
# (key, email, organization slug, organization name)
GENERATED_SELLERS = [
    ("house", "library@plateau.test", "plateau-library", "Plateau Library"),
    ("dojo", "dojo@plateau.test", "data-dojo", "Data Dojo"),
]
# Demo buyer organizations that bought and reviewed templates (their people can log in too).
BUYERS = [
    ("northwind", "Northwind Traders"),
    ("globex", "Globex"),
    ("initech", "Initech"),
    ("umbrella-labs", "Umbrella Labs"),
    ("hooli", "Hooli"),
    ("stark-studio", "Stark Studio"),
]


def _text(name: str, default: str | None = None) -> dict:
    return {"name": name, "type": "text", "default": default}


def _number(name: str, default: int | None = None) -> dict:
    return {"name": name, "type": "number", "default": default}


def _choice(name: str, choices: list[str], default: str | None = None) -> dict:
    return {"name": name, "type": "choice", "choices": choices, "default": default}


TONES = ["friendly", "formal", "playful"]

# (slug, title, category, tags, price in cents, description, body, variables, example output)
TEMPLATES = [
    (
        "cold-email-opener",
        "Cold email opener",
        Category.MARKETING,
        "email, sales, outreach",
        900,
        "A first email to a prospect that leads with their problem, not your product.",
        "Write a {{tone}} cold email of at most {{words}} words to {{prospect}}, who works on {{problem}}. "
        "Open with their problem, mention {{product}} once, and end with one low-effort question.",
        [
            _text("prospect"),
            _text("problem"),
            _text("product"),
            _choice("tone", TONES, "friendly"),
            _number("words", 120),
        ],
        "Hi Dana, keeping three onboarding flows in sync by hand is a grind...",
    ),
    (
        "product-launch-post",
        "Product launch post",
        Category.MARKETING,
        "launch, social, linkedin",
        1200,
        "A launch announcement for LinkedIn or a blog, with a hook, three benefits and a call to action.",
        "Announce {{product}} for {{audience}} in a {{channel}} post. Start with a one-line hook, list three "
        "concrete benefits, and close with this call to action: {{cta}}.",
        [
            _text("product"),
            _text("audience"),
            _choice("channel", ["LinkedIn", "blog", "newsletter"], "LinkedIn"),
            _text("cta", "Try it free today"),
        ],
        "Shipping today: Plateau Insights. Stop guessing which lesson your team finished...",
    ),
    (
        "ad-copy-variations",
        "Ad copy variations",
        Category.MARKETING,
        "ads, a/b testing, copywriting",
        1500,
        "Several short ad variants for A/B tests, each with a different angle.",
        "Write {{count}} ad variations for {{product}}, each under 90 characters, for {{audience}}. "
        "Use a different angle for each (price, speed, social proof, fear of missing out).",
        [_text("product"), _text("audience"), _number("count", 5)],
        "1. Ship reports in minutes, not days.\n2. 4,000 teams already switched...",
    ),
    (
        "blog-outline",
        "Blog post outline",
        Category.WRITING,
        "blog, outline, seo",
        500,
        "A structured outline with headings, key points and a working title.",
        "Outline a blog post about {{topic}} for {{audience}}. Give a working title, {{sections}} section "
        "headings with two key points each, and a closing takeaway.",
        [_text("topic"), _text("audience", "busy professionals"), _number("sections", 5)],
        "Working title: Five habits of teams that write good prompts...",
    ),
    (
        "rewrite-for-clarity",
        "Rewrite for clarity",
        Category.WRITING,
        "editing, plain language",
        700,
        "Turns a dense paragraph into plain language at the reading level you choose.",
        "Rewrite the following text for a {{level}} reader. Keep every fact, cut jargon, prefer short "
        "sentences.\n\n{{text}}",
        [_text("text"), _choice("level", ["general", "expert", "beginner"], "general")],
        "Our tool checks your prompts before you send them, so you spend less on retries.",
    ),
    (
        "newsletter-intro",
        "Newsletter intro",
        Category.WRITING,
        "newsletter, email",
        800,
        "A warm opening paragraph for this week's newsletter.",
        "Write a {{tone}} opening paragraph for a newsletter called {{newsletter}}. This week's theme is {{theme}}.",
        [_text("newsletter"), _text("theme"), _choice("tone", TONES, "friendly")],
        "Welcome back to The Prompt Letter! This week we are talking about evaluation...",
    ),
    (
        "code-review-checklist",
        "Code review checklist",
        Category.CODING,
        "code review, quality",
        1900,
        "A review of a diff against a checklist: correctness, tests, security, naming.",
        "Review this {{language}} change as a senior engineer. Check correctness, tests, security and naming; "
        "list findings by severity.\n\n{{diff}}",
        [_text("language", "Python"), _text("diff")],
        "High: the retry loop never gives up when the server returns 500...",
    ),
    (
        "unit-test-writer",
        "Unit test writer",
        Category.CODING,
        "testing, pytest",
        2400,
        "Generates focused unit tests for a function, including edge cases.",
        "Write {{framework}} tests for this function. Cover the normal path, {{edge_cases}} edge cases and one "
        "failure.\n\n{{code}}",
        [_text("code"), _choice("framework", ["pytest", "unittest", "Jest"], "pytest"), _number("edge_cases", 3)],
        "def test_parse_price_accepts_cents():\n    assert parse_price('12.30') == 1230",
    ),
    (
        "sql-explainer",
        "SQL query explainer",
        Category.CODING,
        "sql, databases, performance",
        2900,
        "Explains what a SQL query does, step by step, and where it may be slow.",
        "Explain this {{dialect}} query step by step for a developer, then point out what may be slow and why.\n\n"
        "{{query}}",
        [_text("query"), _choice("dialect", ["PostgreSQL", "MySQL", "SQLite"], "PostgreSQL")],
        "1. The CTE picks last month's orders...\nSlow: the join on customers has no index on email.",
    ),
    (
        "survey-summary",
        "Survey answers summary",
        Category.DATA,
        "survey, research, summary",
        1400,
        "Groups free-text survey answers into themes with counts and quotes.",
        "Group these survey answers about {{subject}} into at most {{themes}} themes. For each theme give a "
        "count and one representative quote.\n\n{{answers}}",
        [_text("subject"), _text("answers"), _number("themes", 5)],
        "Pricing (14): “I'd pay for it if the team plan were cheaper.”...",
    ),
    (
        "kpi-commentary",
        "KPI commentary",
        Category.DATA,
        "reporting, metrics",
        1700,
        "Turns a table of metrics into a short commentary for a weekly report.",
        "Write a {{length}} commentary on these {{period}} metrics for leadership: what changed, the likely cause, "
        "and one action.\n\n{{metrics}}",
        [_text("metrics"), _text("period", "weekly"), _choice("length", ["short", "detailed"], "short")],
        "Sign-ups rose 12% after the pricing page change; activation is flat...",
    ),
    (
        "chart-picker",
        "Chart picker",
        Category.DATA,
        "visualisation, charts",
        600,
        "Recommends the right chart for your data and question.",
        "I have data about {{data}} and want to show {{question}}. Recommend the best chart type, say why, "
        "and name one chart to avoid.",
        [_text("data"), _text("question")],
        "Use a line chart: the question is about change over time...",
    ),
]


def _person(email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD)
    user_create_defaults(user=user)
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def _organization_with(*, user: User, slug: str, name: str, role: str) -> Organization:
    organization, _ = Organization.objects.get_or_create(
        slug=slug, defaults={"name": name, "email": f"billing@{slug}.test"}
    )
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": role})
    return organization


def _seller() -> tuple[User, Organization]:
    user = _person(SELLER_EMAIL)
    organization = _organization_with(user=user, slug=SELLER_ORGANIZATION_SLUG, name="Prompt Forge", role=Role.SELLER)
    return user, organization


def _publish_all(rows, sellers: dict[str, tuple[User, Organization]]) -> None:
    for key, slug, title, category, tags, price, description, body, variables, example in rows:
        actor, organization = sellers[key]
        template, _ = PromptTemplate.objects.get_or_create(
            slug=slug,
            defaults={
                "seller": organization,
                "seller_name": organization.name,
                "title": title,
                "category": category,
                "tags": tags,
                "price_amount": price,
                "description": description,
                "body": body,
                "variables": variables,
                "example_output": example,
            },
        )
        if template.status == "draft" and template.published_at is None and template.seller_id == organization.pk:
            prompt_template_publish(template=template, actor=actor)


def _buy_and_review(*, buyer: User, organization: Organization, template: PromptTemplate, n: int) -> None:
    """The demo buyer's purchase (billing's demo settlement, once), then (mostly) a review."""
    purchase_settle_demo(organization=organization, buyer_id=buyer.pk, item_type=ITEM_TYPE, item_id=template.slug)
    if n % 4 == 3 or Review.objects.filter(template=template, author=buyer, organization=organization).exists():
        return
    stars = RATING_CYCLE[n % len(RATING_CYCLE)]
    texts = REVIEW_TEXTS[stars]
    template.refresh_from_db()
    review_create(template=template, organization=organization, author=buyer, rating=stars, text=texts[n % len(texts)])


@transaction.atomic
def seed_demo() -> list[str]:
    seller, organization = _seller()
    sellers = {"forge": (seller, organization)}
    for key, email, slug, name in GENERATED_SELLERS:
        person = _person(email)
        sellers[key] = (person, _organization_with(user=person, slug=slug, name=name, role=Role.SELLER))
    _publish_all([("forge", *row) for row in TEMPLATES], sellers)
    _publish_all(generated_templates(), sellers)

    on_sale = list(PromptTemplate.objects.published().order_by("id"))
    for buyer_index, (slug, name) in enumerate(BUYERS):
        person = _person(f"buyer@{slug}.test")
        buyer_org = _organization_with(user=person, slug=slug, name=name, role=Role.ADMIN)
        for n, template in enumerate(on_sale):
            if (n + buyer_index) % 3 == 0:
                _buy_and_review(buyer=person, organization=buyer_org, template=template, n=n + buyer_index)

    counts = {key: PromptTemplate.objects.published().filter(seller=org).count() for key, (_, org) in sellers.items()}
    return [
        f"Seller (member of '{organization.name}', sees its templates' prompts): {SELLER_EMAIL} / {DEMO_PASSWORD}",
        *(f"Seller of '{sellers[key][1].name}': {email} / {DEMO_PASSWORD}" for key, email, _, _ in GENERATED_SELLERS),
        f"Buyers who reviewed templates: buyer@northwind.test (and five more like it) / {DEMO_PASSWORD}",
        f"{sum(counts.values())} prompt templates on sale at /marketplace/ ({counts['forge']} by Prompt Forge, "
        f"{counts['house']} in the Plateau Library, {counts['dojo']} by Data Dojo), "
        f"{Review.objects.count()} reviews; the seller studio is /marketplace/studio/",
    ]

"""Marketplace benchmark data: 100,000 published templates from 20 sellers and 1,000,000 reviews.

Written with set-based SQL (generate_series) on PostgreSQL, then the stored ratings and the
search documents are computed from the rows, as the services and `common.search` keep
them. Run through `manage.py shell`; idempotent (does nothing when the rows are there).
"""

from django.db import connection, transaction

from accounts.models import Organization, User
from common.search import search_index_refresh
from marketplace.cache import catalogue_changed
from marketplace.models import PromptTemplate

TEMPLATES = 100_000
REVIEWERS = 10  # every reviewer reviews every template: 1,000,000 reviews

FIRST = [
    "Cold",
    "Launch",
    "Weekly",
    "Quarterly",
    "Customer",
    "Product",
    "Sales",
    "Support",
    "Hiring",
    "Board",
    "Investor",
    "Churn",
    "Pricing",
    "Release",
    "Onboarding",
    "Security",
    "Research",
    "Campaign",
    "Incident",
    "Partner",
]
SECOND = [
    "email",
    "summary",
    "plan",
    "report",
    "checklist",
    "outline",
    "review",
    "brief",
    "script",
    "analysis",
    "post",
    "memo",
    "survey",
    "playbook",
    "proposal",
    "update",
    "digest",
    "pitch",
    "FAQ",
    "roadmap",
    "newsletter",
    "retro",
    "agenda",
    "dashboard",
    "explainer",
]
AUDIENCE = [
    "startups",
    "agencies",
    "enterprise",
    "nonprofits",
    "ecommerce",
    "saas",
    "schools",
    "clinics",
    "retailers",
    "banks",
]
CATEGORIES = ["writing", "marketing", "coding", "data", "productivity"]


def _array(words: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


@transaction.atomic
def bench_marketplace_seed() -> dict:
    sellers = []
    for n in range(20):
        seller, _ = Organization.objects.get_or_create(
            slug=f"bench-seller-{n}", defaults={"name": f"Bench Seller {n}", "email": f"s{n}@bench.test"}
        )
        sellers.append(seller)
    reviewers = []
    for n in range(REVIEWERS):
        user, _ = User.objects.get_or_create(email=f"reviewer{n}@bench.test")
        org, _ = Organization.objects.get_or_create(
            slug=f"bench-reviewer-{n}", defaults={"name": f"Bench Reviewer {n}", "email": f"r{n}@bench.test"}
        )
        reviewers.append((user.pk, org.pk))
    # A fresh catalogue generation each run: nothing an earlier run (other code, other rows) cached is served.
    catalogue_changed()
    if PromptTemplate.objects.filter(slug__startswith="bench-").count() >= TEMPLATES:
        return {"templates": TEMPLATES, "seeded": False}
    seller_ids = [s.pk for s in sellers]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO marketplace_prompttemplate
              (seller_id, seller_name, title, slug, description, category, tags, body, variables, example_output,
               price_amount, currency, status, visibility, published_at, created_at, updated_at, rating_count,
               rating_sum, rating_average, rating_count_1, rating_count_2, rating_count_3, rating_count_4,
               rating_count_5, sales_count, revenue_amount, validation_result)
            SELECT
              (ARRAY{seller_ids})[1 + g % 20],
              'Bench Seller ' || (g % 20),
              ({_array(FIRST)})[1 + g % 20] || ' ' || ({_array(SECOND)})[1 + (g / 20) % 25]
                || ' for ' || ({_array(AUDIENCE)})[1 + (g / 500) % 10] || ' ' || g,
              'bench-' || g,
              'Writes a ' || ({_array(SECOND)})[1 + (g / 20) % 25] || ' that a busy reader can act on.',
              ({_array(CATEGORIES)})[1 + g % 5],
              lower(({_array(SECOND)})[1 + (g / 20) % 25]) || ', ' || ({_array(AUDIENCE)})[1 + (g / 500) % 10],
              'Write a {{{{tone}}}} text about {{{{topic}}}}.',
              '[{{"name": "topic", "type": "text"}}, {{"name": "tone", "type": "text", "default": "clear"}}]',
              '',
              CASE WHEN g % 10 = 0 THEN 0 ELSE 100 + (g * 37) % 4900 END,
              'usd', 'published', 'public',
              now() - (g || ' minutes')::interval, now(), now(), 0, 0, 0, 0, 0, 0, 0, 0, (g * 13) % 200, 0, '{{}}'
            FROM generate_series(1, {TEMPLATES}) AS g
            ON CONFLICT (slug) DO NOTHING
            """
        )
        for n, (user_id, org_id) in enumerate(reviewers):
            cursor.execute(
                """
                INSERT INTO marketplace_review
                  (template_id, organization_id, author_id, rating, text, seller_reply, hidden_reason,
                   created_at, updated_at)
                SELECT t.id, %s, %s, 1 + (t.id * 7 + %s * 3) %% 5, 'A bench review.', '', '', now(), now()
                FROM marketplace_prompttemplate t WHERE t.slug LIKE 'bench-%%'
                ON CONFLICT DO NOTHING
                """,
                [org_id, user_id, n],
            )
        cursor.execute(
            """
            UPDATE marketplace_prompttemplate t
            SET rating_count = r.n, rating_sum = r.total, rating_average = round(r.total::numeric / r.n, 2),
                rating_count_1 = r.n1, rating_count_2 = r.n2, rating_count_3 = r.n3, rating_count_4 = r.n4,
                rating_count_5 = r.n5
            FROM (SELECT template_id, count(*) AS n, sum(rating) AS total,
                         count(*) FILTER (WHERE rating = 1) AS n1, count(*) FILTER (WHERE rating = 2) AS n2,
                         count(*) FILTER (WHERE rating = 3) AS n3, count(*) FILTER (WHERE rating = 4) AS n4,
                         count(*) FILTER (WHERE rating = 5) AS n5
                  FROM marketplace_review WHERE hidden_at IS NULL GROUP BY template_id) r
            WHERE r.template_id = t.id
            """
        )
    search_index_refresh(queryset=PromptTemplate.objects.filter(slug__startswith="bench-"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE marketplace_prompttemplate; ANALYZE marketplace_review")
    return {"templates": PromptTemplate.objects.count(), "seeded": True}

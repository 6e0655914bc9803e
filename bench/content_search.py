"""Learning content on PostgreSQL at size: search latency, lesson page queries, progress writes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> python bench/content_search.py [--lessons 10000]
        [--progress 100000] [--rounds 5] [--searches 40] [--writes 300]

Builds (or reuses, --keep) a database `<db>_content_bench` from the models, with pg_trgm,
10,000 published lessons in 20 courses (generated text about AI at work, Markdown
rendered, search documents filled in bulk) and 100,000 progress rows. Then, in rounds,
in this one process (no HTTP: the figures are the content code's own cost, with the
same database and ORM as the site):

- search: `content_search` for a fixed list of queries (words, two words, a typo, a
  partial word), p50 and p95 in ms, against the reference: one indexed SELECT of a
  lesson by slug, in the same round;
- progress writes: `progress_record` (a merge by conditional UPDATEs) per second, against
  the reference: one `UPDATE … SET n = n + 1` by primary key, in the same round;
- the lesson page: the SQL queries of one GET of a premium lesson seen by its owner
  (Django's test client), which must stay ≤ 10 whatever the lesson's size.

Prints each round and the medians of the per-round ratios (BENCHMARKS.md's protocol,
in-process).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PLATEAU_TESTING", "1")

import django  # noqa: E402

QUERIES = [
    "meeting summary",
    "prompt",
    "privacy customer data",
    "spredsheet",
    "transcrip",
    "accountable",
    "bias check",
    "email reply template",
    "retrieval",
    "jargon",
]
TOPICS = [
    ("meeting", "summary", "transcript", "owners", "decisions"),
    ("prompt", "context", "example", "reader", "format"),
    ("privacy", "customer", "data", "redact", "secrets"),
    ("spreadsheet", "formula", "rows", "check", "sheet"),
    ("email", "reply", "tone", "template", "support"),
    ("bias", "fairness", "names", "review", "decision"),
    ("retrieval", "chunks", "sources", "cite", "documents"),
    ("jargon", "glossary", "plain", "language", "audience"),
    ("accountable", "policy", "disclose", "clients", "judgement"),
    ("report", "notes", "outline", "draft", "numbers"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lessons", type=int, default=10_000)
    parser.add_argument("--progress", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--searches", type=int, default=40)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database if it is there")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL=postgres://... (the benchmark is about PostgreSQL).")

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    test = connection.settings_dict["TEST"]
    test.update({"NAME": connection.settings_dict["NAME"] + "_content_bench", "MIGRATE": False})
    from django.db.models.signals import pre_migrate

    def enable_pg_trgm(sender, using, **kwargs):  # before the tables: their gin_trgm_ops indexes need it
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")

    pre_migrate.connect(enable_pg_trgm)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keep)
    seeded = _seed(lessons=args.lessons, progress=args.progress)
    print(f"corpus: {seeded['lessons']} lessons, {seeded['progress']} progress rows, {seeded['users']} users")
    page_queries = _lesson_page_queries()
    print(f"lesson page: {page_queries} SQL queries (goal ≤ 10)")

    search_ratios, write_ratios = [], []
    for round_number in range(1, args.rounds + 1):
        ref_ms = _timed(_reference_select, args.searches)
        search_ms = _timed(_search, args.searches)
        ref_rate = args.writes / sum(_timed(_reference_update, args.writes)) * 1000
        write_rate = args.writes / sum(_timed(_progress_write, args.writes)) * 1000
        p95, ref_p95 = _p(search_ms, 95), _p(ref_ms, 95)
        search_ratios.append(p95 / ref_p95)
        write_ratios.append(write_rate / ref_rate)
        print(
            f"round {round_number}: search p50 {_p(search_ms, 50):.1f} ms p95 {p95:.1f} ms "
            f"(reference p95 {ref_p95:.2f} ms, ×{p95 / ref_p95:.0f}); "
            f"progress writes {write_rate:.0f}/s (reference {ref_rate:.0f}/s, ×{write_rate / ref_rate:.2f})"
        )
        last_p95 = p95
    print(
        f"median search p95 × reference: {statistics.median(search_ratios):.1f} (last p95 {last_p95:.1f} ms; "
        "goal ≤ 50 ms at low load)"
    )
    print(f"median progress writes × reference: {statistics.median(write_ratios):.2f} (goal ≥ 0.5)")


def _p(values, percent):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


def _timed(action, times):
    out = []
    for i in range(times):
        start = time.perf_counter()
        action(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _seed(*, lessons: int, progress: int) -> dict:
    from accounts.models import User
    from common.search import search_index_refresh
    from content.markdown import markdown_to_html
    from content.models import Chapter, Course, Lesson, Principle, Progress

    if Lesson.objects.count() >= lessons:
        return {"lessons": Lesson.objects.count(), "progress": Progress.objects.count(), "users": User.objects.count()}
    rng = random.Random(12)
    courses = [
        Course.objects.create(
            title=f"Course {i}: {' '.join(TOPICS[i % 10][:2])}", slug=f"bench-course-{i}", is_published=True
        )
        for i in range(20)
    ]
    principles = []
    for course in courses:
        for c in range(5):
            chapter = Chapter.objects.create(course=course, title=f"Chapter {c}", order=c)
            principles += [Principle.objects.create(chapter=chapter, title=f"Principle {p}", order=p) for p in range(5)]
    rows = []
    for i in range(lessons):
        words = TOPICS[i % len(TOPICS)]
        title = f"{words[0].capitalize()} {words[1]} in practice, part {i}"
        body = " ".join(rng.choice(words + ("the", "team", "model", "answer", "work")) for _ in range(400))
        rows.append(
            Lesson(
                principle=principles[i % len(principles)],
                order=i,
                slug=f"bench-{i}",
                title=title,
                summary=f"How to use AI for {words[0]} and {words[2]} at work.",
                body=body,
                body_html=markdown_to_html(body),
                tier="premium" if i % 5 == 0 else "free",
                price_amount=900 if i % 5 == 0 else 0,
                is_published=True,
            )
        )
    Lesson.objects.bulk_create(rows, batch_size=1000)
    search_index_refresh(queryset=Lesson.objects.all())
    search_index_refresh(queryset=Course.objects.all())
    users = User.objects.bulk_create([User(email=f"bench{i}@example.com") for i in range(1000)])
    lesson_ids = list(Lesson.objects.values_list("pk", flat=True))
    pairs = set()
    while len(pairs) < progress:
        pairs.add((rng.choice(users).pk, rng.choice(lesson_ids)))
    Progress.objects.bulk_create(
        [Progress(user_id=u, lesson_id=lesson, percent=rng.choice([10, 50, 100])) for u, lesson in pairs],
        batch_size=5000,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        # VACUUM too: the bulk UPDATE of the search documents leaves dead rows and a GIN pending
        # list that autovacuum would have cleared on a live site.
        cursor.execute("VACUUM ANALYZE")
    return {"lessons": lessons, "progress": progress, "users": len(users)}


def _search(i):
    from content.selectors import content_search

    # What the search page shows: the first 10 hits with their snippets.
    return [hit.snippet for hit in content_search(query=QUERIES[i % len(QUERIES)])[:10]]


def _reference_select(i):
    from content.models import Lesson

    return Lesson.objects.filter(slug=f"bench-{i}").values_list("pk", "title").first()


_writer = {}


def _writer_user():
    if "user" not in _writer:
        from accounts.models import User
        from content.models import Lesson

        _writer["user"] = User.objects.get(email="bench0@example.com")
        _writer["lessons"] = list(Lesson.objects.filter(tier="free").order_by("pk")[:50])
    return _writer["user"], _writer["lessons"]


def _progress_write(i):
    from billing.selectors import Viewer
    from content.services import progress_record

    user, lessons = _writer_user()
    progress_record(user=user, lesson=lessons[i % len(lessons)], viewer=Viewer(), percent=i % 101, seconds=3)


def _reference_update(i):
    from django.db.models import F

    from content.models import Progress

    Progress.objects.filter(pk=1 + i % 50).update(seconds_spent=F("seconds_spent") + 1)


def _lesson_page_queries() -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Membership, Organization, Role
    from billing.models import Purchase
    from billing.services.entitlements import entitlements_refresh
    from content.models import Lesson

    user, _ = _writer_user()
    organization, _ = Organization.objects.get_or_create(slug="bench-org", defaults={"name": "Bench org"})
    Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": Role.ADMIN})
    entitlements_refresh(organization=organization)
    lesson = Lesson.objects.filter(tier="premium").order_by("pk").first()
    Purchase.objects.get_or_create(
        organization=organization,
        item_type="article",
        item_id=lesson.slug,
        defaults={"item_name": lesson.title, "list_amount": 900, "amount": 900, "status": "paid"},
    )
    client = Client()
    client.force_login(user)
    client.get(f"/learn/lessons/{lesson.slug}/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/learn/lessons/{lesson.slug}/")
    assert response.status_code == 200, response.status_code
    return len(queries)


if __name__ == "__main__":
    main()

"""Content demo data for `manage.py seed_demo`: courses, articles and quizzes to read, buy and unlock.

Three courses about using AI at work (`content.demo_courses`: 22 lessons, some tutorials
and some premium), two free and four premium standalone articles ($10–$15) and five
quizzes ($30 to $60: the $60 one is above the $50 a Premium free quiz covers, so it shows
the 20% discount instead). Idempotent: everything is written by slug (chapters and
principles by their place, questions by quiz and order), so a second run leaves the same rows.
"""

from django.db import transaction

from accounts.demo import DEMO_ORGANIZATION_SLUG
from accounts.models import Organization
from billing.money import money_display
from content.demo_courses import CHAPTER_QUIZZES, COURSES
from content.models import Chapter, Course, Lesson, Principle, Question, Quiz, Tag, Tier

ARTICLES = [
    {
        "slug": "what-is-a-prompt",
        "title": "What is a prompt?",
        "tier": Tier.FREE,
        "price_amount": 0,
        "summary": "The words you give a language model, and why small changes move its answers.",
        "body": (
            "A prompt is everything the model reads before it writes: your instructions, the examples "
            "you give, and the text it should work on.\n\n"
            "Models continue text. A clear prompt makes the continuation you want the most likely one: "
            "say who the answer is for, what shape it should have, and what to leave out."
        ),
    },
    {
        "slug": "five-prompting-habits",
        "title": "Five prompting habits that pay off",
        "tier": Tier.FREE,
        "price_amount": 0,
        "summary": "Be specific, show an example, ask for a format, give context, iterate.",
        "body": (
            "1. Be specific about the task and the reader.\n"
            "2. Show one good example of the output.\n"
            "3. Ask for a format you can check (a list, a table, JSON).\n"
            "4. Paste the context the model cannot know.\n"
            "5. Read the answer, then change one thing at a time."
        ),
    },
    {
        "slug": "rag-in-practice",
        "title": "RAG in practice",
        "tier": Tier.PREMIUM,
        "price_amount": 1000,
        "summary": "Retrieval-augmented generation from chunking to evaluation, with the mistakes to avoid.",
        "body": (
            "Retrieval-augmented generation answers from your documents: split them into chunks, embed "
            "the chunks, find the ones nearest the question and put them in the prompt.\n\n"
            "Most failures are retrieval failures. Measure recall on real questions before tuning the "
            "prompt, keep chunks small enough to be about one thing, and cite the chunk each claim came from."
        ),
    },
    {
        "slug": "evaluating-llm-output",
        "title": "Evaluating LLM output",
        "tier": Tier.PREMIUM,
        "price_amount": 1200,
        "summary": "Test sets, graders and the numbers worth watching when a model writes for you.",
        "body": (
            "Write down twenty real inputs and what a good answer must contain. That is your first test set.\n\n"
            "Grade with rules where you can (does it parse, does it cite), with a second model where you "
            "must, and read a sample by hand every week."
        ),
    },
    {
        "slug": "structured-output",
        "title": "Getting structured output",
        "tier": Tier.PREMIUM,
        "price_amount": 1250,
        "summary": "JSON schemas, tool calls and validation: answers your code can trust.",
        "body": (
            "Ask for JSON and describe the schema; better, use the provider's structured output or tool "
            "calling so the schema is enforced.\n\n"
            "Validate every answer anyway, and retry once with the validation error in the prompt."
        ),
    },
    {
        "slug": "agents-without-the-hype",
        "title": "Agents without the hype",
        "tier": Tier.PREMIUM,
        "price_amount": 1500,
        "summary": "When a loop of model calls and tools helps, and when a plain prompt is better.",
        "body": (
            "An agent is a model that chooses tools in a loop until it decides it is done.\n\n"
            "Start with a fixed pipeline; add a loop only where the steps truly depend on what was found. "
            "Limit the steps, log every tool call and make each tool safe to call twice."
        ),
    },
]

QUIZZES = [
    {
        "slug": "prompting-basics",
        "title": "Prompting basics",
        "price_amount": 4000,
        "description": "Four questions on instructions, examples and formats.",
        "questions": [
            ("What does a model read before it answers?", ["Only your question", "The whole prompt"], 1),
            (
                "Which helps most when you need a table back?",
                ["Asking politely", "Asking for the format", "A longer prompt"],
                1,
            ),
            ("A good first change to a weak prompt is…", ["One thing at a time", "Rewrite everything"], 0),
            ("An example in the prompt shows the model…", ["The expected output", "Nothing useful"], 0),
        ],
    },
    {
        "slug": "retrieval-and-rag",
        "title": "Retrieval and RAG",
        "price_amount": 4500,
        "description": "Three questions on chunking, embeddings and retrieval quality.",
        "questions": [
            ("Most RAG failures come from…", ["Retrieval", "The model's vocabulary", "The GPU"], 0),
            ("A chunk should be about…", ["One thing", "A whole book", "A random span"], 0),
            ("What do you measure first?", ["Recall on real questions", "Prompt length"], 0),
        ],
    },
    {
        "slug": "advanced-agents",
        "title": "Advanced agents",
        "price_amount": 6000,
        "description": "Five questions on tool use, loops and safety for agent builders.",
        "questions": [
            ("An agent differs from a pipeline because it…", ["Chooses its next step", "Is faster"], 0),
            ("Every tool an agent calls should be…", ["Safe to call twice", "Written in Python"], 0),
            ("A step limit protects you from…", ["Endless loops", "Bad grammar"], 0),
            ("Where do you start?", ["A fixed pipeline", "A fully autonomous agent"], 0),
            ("What should you log?", ["Every tool call", "Nothing", "Only errors"], 0),
        ],
    },
]


def _quiz_write(spec: dict, *, chapter: Chapter | None = None, order: int = 0) -> Quiz:
    quiz, _ = Quiz.objects.update_or_create(
        slug=spec["slug"],
        defaults={
            "title": spec["title"],
            "description": spec["description"],
            "price_amount": spec["price_amount"],
            "chapter": chapter,
            "order": order,
            "is_published": True,
        },
    )
    for order, (text, choices, correct, *explanation) in enumerate(spec["questions"], start=1):
        Question.objects.update_or_create(
            quiz=quiz,
            order=order,
            defaults={
                "text": text, "choices": choices, "correct_index": correct, "explanation": "".join(explanation),
            },
        )
    quiz.questions.filter(order__gt=len(spec["questions"])).delete()
    return quiz


def _course_write(spec: dict, *, order: int, quizzes: dict[str, dict]) -> int:
    """One course with its chapters, principles and lessons; returns the number of lessons."""
    course, _ = Course.objects.update_or_create(
        slug=spec["slug"],
        defaults={
            "title": spec["title"], "summary": spec["summary"], "description": spec["description"],
            "difficulty": spec["difficulty"], "order": order, "is_published": True,
        },
    )
    count = 0
    for chapter_order, chapter_spec in enumerate(spec["chapters"], start=1):
        chapter, _ = Chapter.objects.update_or_create(
            course=course, order=chapter_order,
            defaults={"title": chapter_spec["title"], "summary": chapter_spec["summary"]},
        )
        for principle_order, principle_spec in enumerate(chapter_spec["principles"], start=1):
            principle, _ = Principle.objects.update_or_create(
                chapter=chapter, order=principle_order, defaults={"title": principle_spec["title"]}
            )
            for lesson_order, (slug, title, summary, body, options) in enumerate(principle_spec["lessons"], start=1):
                options = dict(options)
                names = options.pop("tags")
                tags = [Tag.objects.get_or_create(slug=name, defaults={"name": name})[0] for name in names]
                lesson, _ = Lesson.objects.update_or_create(
                    slug=slug,
                    defaults={
                        "principle": principle, "order": lesson_order, "title": title, "summary": summary,
                        "body": body, "difficulty": spec["difficulty"], "is_published": True,
                        "kind": "lesson", "tier": Tier.FREE, "price_amount": 0, **options,
                    },
                )
                lesson.tags.set(tags)
                count += 1
        if chapter_spec.get("quiz"):
            _quiz_write(quizzes[chapter_spec["quiz"]], chapter=chapter, order=1)
    return count


@transaction.atomic
def seed_demo() -> list[str]:
    for spec in ARTICLES:
        Lesson.objects.update_or_create(
            slug=spec["slug"], defaults={**{k: v for k, v in spec.items() if k != "slug"}, "is_published": True}
        )
    all_quizzes = [*QUIZZES, *CHAPTER_QUIZZES]
    by_slug = {spec["slug"]: spec for spec in all_quizzes}
    in_chapters = {chapter["quiz"] for course in COURSES for chapter in course["chapters"] if chapter.get("quiz")}
    for spec in all_quizzes:
        if spec["slug"] not in in_chapters:
            _quiz_write(spec)
    lessons = sum(_course_write(spec, order=order, quizzes=by_slug) for order, spec in enumerate(COURSES, start=1))
    premium = sum(1 for spec in ARTICLES if spec["tier"] == Tier.PREMIUM)
    prices = ", ".join(money_display(amount=spec["price_amount"], currency="usd") for spec in all_quizzes)
    free = len(ARTICLES) - premium
    lines = [
        f"{len(COURSES)} courses with {lessons} lessons: /learn/",
        f"{len(ARTICLES)} articles ({free} free, {premium} premium), quizzes at {prices}: /learn/",
    ]
    acme = Organization.objects.filter(slug=DEMO_ORGANIZATION_SLUG).first()
    if acme is not None:
        lines.append(f"As the demo customer, Acme AI's Premium prices: /learn/?org={acme.pk}")
    return lines

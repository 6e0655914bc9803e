"""Content demo data for `manage.py seed_demo`: articles and quizzes to read, buy and unlock.

Two free and four premium articles ($10–$15) and three quizzes ($40, $45 and $60: the
last is above the $50 a Premium free quiz covers, so it shows the 20% discount instead).
Idempotent: everything is written by slug (questions by quiz and order), so a second run
leaves the same rows.
"""

from django.db import transaction

from accounts.demo import DEMO_ORGANIZATION_SLUG
from accounts.models import Organization
from billing.money import money_display
from content.models import Article, ArticleTier, Question, Quiz

ARTICLES = [
    {
        "slug": "what-is-a-prompt",
        "title": "What is a prompt?",
        "tier": ArticleTier.FREE,
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
        "tier": ArticleTier.FREE,
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
        "tier": ArticleTier.PREMIUM,
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
        "tier": ArticleTier.PREMIUM,
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
        "tier": ArticleTier.PREMIUM,
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
        "tier": ArticleTier.PREMIUM,
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


@transaction.atomic
def seed_demo() -> list[str]:
    for spec in ARTICLES:
        Article.objects.update_or_create(
            slug=spec["slug"], defaults={**{k: v for k, v in spec.items() if k != "slug"}, "is_published": True}
        )
    for spec in QUIZZES:
        quiz, _ = Quiz.objects.update_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "description": spec["description"],
                "price_amount": spec["price_amount"],
                "is_published": True,
            },
        )
        for order, (text, choices, correct) in enumerate(spec["questions"], start=1):
            Question.objects.update_or_create(
                quiz=quiz, order=order, defaults={"text": text, "choices": choices, "correct_index": correct}
            )
        quiz.questions.filter(order__gt=len(spec["questions"])).delete()
    premium = sum(1 for spec in ARTICLES if spec["tier"] == ArticleTier.PREMIUM)
    prices = ", ".join(money_display(amount=spec["price_amount"], currency="usd") for spec in QUIZZES)
    free = len(ARTICLES) - premium
    lines = [f"{len(ARTICLES)} articles ({free} free, {premium} premium), quizzes at {prices}: /learn/"]
    acme = Organization.objects.filter(slug=DEMO_ORGANIZATION_SLUG).first()
    if acme is not None:
        lines.append(f"As the demo customer, Acme AI's Premium prices: /learn/?org={acme.pk}")
    return lines

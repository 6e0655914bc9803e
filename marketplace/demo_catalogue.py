"""The generated part of the demo catalogue: the house library and a third seller, with buyers' reviews.

Deterministic (no randomness that changes between runs): each template is a task of a
category applied to an audience, with a body whose placeholders match its variables, so
every one passes the publishing rules like a seller's would.
"""

from marketplace.models import Category

# (category, task title, what it does, tags, body, variables)
TASKS = [
    (
        Category.WRITING,
        "Blog post outline",
        "an outline with headings, key points and a hook",
        "blog, outline, seo",
        "Outline a blog post about {{topic}} for {{audience}} with {{sections}} sections and a strong hook.",
        [("topic", "text", None), ("sections", "number", "5")],
    ),
    (
        Category.WRITING,
        "Press release",
        "a press release in the inverted pyramid style",
        "press, pr, announcement",
        "Write a press release announcing {{news}} for {{audience}}; lead with the news, quote {{spokesperson}}.",
        [("news", "text", None), ("spokesperson", "text", "our CEO")],
    ),
    (
        Category.WRITING,
        "Translation polisher",
        "a machine translation made to read natively",
        "translation, localization, editing",
        "Polish this translation into natural {{language}} for {{audience}}, keeping the meaning: {{text}}",
        [("language", "text", "English"), ("text", "text", None)],
    ),
    (
        Category.WRITING,
        "Case study",
        "a customer story with problem, solution and numbers",
        "case study, story",
        "Write a case study for {{audience}} about {{customer}}: the problem, what changed, and {{result}}.",
        [("customer", "text", None), ("result", "text", "the measurable result")],
    ),
    (
        Category.MARKETING,
        "Landing page copy",
        "a headline, three benefits and a call to action",
        "landing page, copywriting, conversion",
        "Write landing page copy for {{product}} aimed at {{audience}}: a headline, three benefits, one {{cta}}.",
        [("product", "text", None), ("cta", "choice", "call to action", ["call to action", "signup prompt"])],
    ),
    (
        Category.MARKETING,
        "Ad variations",
        "short ad texts to test against each other",
        "ads, ppc, testing",
        "Write {{count}} ad variations for {{product}} that speak to {{audience}}; each under 90 characters.",
        [("product", "text", None), ("count", "number", "5")],
    ),
    (
        Category.MARKETING,
        "Newsletter issue",
        "a newsletter with one story and one tip",
        "newsletter, email",
        "Draft a newsletter for {{audience}} about {{theme}} with one story and one practical tip.",
        [("theme", "text", None)],
    ),
    (
        Category.MARKETING,
        "Customer persona",
        "a persona from interview notes",
        "persona, research, positioning",
        "Build a customer persona of {{audience}} from these notes: {{notes}}. Include goals and objections.",
        [("notes", "text", None)],
    ),
    (
        Category.CODING,
        "Code review",
        "a review of a diff with risks first",
        "review, pull request, quality",
        "Review this {{language}} change for {{audience}}, risks first, then style: {{diff}}",
        [("language", "text", "Python"), ("diff", "text", None)],
    ),
    (
        Category.CODING,
        "Unit test writer",
        "unit tests for a function, edge cases first",
        "testing, unit tests",
        "Write {{framework}} unit tests for this code, for {{audience}}, edge cases first: {{code}}",
        [("framework", "choice", "pytest", ["pytest", "unittest", "Jest"]), ("code", "text", None)],
    ),
    (
        Category.CODING,
        "Bug report triage",
        "a bug report turned into steps, cause and fix",
        "bugs, debugging",
        "Triage this bug report for {{audience}}: reproduce steps, likely cause, smallest fix. Report: {{report}}",
        [("report", "text", None)],
    ),
    (
        Category.CODING,
        "API documentation",
        "reference docs for an endpoint",
        "api, documentation, rest",
        "Document the endpoint {{endpoint}} for {{audience}}: parameters, responses, one example.",
        [("endpoint", "text", None)],
    ),
    (
        Category.DATA,
        "Survey analysis",
        "themes and quotes from survey answers",
        "survey, research, themes",
        "Find {{themes}} themes in these survey answers for {{audience}}, each with a quote: {{answers}}",
        [("answers", "text", None), ("themes", "number", "5")],
    ),
    (
        Category.DATA,
        "KPI picker",
        "the few metrics a dashboard should show",
        "kpi, dashboard, metrics",
        "Pick the {{count}} KPIs {{audience}} should watch for {{goal}}, with a definition for each.",
        [("goal", "text", None), ("count", "number", "5")],
    ),
    (
        Category.DATA,
        "Churn analysis plan",
        "an analysis plan for why customers leave",
        "churn, retention, cohorts",
        "Plan a churn analysis of {{product}} for {{audience}}: cohorts, signals, and the first three queries.",
        [("product", "text", None)],
    ),
    (
        Category.DATA,
        "SQL from a question",
        "a query from a plain-language question",
        "sql, query, database",
        "Write a {{dialect}} query answering {{question}} for {{audience}}, with a comment per step.",
        [("question", "text", None), ("dialect", "choice", "PostgreSQL", ["PostgreSQL", "MySQL", "SQLite"])],
    ),
    (
        Category.PRODUCTIVITY,
        "Meeting summary",
        "decisions, owners and deadlines from notes",
        "meetings, notes, summary",
        "Summarise these meeting notes for {{audience}} into decisions, owners and deadlines: {{notes}}",
        [("notes", "text", None)],
    ),
    (
        Category.PRODUCTIVITY,
        "Weekly planner",
        "a week planned around three priorities",
        "planning, calendar",
        "Plan a week for {{audience}} around these priorities: {{priorities}}. Keep {{buffer}} hours free.",
        [("priorities", "text", None), ("buffer", "number", "4")],
    ),
    (
        Category.PRODUCTIVITY,
        "Interview questions",
        "structured questions with what good looks like",
        "hiring, interview",
        "Write {{count}} interview questions for a {{role}} role, for {{audience}}, each with what good looks like.",
        [("role", "text", None), ("count", "number", "8")],
    ),
    (
        Category.PRODUCTIVITY,
        "Email triage",
        "an inbox sorted into do, delegate, drop",
        "email, inbox, focus",
        "Sort these emails for {{audience}} into do, delegate or drop, with a one-line reply each: {{emails}}",
        [("emails", "text", None)],
    ),
]

AUDIENCES = [
    ("startups", "early-stage startup founders"),
    ("agencies", "marketing agencies"),
    ("enterprise", "enterprise teams"),
    ("nonprofits", "nonprofit organizations"),
    ("ecommerce", "online shops"),
    ("saas", "B2B SaaS teams"),
]

# Reviews the demo buyers leave, by stars: short, plausible, varied.
REVIEW_TEXTS = {
    5: ["Exactly what we needed; used it the same day.", "Saved our team an hour a week.", "Clear and reusable."],
    4: ["Very good, we tweaked one variable.", "Solid template, the example helped.", "Good value for the price."],
    3: ["Useful starting point, needs editing.", "Does the job, a bit generic."],
    2: ["Too generic for our case."],
    1: ["Not what the description promised."],
}
RATING_CYCLE = [5, 4, 5, 3, 4, 5, 2, 4, 5, 4, 1, 5, 3, 4]


def generated_templates():
    """(seller key, slug, title, category, tags, price, description, body, variables, example) for 120 templates."""
    rows = []
    for task_index, (category, task, what, tags, body, variables) in enumerate(TASKS):
        for audience_index, (audience_slug, audience) in enumerate(AUDIENCES):
            n = task_index * len(AUDIENCES) + audience_index
            # The house library holds 100; the third seller, Data Dojo, the rest.
            seller = "house" if n < 100 else "dojo"
            price = 0 if n % 9 == 0 else 300 + (n * 137) % 2700
            declared = [{"name": "audience", "type": "text", "default": audience}]
            for variable in variables:
                name, kind, default = variable[:3]
                entry = {"name": name, "type": kind, "default": default}
                if kind == "choice":
                    entry["choices"] = variable[3]
                declared.append(entry)
            rows.append(
                (
                    seller,
                    f"{task.lower().replace(' ', '-')}-{audience_slug}",
                    f"{task} for {audience}",
                    category,
                    f"{tags}, {audience_slug}",
                    price,
                    f"Produces {what}, tuned for {audience}.",
                    body,
                    declared,
                    f"A worked example of {what} for {audience}.",
                )
            )
    return rows

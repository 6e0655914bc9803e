"""The demo's three courses about using AI at work: chapters, principles, 22 lessons, two chapter quizzes.

Plain data, written by `content.demo.seed_demo` (by slug, so a second run changes nothing).
A lesson is (slug, title, summary, body, options) where options may set kind, tier, price,
difficulty, minutes and tags.
"""

TUTORIAL = {"kind": "tutorial"}
PREMIUM = {"tier": "premium", "price_amount": 900}

COURSES = [
    {
        "slug": "prompting-for-everyday-work",
        "title": "Prompting for everyday work",
        "summary": "Ask a model clearly, give it your context, and check what comes back.",
        "description": (
            "A short course for anyone who writes to an AI assistant at work. You will learn to state the "
            "task and the reader, to give the context the model cannot know, to show an example, and to "
            "**read every answer before you use it**."
        ),
        "difficulty": "beginner",
        "chapters": [
            {
                "title": "Ask clearly",
                "summary": "The task, the reader, the context and an example.",
                "principles": [
                    {
                        "title": "Say who it is for",
                        "lessons": [
                            (
                                "task-and-reader-first",
                                "Write the task and the reader first",
                                "Start every prompt with what you want and who will read it.",
                                "A model cannot guess your audience. \"Summarise this\" gives a generic summary; "
                                "\"Summarise this for a finance director who has two minutes\" gives one you can "
                                "send.\n\nPut the task and the reader in the first sentence. Then add the "
                                "constraints: length, tone, what to leave out.\n\n"
                                "**Try it:** take your last prompt and rewrite its first line as *task + reader*.",
                                {"tags": ["prompts"], "minutes": 4},
                            ),
                            (
                                "give-the-model-your-context",
                                "Give the model your context",
                                "Paste the facts the model cannot know: your product, your customer, your rules.",
                                "The model knows the internet, not your company. When an answer sounds plausible "
                                "but wrong, the prompt usually lacked context.\n\nPaste what matters: the "
                                "customer's message, the relevant policy paragraph, the numbers. Label each part "
                                "(`Customer message:`, `Our refund policy:`) so the model can refer to them.\n\n"
                                "Leave out anything confidential that the tool is not approved for.",
                                {"tags": ["prompts", "context"], "minutes": 5},
                            ),
                        ],
                    },
                    {
                        "title": "Show, don't describe",
                        "lessons": [
                            (
                                "one-good-example",
                                "One good example beats three rules",
                                "An example of the output you want sets tone, length and format at once.",
                                "Describing a style takes paragraphs; showing it takes one example. Paste a past "
                                "answer you liked and say \"write the next one like this\".\n\nOne example is "
                                "often enough. With two or three, vary them so the model does not copy details "
                                "that only belong to one.",
                                {"tags": ["prompts", "examples"], "minutes": 4},
                            ),
                            (
                                "tutorial-email-reply-prompt",
                                "Tutorial: a reusable email-reply prompt",
                                "Build, step by step, a prompt your team can reuse for customer replies.",
                                "## Step 1: the frame\n\n```text\nYou draft replies for our support team. The "
                                "reader is a customer who wrote to us. Keep it under 120 words, friendly and "
                                "specific.\n```\n\n## Step 2: the context slots\n\n```text\nCustomer message:\n"
                                "{message}\n\nWhat we can offer:\n{offer}\n```\n\n## Step 3: an example\n\nPaste "
                                "one reply your best agent wrote.\n\n## Step 4: test it\n\nRun it on five real "
                                "messages and note what you had to fix. Fix the prompt, not the answers.",
                                {**TUTORIAL, "tags": ["prompts", "email"], "minutes": 12},
                            ),
                        ],
                    },
                ],
                "quiz": "prompting-basics",
            },
            {
                "title": "Check and iterate",
                "summary": "Review what the model wrote and improve the prompt one change at a time.",
                "principles": [
                    {
                        "title": "Read before you paste",
                        "lessons": [
                            (
                                "reviewing-ai-output",
                                "Reviewing AI output line by line",
                                "Names, numbers, dates and promises: what to check before anything leaves.",
                                "You are responsible for what you send, whoever drafted it. Read the answer as "
                                "if a new colleague wrote it.\n\nCheck every name, number and date against "
                                "the source. Look for promises you cannot keep (\"we will refund you today\"). "
                                "Delete filler sentences.",
                                {"tags": ["review"], "minutes": 5},
                            ),
                            (
                                "spotting-invented-facts",
                                "Spotting invented facts",
                                "Models fill gaps with plausible text. How to catch a hallucination.",
                                "A model that lacks a fact often invents one that sounds right: a policy "
                                "number, a citation, a feature.\n\nAsk it to quote the sentence of your "
                                "source that supports each claim. Anything it cannot quote is suspect. For "
                                "figures, recompute them yourself.",
                                {"tags": ["review", "hallucination"], "minutes": 6},
                            ),
                        ],
                    },
                    {
                        "title": "Change one thing at a time",
                        "lessons": [
                            (
                                "iterating-on-a-weak-prompt",
                                "Iterating on a weak prompt",
                                "A method to improve a prompt without guessing.",
                                "When an answer disappoints, write down what is wrong in one sentence. Change "
                                "the one part of the prompt that should fix it, and run it again on the same "
                                "input.\n\nKeep the versions. After three rounds you know which instruction "
                                "matters, and your colleagues can reuse the result.",
                                {**PREMIUM, "tags": ["prompts", "iteration"], "minutes": 7},
                            ),
                            (
                                "tutorial-prompt-test-sheet",
                                "Tutorial: a prompt test sheet in a spreadsheet",
                                "Keep ten real inputs and the expected answers in a sheet and score each prompt.",
                                "## Step 1: collect inputs\n\nTen real examples from last month, one per row.\n\n"
                                "## Step 2: write the expectation\n\nFor each row, what a good answer must "
                                "contain.\n\n## Step 3: score\n\n```text\n=IF(ISNUMBER(SEARCH(C2, D2)), 1, 0)\n"
                                "```\n\nA new prompt version is better only if its score goes up.",
                                {**TUTORIAL, "tags": ["iteration", "spreadsheets"], "minutes": 15},
                            ),
                        ],
                    },
                ],
                "quiz": "reviewing-ai-output-check",
            },
        ],
    },
    {
        "slug": "ai-for-meetings-email-and-documents",
        "title": "AI for meetings, email and documents",
        "summary": "Summaries with owners and dates, drafts from notes, the right tone for each reader.",
        "description": (
            "Most office work is reading and writing. This course shows how to hand the first draft to a "
            "model and keep the facts, the numbers and the tone right."
        ),
        "difficulty": "beginner",
        "chapters": [
            {
                "title": "Meetings",
                "summary": "From a transcript to decisions and action items.",
                "principles": [
                    {
                        "title": "Decisions, owners, dates",
                        "lessons": [
                            (
                                "summarising-meeting-transcripts",
                                "Summarising a meeting transcript",
                                "Ask for decisions, owners and due dates, not a retelling.",
                                "A good meeting summary answers three questions: what was decided, who does "
                                "what, by when.\n\nAsk for exactly that, as a table. Tell the model to write "
                                "\"no owner\" rather than guess one, and check the dates against the "
                                "transcript.",
                                {"tags": ["meetings", "summaries"], "minutes": 5},
                            ),
                            (
                                "tutorial-action-items-from-a-transcript",
                                "Tutorial: action items from a transcript",
                                "A prompt that turns a raw transcript into a checked list of action items.",
                                "## Step 1: clean the transcript\n\nRemove small talk and names of people "
                                "outside the company.\n\n## Step 2: the prompt\n\n```text\nList every action "
                                "item in this transcript as: owner | action | due date | quote.\nUse \"none\" "
                                "when the transcript does not say.\n```\n\n## Step 3: verify\n\nThe quote "
                                "column lets you check each line in seconds.",
                                {**TUTORIAL, "tags": ["meetings"], "minutes": 10},
                            ),
                            (
                                "meeting-follow-up-emails",
                                "Follow-up emails after a meeting",
                                "Turn the action items into a short follow-up each attendee will read.",
                                "Send the summary while the meeting is fresh. Give the model the action items "
                                "and ask for one email, under 150 words, with each person's tasks in bold.\n\n"
                                "Read it once for tone: a follow-up should thank, not blame.",
                                {"tags": ["meetings", "email"], "minutes": 4},
                            ),
                        ],
                    },
                ],
                "quiz": "meeting-notes-check",
            },
            {
                "title": "Documents",
                "summary": "Drafts from notes and summaries that keep the numbers right.",
                "principles": [
                    {
                        "title": "Keep the source in view",
                        "lessons": [
                            (
                                "drafting-a-report-from-notes",
                                "Drafting a report from notes",
                                "Give the model your bullet points and the outline; keep the judgement yours.",
                                "Write the outline yourself: it is where the thinking happens. Then give the "
                                "model your notes, section by section, and ask for prose.\n\nAsk it to mark "
                                "with [?] any sentence that is not backed by your notes.",
                                {"tags": ["writing", "reports"], "minutes": 6},
                            ),
                            (
                                "summaries-that-keep-the-numbers-right",
                                "Summaries that keep the numbers right",
                                "Figures are where summaries go wrong. Make the model quote them.",
                                "Models round, merge and sometimes invent figures. Ask for every number to be "
                                "copied with its unit and the sentence it came from.\n\nThen compare the "
                                "summary's numbers with the source, one by one. It takes two minutes and saves "
                                "the embarrassing correction.",
                                {**PREMIUM, "tags": ["summaries", "review"], "minutes": 6},
                            ),
                        ],
                    },
                    {
                        "title": "Tone and audience",
                        "lessons": [
                            (
                                "rewriting-for-a-different-reader",
                                "Rewriting for a different reader",
                                "The same facts for an engineer, a customer and a director.",
                                "Paste your text and name the new reader: what they know, what they care "
                                "about, how much time they have.\n\nAsk for the rewrite and a list of what was "
                                "left out, so you can decide whether it mattered.",
                                {"tags": ["writing", "tone"], "minutes": 4},
                            ),
                            (
                                "translating-internal-jargon",
                                "Translating internal jargon",
                                "Turn team shorthand into plain language customers understand.",
                                "Every team has words only it understands. Give the model a glossary of your "
                                "terms and ask it to rewrite for someone outside the company.\n\nKeep the "
                                "glossary in a shared document: it improves every prompt that uses it.",
                                {"tags": ["writing", "tone"], "minutes": 4},
                            ),
                        ],
                    },
                ],
            },
        ],
    },
    {
        "slug": "safe-and-responsible-ai-at-work",
        "title": "Safe and responsible AI at work",
        "summary": "Privacy, accountability and fairness: the rules that let a team use AI with confidence.",
        "description": (
            "What may go into a chat, who answers for an AI-assisted decision, and how to check outputs for "
            "bias. Ends with a one-page usage policy your team can adopt."
        ),
        "difficulty": "intermediate",
        "chapters": [
            {
                "title": "Data",
                "summary": "What never goes into a chat, and how to remove it.",
                "principles": [
                    {
                        "title": "Never paste secrets",
                        "lessons": [
                            (
                                "what-not-to-put-in-a-chat",
                                "What not to put in a chat",
                                "Customer data, credentials, contracts and unreleased numbers.",
                                "Unless your company has approved the tool for it, keep out: personal data of "
                                "customers and colleagues, passwords and API keys, contracts, and financial "
                                "results before they are public.\n\nWhen in doubt, describe the situation "
                                "instead of pasting the document.",
                                {"tags": ["privacy", "security"], "minutes": 4},
                            ),
                            (
                                "redacting-customer-data",
                                "Redacting customer data before you ask",
                                "Replace names and numbers with placeholders, then put them back.",
                                "Replace each name with a placeholder (`[CUSTOMER_1]`), each account number "
                                "with `[ACCOUNT]`. The model works just as well on the redacted text.\n\n"
                                "Keep the mapping on your side and restore the real values in the final "
                                "draft.",
                                {"tags": ["privacy"], "minutes": 5},
                            ),
                            (
                                "approved-tools-and-settings",
                                "Approved tools and their settings",
                                "Why the company account is not the same as your personal one.",
                                "Company plans of AI tools usually keep your prompts out of model training and "
                                "retain them for a limited time. Personal accounts often do not.\n\nUse the "
                                "approved tool, check that history and training settings match the policy, "
                                "and ask IT when a new tool appears.",
                                {"tags": ["security"], "minutes": 4},
                            ),
                        ],
                    },
                ],
            },
            {
                "title": "Policy and judgement",
                "summary": "Who answers for the result, and how to check it is fair.",
                "principles": [
                    {
                        "title": "Own the result",
                        "lessons": [
                            (
                                "who-is-accountable-for-ai-output",
                                "Who is accountable for AI output",
                                "The person who sends it. What that means in practice.",
                                "An AI tool cannot be accountable; the person who uses its output is. That is "
                                "why review is not optional.\n\nFor decisions about people (hiring, credit, "
                                "performance), a human makes the decision and can explain it without the "
                                "model.",
                                {"tags": ["policy", "review"], "minutes": 5},
                            ),
                            (
                                "disclosing-ai-help-to-clients",
                                "Disclosing AI help to clients",
                                "When and how to say that a model helped with the work.",
                                "Clients increasingly ask. A simple sentence in the statement of work (\"we use "
                                "approved AI tools for drafting; every deliverable is reviewed by our team\") "
                                "answers most questions.\n\nNever present generated analysis as original "
                                "research.",
                                {**PREMIUM, "tags": ["policy"], "minutes": 5},
                            ),
                        ],
                    },
                    {
                        "title": "Bias and fairness",
                        "lessons": [
                            (
                                "checking-outputs-for-bias",
                                "Checking outputs for bias",
                                "Swap the names and see whether the answer changes.",
                                "Run the same prompt with different names, genders or countries. If the "
                                "answer changes in ways that should not matter, the output is biased.\n\n"
                                "Keep such prompts out of decisions about people, and report what you found.",
                                {"tags": ["fairness", "review"], "minutes": 6},
                            ),
                            (
                                "tutorial-team-ai-usage-policy",
                                "Tutorial: a team AI usage policy in one page",
                                "Write the policy with your team in an hour, with a model's help.",
                                "## Step 1: list the uses\n\nAsk each colleague for three things they use AI "
                                "for.\n\n## Step 2: sort them\n\nAllowed, allowed with review, not allowed.\n\n"
                                "## Step 3: draft\n\n```text\nWrite a one-page AI usage policy for a team of "
                                "12 from this list. Plain words, no legal jargon.\n```\n\n## Step 4: review "
                                "with legal\n\nAnd date it: you will revise it in six months.",
                                {**TUTORIAL, "tags": ["policy"], "minutes": 15},
                            ),
                        ],
                    },
                ],
            },
        ],
    },
]

CHAPTER_QUIZZES = [
    {
        "slug": "reviewing-ai-output-check",
        "title": "Reviewing AI output",
        "price_amount": 3500,
        "description": "Three questions on checking what a model wrote before it leaves your hands.",
        "questions": [
            (
                "Who is responsible for an email an AI assistant drafted?",
                ["The tool's vendor", "The person who sends it", "Nobody"],
                1,
                "Whoever sends it answers for it; the tool cannot.",
            ),
            (
                "A summary quotes a figure you cannot find in the source. You…",
                ["Keep it, models are usually right", "Remove or verify it", "Round it"],
                1,
                "An unsupported figure is a likely invention: verify it or take it out.",
            ),
            (
                "The best way to improve a weak prompt is to…",
                ["Change one thing and rerun the same input", "Rewrite it from scratch each time"],
                0,
                "One change at a time tells you which instruction mattered.",
            ),
        ],
    },
    {
        "slug": "meeting-notes-check",
        "title": "Meeting notes",
        "price_amount": 3000,
        "description": "Three questions on summaries, owners and follow-ups.",
        "questions": [
            (
                "What should a meeting summary answer first?",
                ["Who spoke most", "Decisions, owners and dates", "The agenda"],
                1,
                "Decisions, owners and dates are what people act on.",
            ),
            (
                "The transcript does not name an owner for a task. The summary should…",
                ["Guess the most likely person", "Say there is no owner"],
                1,
                "A guessed owner is an invented fact; \"no owner\" prompts someone to take it.",
            ),
            (
                "Why ask for a quote next to each action item?",
                ["To check it quickly", "To make it longer"],
                0,
                "The quote lets you verify each line against the transcript in seconds.",
            ),
        ],
    },
]

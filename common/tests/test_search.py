"""common.search's pure parts; ranking itself is tested on the models that use it (content, marketplace)."""

from common.search import search_snippet, search_words, trigram_similarity, trigram_word_similarity


def test_words_are_letters_and_digits_only():
    assert search_words("Prompt & (engin:*) | GPT-4!") == ["prompt", "engin", "gpt", "4"]
    assert search_words("   ") == []


def test_query_words_are_capped():
    assert len(search_words(" ".join(f"w{i}" for i in range(20)))) == 8


def test_trigram_measures_match_pg_trgm():
    # The figures PostgreSQL's documentation gives for pg_trgm.
    assert trigram_word_similarity("word", "two words") == 0.8
    assert round(trigram_similarity("word", "two words"), 4) == round(4 / 11, 4)
    assert trigram_similarity("prompt", "prompt") == 1.0
    assert trigram_similarity("", "prompt") == 0.0


def test_typo_is_close_to_the_word():
    assert trigram_word_similarity("promt", "Prompt engineering for support teams") >= 0.5
    assert trigram_word_similarity("promt", "Spreadsheets and formulas") < 0.3


def test_snippet_marks_prefix_matches_and_escapes():
    snippet = search_snippet(text="Use <b>engineering</b> habits: Engineers test prompts.", query="engin")
    assert snippet == "Use &lt;b&gt;<mark>engineering</mark>&lt;/b&gt; habits: <mark>Engineers</mark> test prompts."


def test_snippet_escapes_script_in_text_and_query():
    snippet = search_snippet(text='<script>alert(1)</script> <img src=x onerror="alert(2)">', query="<script>")
    assert "<script" not in snippet and "<img" not in snippet
    assert "&lt;<mark>script</mark>&gt;" in snippet


def test_snippet_cuts_around_the_first_match():
    text = " ".join(["filler"] * 100) + " the retrieval step " + " ".join(["more"] * 100)
    snippet = search_snippet(text=text, query="retrieval", length=60)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>retrieval</mark>" in snippet
    assert len(snippet) < 100


def test_every_searched_model_declares_its_search_indexes():
    # Declared on the model (not only in a migration), so tables built from the models have them too:
    # GIN on the stored document and a GIN trigram index on every "A" field (the typo match's operator).
    from django.apps import apps
    from django.contrib.postgres.indexes import GinIndex

    from common.search import SearchIndexed

    searched = [model for model in apps.get_models() if issubclass(model, SearchIndexed)]
    assert searched
    for model in searched:
        indexes = [index for index in model._meta.indexes if isinstance(index, GinIndex)]
        gin = {(tuple(index.fields), tuple(index.opclasses)) for index in indexes}
        assert (("search_vector",), ()) in gin, model
        for name, weight in model.SEARCH_FIELDS.items():
            if weight == "A":
                assert ((name,), ("gin_trgm_ops",)) in gin, (model, name)

"""export_prompts: every template as CSV or JSON, read back exactly, streamed in chunks."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from marketplace.tests.factories import OrganizationFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_prompts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_has_every_template_and_reads_back(tmp_path):
    seller = OrganizationFactory(slug="forge")
    published = PromptTemplateFactory(seller=seller, published=True, slug="launch-email", title='Launch, "now"')
    draft = PromptTemplateFactory(seller=seller, slug="draft-one", price_amount=4900)
    target = tmp_path / "prompts.csv"

    out, err = run("--format", "csv", "-o", str(target))

    rows = list(csv.DictReader(target.open()))
    assert [r["slug"] for r in rows] == ["launch-email", "draft-one"]
    assert rows[0]["title"] == 'Launch, "now"' and rows[0]["seller"] == "forge"
    assert rows[0]["status"] == "published" and rows[0]["published_at"] == "2026-11-01T09:00:00+00:00"
    assert rows[0]["tags"] == "email|sales" and rows[0]["price_amount"] == "1900" and rows[0]["currency"] == "usd"
    assert json.loads(rows[0]["variables"]) == published.variables
    assert rows[1]["status"] == "draft" and rows[1]["price_amount"] == "4900" and rows[1]["published_at"] == ""
    assert rows[1]["id"] == str(draft.pk)
    assert out == "" and err == f"2 prompt templates written to {target}\n"


def test_json_on_stdout_filtered_by_status():
    PromptTemplateFactory(published=True, slug="on-sale")
    PromptTemplateFactory(slug="not-yet")
    out, err = run("--format", "json", "--status", "published")
    rows = json.loads(out)
    assert [r["slug"] for r in rows] == ["on-sale"]
    assert rows[0]["tags"] == ["email", "sales"] and rows[0]["variables"][0] == {"name": "topic", "type": "text"}
    assert err == ""


def test_an_empty_catalogue_is_an_empty_array():
    assert run("--format", "json") == ("[]\n", "")


@pytest.mark.parametrize("templates", [4, 9])
def test_streams_in_chunks(django_assert_num_queries, templates):
    seller = OrganizationFactory()
    PromptTemplateFactory.create_batch(templates, seller=seller)
    with django_assert_num_queries(1):  # one streamed SELECT (seller joined), however many rows
        out, _ = run("--format", "json")
    assert len(json.loads(out)) == templates


@pytest.mark.slow
def test_memory_stays_flat_as_the_catalogue_grows(tmp_path):
    """Ten times the rows, about the same peak memory: rows are streamed, never all held."""
    import tracemalloc

    from marketplace.models import PromptTemplate

    seller = OrganizationFactory()
    template = PromptTemplateFactory.build(seller=seller)

    def grow_to(total: int):
        have = PromptTemplate.objects.count()
        PromptTemplate.objects.bulk_create(
            [PromptTemplate(**{**{f.attname: getattr(template, f.attname) for f in PromptTemplate._meta.concrete_fields
                                  if f.attname != "id"}, "slug": f"bulk-{i}"}) for i in range(have, total)],
            batch_size=500,
        )

    def peak_export() -> int:
        tracemalloc.start()
        try:
            run("--format", "json", "--chunk-size", "100", "-o", str(tmp_path / "out.json"))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    grow_to(400)
    small = peak_export()
    grow_to(4000)
    large = peak_export()
    assert (tmp_path / "out.json").read_text().count('"slug": "bulk-') == 4000
    assert large < small * 1.5, (small, large)

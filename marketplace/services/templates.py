"""Writes and rules of prompt templates: the seller studio (create, edit, publish, unpublish,
archive) and rendering a template with a buyer's values.

Every path (studio pages, API, admin) goes through these functions, so the rules are
the same everywhere: only sellers and admins of the selling organization write; a
published template always satisfies the publishing rules (an edit that breaks them is
refused); the slug, billing's item id, never changes once the template was first published.

Errors are DRF exceptions so a later API renders them in the common error shape; pages
show their `detail` (a dict of per-field messages for validation errors).
"""

import re
from collections.abc import Mapping

import reversion
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from accounts.models import Membership, Organization, User
from common.ai import AIError, Message, ai_answer
from common.events import EventSource, track
from marketplace.cache import catalogue_changed
from marketplace.models import Category, PromptTemplate, TemplateStatus, VariableType, Visibility
from marketplace.selectors import ITEM_TYPE, PUBLISHER_ROLES

# `{{ name }}`: letters, digits and underscores, not starting with a digit; spaces inside the braces allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ANY_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
MAX_VALUE_LENGTH = 2000
MAX_PRICE_AMOUNT = 1_000_000  # $10,000.00
CURRENCY = re.compile(r"^[a-z]{3}$")
SLUG = re.compile(r"^[-a-z0-9_]+$")
# Addresses the marketplace's own pages use (/marketplace/studio/ ...).
RESERVED_SLUGS = frozenset({"studio", "library", "dashboard", "new", "api"})
# What a seller may set; everything else (status, dates, statistics) is the services' business.
EDITABLE_FIELDS = (
    "title",
    "slug",
    "description",
    "category",
    "tags",
    "body",
    "variables",
    "example_output",
    "price_amount",
    "currency",
    "visibility",
)


class SellerRequired(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "seller_required"
    default_detail = "Only sellers and admins of the selling organization can do that."


class WrongStatus(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "wrong_status"
    default_detail = "The template is not in a state that allows this."


def _as_text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _value_error(*, variable: dict, text: str) -> str | None:
    """Why `text` is not a valid value for `variable`, or None if it is."""
    kind = variable.get("type")
    if len(text) > MAX_VALUE_LENGTH:
        return f"Keep it to {MAX_VALUE_LENGTH} characters or fewer."
    if kind == VariableType.NUMBER and not NUMBER.match(text):
        return "Enter a number, like 3 or 2.5."
    if kind == VariableType.CHOICE:
        choices = [str(choice) for choice in variable.get("choices") or []]
        if text not in choices:
            return f"Choose one of: {', '.join(choices)}."
    return None


def _variable_problems(variables: object) -> list[str]:
    """What is wrong with the declared variables themselves (names, types, choices, defaults)."""
    if not isinstance(variables, list):
        return ["Variables must be a list."]
    problems, seen = [], set()
    for position, variable in enumerate(variables, start=1):
        name = variable.get("name") if isinstance(variable, dict) else None
        if not isinstance(name, str) or not NAME.match(name):
            problems.append(f"Variable {position} needs a name of letters, digits and underscores.")
            continue
        if name in seen:
            problems.append(f'Variable "{name}" is declared twice.')
        seen.add(name)
        kind = variable.get("type")
        if kind not in VariableType.values:
            problems.append(f'Variable "{name}" has an unknown type "{kind}" (text, number or choice).')
            continue
        if kind == VariableType.CHOICE:
            choices = variable.get("choices")
            if not isinstance(choices, list) or not choices:
                problems.append(f'Choice variable "{name}" needs a list of choices.')
                continue
        if variable.get("default") is not None:
            error = _value_error(variable=variable, text=_as_text(variable["default"]))
            if error:
                problems.append(f'The default of "{name}" is invalid: {error}')
    return problems


def prompt_template_problems(*, template: PromptTemplate) -> dict[str, list[str]]:
    """Why the template cannot be published, per field; empty when it can.

    Every `{{name}}` in the body must be a declared variable and every declared variable
    must appear in the body, so a buyer is never asked for a value that is not used.
    """
    problems: dict[str, list[str]] = {}
    body_problems = []
    for inside in ANY_BRACES.findall(template.body):
        if not NAME.match(inside.strip()):
            body_problems.append(f"Malformed placeholder {{{{{inside}}}}}: use letters, digits and underscores.")
    variable_problems = _variable_problems(template.variables)
    if not variable_problems:
        declared = [variable["name"] for variable in template.variables]
        used = list(dict.fromkeys(PLACEHOLDER.findall(template.body)))
        body_problems += [
            f"The placeholder {{{{{name}}}}} is not a declared variable." for name in used if name not in declared
        ]
        variable_problems += [
            f'Variable "{name}" is declared but not used in the body.' for name in declared if name not in used
        ]
    if body_problems:
        problems["body"] = body_problems
    if variable_problems:
        problems["variables"] = variable_problems
    return problems


def seller_require_publisher(*, seller_id: int, actor: User) -> None:
    """Refuse (403) unless `actor` is a seller or admin of the organization `seller_id`."""
    if not Membership.objects.filter(organization_id=seller_id, user_id=actor.pk, role__in=PUBLISHER_ROLES).exists():
        raise SellerRequired()


def prompt_template_require_publisher(*, template: PromptTemplate, actor: User) -> None:
    """Refuse (403) unless `actor` is a seller or admin of the template's selling organization."""
    seller_require_publisher(seller_id=template.seller_id, actor=actor)


def prompt_template_field_problems(*, template: PromptTemplate) -> dict[str, list[str]]:
    """What is wrong with the fields themselves, checked on every save, draft or not."""
    problems: dict[str, list[str]] = {}

    def problem(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if not template.title.strip():
        problem("title", "Give the template a title.")
    elif len(template.title) > 200:
        problem("title", "Keep the title to 200 characters or fewer.")
    if not SLUG.match(template.slug or "") or len(template.slug) > 64:
        problem("slug", "Use 1 to 64 lowercase letters, digits, hyphens and underscores.")
    elif template.slug in RESERVED_SLUGS:
        problem("slug", "This address is reserved; choose another.")
    elif PromptTemplate.objects.filter(slug=template.slug).exclude(pk=template.pk).exists():
        problem("slug", "Another template already uses this address.")
    if not template.description.strip():
        problem("description", "Describe what the template does.")
    if template.category not in Category.values:
        problem("category", f"Choose one of: {', '.join(Category.values)}.")
    if len(template.tags) > 255:
        problem("tags", "Keep the tags to 255 characters or fewer.")
    if not template.body.strip():
        problem("body", "Write the prompt.")
    if not isinstance(template.price_amount, int) or not 0 <= template.price_amount <= MAX_PRICE_AMOUNT:
        problem("price_amount", f"The price is 0 (free) to {MAX_PRICE_AMOUNT} minor units.")
    if not CURRENCY.match(template.currency or ""):
        problem("currency", "Use a three-letter lowercase ISO code, like usd.")
    if template.visibility not in Visibility.values:
        problem("visibility", "Choose public or unlisted.")
    variable_problems = _variable_problems(template.variables)
    if variable_problems:
        problems["variables"] = variable_problems
    return problems


def _unique_slug(title: str) -> str:
    base = (slugify(title) or "template")[:56].strip("-") or "template"
    slug, n = base, 1
    while slug in RESERVED_SLUGS or PromptTemplate.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def prompt_template_create(*, seller: Organization, actor: User, data: Mapping[str, object]) -> PromptTemplate:
    """A new draft of `seller`'s; the slug comes from the title unless given. Per-field errors (400)."""
    seller_require_publisher(seller_id=seller.pk, actor=actor)
    values = {field: data[field] for field in EDITABLE_FIELDS if field in data}
    template = PromptTemplate(seller=seller, seller_name=seller.name, status=TemplateStatus.DRAFT, **values)
    if not template.slug:
        template.slug = _unique_slug(str(values.get("title", "")))
    problems = prompt_template_field_problems(template=template)
    if problems:
        raise ValidationError(problems)
    template.save()
    return template


def prompt_template_update(*, template: PromptTemplate, actor: User, data: Mapping[str, object]) -> PromptTemplate:
    """Change a draft or a published template. A published one must still pass the publishing
    rules (or nothing is saved); the slug is fixed once first published; an archived one is read-only."""
    prompt_template_require_publisher(template=template, actor=actor)
    with transaction.atomic():
        locked = PromptTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.status == TemplateStatus.ARCHIVED:
            raise WrongStatus("An archived template cannot be edited.")
        locked.seller_name = template.seller.name
        if "slug" in data and data["slug"] != locked.slug and locked.published_at is not None:
            raise ValidationError({"slug": ["The address cannot change once the template has been published."]})
        for field in EDITABLE_FIELDS:
            if field in data:
                setattr(locked, field, data[field])
        problems = prompt_template_field_problems(template=locked)
        if not problems and locked.is_published:
            problems = prompt_template_problems(template=locked)
        if problems:
            raise ValidationError(problems)
        if locked.is_published:
            _save_version(template=locked, actor=actor, comment="Edited while published")
            catalogue_changed()
        else:
            locked.save()
    return locked


def _save_version(*, template: PromptTemplate, actor: User, comment: str) -> None:
    """Save a published template as a new version (django-reversion): what buyers get from now on."""
    with reversion.create_revision():
        template.save()
        reversion.set_user(actor if actor.is_authenticated else None)
        reversion.set_comment(comment)


def prompt_template_publish(*, template: PromptTemplate, actor: User) -> PromptTemplate:
    """Put a draft on sale. Publishing a published template changes nothing; an archived one stays archived."""
    prompt_template_require_publisher(template=template, actor=actor)
    with transaction.atomic():
        # Validate the row as it is now, and let one of two concurrent publishes set the date.
        locked = PromptTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.status == TemplateStatus.PUBLISHED:
            return locked
        if locked.status == TemplateStatus.ARCHIVED:
            raise WrongStatus("An archived template cannot be published again.")
        problems = {**prompt_template_field_problems(template=locked), **prompt_template_problems(template=locked)}
        if problems:
            raise ValidationError(problems)
        locked.status = TemplateStatus.PUBLISHED
        locked.published_at = locked.published_at or timezone.now()
        _save_version(template=locked, actor=actor, comment="Published")
        catalogue_changed()
    template.status, template.published_at = locked.status, locked.published_at
    return locked


def _status_change(*, template: PromptTemplate, actor: User, allowed_from: tuple[str, ...], to: str) -> PromptTemplate:
    prompt_template_require_publisher(template=template, actor=actor)
    with transaction.atomic():
        locked = PromptTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.status == to:
            return locked
        if locked.status not in allowed_from:
            raise WrongStatus(f"A {locked.get_status_display().lower()} template cannot become {to}.")
        locked.status = to
        locked.save(update_fields=["status", "updated_at"])
        catalogue_changed()
    template.status = locked.status
    return locked


def prompt_template_unpublish(*, template: PromptTemplate, actor: User) -> PromptTemplate:
    """Take a template off sale (back to draft). Buyers keep it; its address stays reserved."""
    return _status_change(template=template, actor=actor, allowed_from=(TemplateStatus.PUBLISHED,), to="draft")


def prompt_template_archive(*, template: PromptTemplate, actor: User) -> PromptTemplate:
    """Retire a template for good: off sale, read-only; buyers keep it."""
    allowed = (TemplateStatus.DRAFT, TemplateStatus.PUBLISHED)
    return _status_change(template=template, actor=actor, allowed_from=allowed, to=TemplateStatus.ARCHIVED)


def prompt_template_sample_values(*, template: PromptTemplate) -> dict[str, str]:
    """Values for the studio's preview: the default, else the first choice, 3, or the name in brackets."""
    samples = {}
    for variable in template.variables if isinstance(template.variables, list) else []:
        if not isinstance(variable, dict) or not isinstance(variable.get("name"), str):
            continue
        if variable.get("default") is not None:
            samples[variable["name"]] = _as_text(variable["default"])
        elif variable.get("type") == VariableType.CHOICE and variable.get("choices"):
            samples[variable["name"]] = str(variable["choices"][0])
        elif variable.get("type") == VariableType.NUMBER:
            samples[variable["name"]] = "3"
        else:
            samples[variable["name"]] = f"[{variable['name']}]"
    return samples


def prompt_template_render(*, template: PromptTemplate, values: Mapping[str, object]) -> str:
    """The body with every placeholder filled from `values`, or a default where a value is blank.

    Raises ValidationError with a message per variable name for a missing required value
    or a malformed one. Values are substituted in one pass, so a value that itself looks
    like `{{name}}` stays as typed. Keys that are not declared variables are ignored.
    """
    filled: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for variable in template.variables:
        name = variable["name"]
        text = _as_text(values.get(name))
        if text == "":
            if variable.get("default") is None:
                errors[name] = ["This variable is required."]
                continue
            text = _as_text(variable["default"])
            if text == "":
                filled[name] = text  # an optional text variable left empty on purpose
                continue
        error = _value_error(variable=variable, text=text)
        if error:
            errors[name] = [error]
        else:
            filled[name] = text
    if errors:
        raise ValidationError(errors)
    return PLACEHOLDER.sub(lambda match: filled.get(match.group(1), match.group(0)), template.body)


def prompt_template_try(
    *,
    template: PromptTemplate,
    values: Mapping[str, object],
    organization_id: int | None,
    source: EventSource | None = None,
) -> str:
    """An owner's "Try it" (the page or the API): the render, and one `template_render` event when it
    rendered (a refused one raises before), which the seller's dashboard counts as a use."""
    text = prompt_template_render(template=template, values=values)
    track(
        "template_render",
        source=source,
        organization_id=organization_id,
        item_type=ITEM_TYPE,
        item_id=template.slug,
    )
    return text


VALIDATION_INSTRUCTIONS = (
    "You review prompt templates sold to businesses. Say in at most five short bullet points what "
    "would make this template clearer or more reliable for a buyer (ambiguity, missing context, output "
    "format, unsafe requests). Do not rewrite it."
)


def prompt_template_validate(*, template: PromptTemplate, actor: User) -> dict:
    """Check a template and keep the result on it (`validation_result`, shown on the studio page).

    The structure (placeholders, variables, fields) is always checked here; with an AI provider
    other than the offline `local` one (setting AI_PROVIDER), the model is also asked for advice.
    `local` checks structure only. A provider failure is kept as the result's `error`; the
    template itself never changes. Only when MARKETPLACE_AI_VALIDATION is on.
    """
    prompt_template_require_publisher(template=template, actor=actor)
    if not settings.MARKETPLACE_AI_VALIDATION:
        raise WrongStatus("Prompt validation is switched off (MARKETPLACE_AI_VALIDATION).")
    problems = {**prompt_template_field_problems(template=template), **prompt_template_problems(template=template)}
    result = {
        "checked_at": timezone.now().isoformat(),
        "provider": settings.AI_PROVIDER,
        "problems": [message for messages in problems.values() for message in messages],
        "advice": "",
        "error": "",
    }
    if settings.AI_PROVIDER == "local":
        result["advice"] = "The offline provider checks the structure only."
    else:
        variables = ", ".join(f"{v.get('name')} ({v.get('type')})" for v in template.variables if isinstance(v, dict))
        question = f"Title: {template.title}\nVariables: {variables}\nPrompt:\n{template.body}"
        try:
            reply = ai_answer(messages=[Message("system", VALIDATION_INSTRUCTIONS), Message("user", question)])
            result["advice"] = reply.text[:4000]
        except AIError as error:
            result["error"] = str(error)
    PromptTemplate.objects.filter(pk=template.pk).update(validation_result=result)
    template.validation_result = result
    return result

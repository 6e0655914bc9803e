"""Writes and rules of the marketplace: publishing a prompt template, rendering it with a buyer's values.

Errors are DRF exceptions so a later API renders them in the common error shape; pages
show their `detail` (a dict of per-field messages for validation errors).
"""

import re
from collections.abc import Mapping

from django.db import transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from accounts.models import Membership, Role, User
from marketplace.models import PromptTemplate, TemplateStatus, VariableType

# `{{ name }}`: letters, digits and underscores, not starting with a digit; spaces inside the braces allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ANY_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
MAX_VALUE_LENGTH = 2000
PUBLISHER_ROLES = (Role.SELLER, Role.ADMIN)


class SellerRequired(APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "seller_required"
    default_detail = "Only sellers and admins of the selling organization can do that."


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


def prompt_template_require_publisher(*, template: PromptTemplate, actor: User) -> None:
    """Refuse (403) unless `actor` is a seller or admin of the template's selling organization."""
    if not Membership.objects.filter(
        organization_id=template.seller_id, user_id=actor.pk, role__in=PUBLISHER_ROLES
    ).exists():
        raise SellerRequired()


def prompt_template_publish(*, template: PromptTemplate, actor: User) -> PromptTemplate:
    """Put a draft on sale. Publishing a published template changes nothing."""
    prompt_template_require_publisher(template=template, actor=actor)
    with transaction.atomic():
        # Validate the row as it is now, and let one of two concurrent publishes set the date.
        locked = PromptTemplate.objects.select_for_update().get(pk=template.pk)
        if locked.status == TemplateStatus.PUBLISHED:
            return locked
        problems = prompt_template_problems(template=locked)
        if problems:
            raise ValidationError(problems)
        locked.status = TemplateStatus.PUBLISHED
        locked.published_at = timezone.now()
        locked.save(update_fields=["status", "published_at", "updated_at"])
    template.status, template.published_at = locked.status, locked.published_at
    return locked


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

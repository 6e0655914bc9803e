"""Compare a sandbox object with Stripe's own example of its `object` type (fixtures3.json).

Same field names at every level (a field Stripe's client declares for that class is also
accepted, because the published examples omit some optional ones), same nesting, same
JSON types; null only where the fixture is null or the official client declares the
field Optional.
"""

import json
import os
import types
import typing
from importlib import import_module
from pathlib import Path

from stripe._object_classes import OBJECT_CLASSES
from stripe._stripe_object import StripeObject

# shared/ sits beside the repository (../shared); STRIPE_FIXTURES_PATH points elsewhere.
FIXTURES_PATH = Path(
    os.environ.get("STRIPE_FIXTURES_PATH")
    or Path(__file__).resolve().parents[4] / "shared" / "stripe" / "fixtures3.json"
)


def fixtures() -> dict:
    return json.loads(FIXTURES_PATH.read_text())["resources"]


def stripe_class(object_type: str):
    module, name = OBJECT_CLASSES[object_type]
    return getattr(import_module(module), name)


def _annotations(cls) -> dict:
    found: dict = {}
    for klass in reversed(getattr(cls, "__mro__", ())):
        found.update(getattr(klass, "__annotations__", {}) or {})
    return found


def _unwrap(annotation):
    """(nullable, inner type) of an annotation such as Optional[List[Item]]."""
    nullable = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        nullable = len(rest) < len(args)
        annotation = rest[0] if len(rest) == 1 else None
    return nullable, annotation


def _by_name(name: str):
    for module, class_name in OBJECT_CLASSES.values():
        if class_name == name:
            return getattr(import_module(module), class_name)
    return None


def _nested_class(annotation):
    """The StripeObject class a field holds, through Optional, List[...] and ListObject[...]."""
    if typing.get_origin(annotation) is not None and typing.get_args(annotation):
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        annotation = _by_name(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, StripeObject) else None


_JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}


def _kind(value) -> str:
    return _JSON_TYPES[type(value)]


def compare(ours, example, cls, path: str, problems: list[str]) -> None:
    if example is None or ours is None:
        return  # nullability is checked by the caller, which knows the field's annotation
    if isinstance(example, dict) and isinstance(ours, dict):
        if example.get("object") == "list":
            if set(ours) != {"object", "data", "has_more", "url"}:
                problems.append(f"{path}: list object keys {sorted(ours)}")
            if ours.get("data") and example.get("data") and isinstance(example["data"][0], dict):
                for index, item in enumerate(ours["data"]):
                    compare(item, example["data"][0], cls, f"{path}.data[{index}]", problems)
            return
        declared = _annotations(cls) if cls else {}
        missing = set(example) - set(ours)
        extra = set(ours) - set(example) - set(declared)
        if missing:
            problems.append(f"{path}: missing {sorted(missing)}")
        if extra:
            problems.append(f"{path}: unknown {sorted(extra)}")
        for key in set(example) & set(ours) - {"metadata"}:  # metadata is the caller's free-form map
            nullable, inner = _unwrap(declared.get(key)) if key in declared else (False, None)
            if ours[key] is None and example[key] is not None and not nullable:
                problems.append(f"{path}.{key}: null where Stripe never sends null")
            compare(ours[key], example[key], _nested_class(inner), f"{path}.{key}", problems)
        return
    if isinstance(example, str) and isinstance(ours, dict) and "id" in ours:
        return  # an expanded id
    if _kind(example) != _kind(ours):
        problems.append(f"{path}: {_kind(ours)} where Stripe sends {_kind(example)}")
        return
    if isinstance(example, list) and example and ours and isinstance(example[0], dict):
        for index, item in enumerate(ours):
            compare(item, example[0], cls, f"{path}[{index}]", problems)


def shape_problems(obj: dict, examples: dict) -> list[str]:
    """Everything about `obj` that differs from Stripe's example of its type."""
    object_type = obj["object"]
    key = f"deleted_{object_type}" if obj.get("deleted") else object_type
    problems: list[str] = []
    example = examples[key]
    if object_type == "event":
        # An event's data.object is whatever changed; it is checked against its own type's example.
        obj = {**obj, "data": {**obj["data"], "object": example["data"]["object"]}}
    compare(obj, example, stripe_class(object_type), key, problems)
    return problems


def walk(value, found: dict) -> None:
    """Collect every Stripe object nested anywhere in a response, by `object` type."""
    if isinstance(value, dict):
        if isinstance(value.get("object"), str) and value["object"] != "list" and "id" in value:
            key = f"deleted_{value['object']}" if value.get("deleted") else value["object"]
            found.setdefault(key, []).append(value)
        for item in value.values():
            walk(item, found)
    elif isinstance(value, list):
        for item in value:
            walk(item, found)

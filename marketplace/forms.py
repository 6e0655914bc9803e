"""The studio's template form: fields as a seller types them, turned into the services' data.

Validation of the rules is the services' job (the same for the API and the admin); the
form only parses what the browser sends (a price in dollars, variable rows) into values.
"""

from decimal import Decimal

from django import forms

from marketplace.models import Category, PromptTemplate, VariableType, Visibility
from marketplace.selectors import BrowseFilters, Sort

EXTRA_VARIABLE_ROWS = 3


class TemplateForm(forms.Form):
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=64, required=False, help_text="The address; set from the title when empty.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(choices=Category.choices)
    tags = forms.CharField(max_length=255, required=False, help_text="Comma-separated, e.g. email, sales.")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), help_text="The prompt, with {{variable}} placeholders."
    )
    example_output = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    price = forms.DecimalField(
        min_value=Decimal("0"), max_value=Decimal("10000"), decimal_places=2, help_text="In dollars; 0 is free."
    )
    visibility = forms.ChoiceField(choices=Visibility.choices)

    def __init__(self, *args, template: PromptTemplate | None = None, **kwargs):
        if template is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{field: getattr(template, field) for field in ("title", "slug", "description", "category")},
                **{field: getattr(template, field) for field in ("tags", "body", "example_output", "visibility")},
                "price": Decimal(template.price_amount) / 100,
            }
        super().__init__(*args, **kwargs)
        variables = template.variables if template is not None else []
        self.variable_rows = variable_rows(data=self.data if self.is_bound else None, variables=variables)

    def service_data(self) -> dict:
        """The cleaned form as the services' `data` (price in minor units, variables as a list)."""
        data = {key: value for key, value in self.cleaned_data.items() if key != "price"}
        if not data.get("slug"):
            data.pop("slug", None)
        data["price_amount"] = int(self.cleaned_data["price"] * 100)
        data["variables"] = variables_from_rows(self.variable_rows)
        return data


def variable_rows(*, data, variables: list) -> list[dict]:
    """One row per declared variable plus a few empty ones; from the posted form when bound."""
    if data is not None:
        count = min(int(data.get("variable_count") or 0), 50)
        return [
            {
                "index": index,
                "name": data.get(f"var-{index}-name", "").strip(),
                "type": data.get(f"var-{index}-type", VariableType.TEXT),
                "default": data.get(f"var-{index}-default", ""),
                "choices": data.get(f"var-{index}-choices", ""),
            }
            for index in range(count)
        ]
    rows = []
    for index, variable in enumerate(variables):
        default = variable.get("default")
        rows.append(
            {
                "index": index,
                "name": variable.get("name", ""),
                "type": variable.get("type", VariableType.TEXT),
                "default": "" if default is None else str(default),
                "choices": ", ".join(str(choice) for choice in variable.get("choices") or []),
            }
        )
    start = len(rows)
    blank = {"name": "", "type": VariableType.TEXT, "default": "", "choices": ""}
    rows += [{"index": start + offset, **blank} for offset in range(EXTRA_VARIABLE_ROWS)]
    return rows


def variables_from_rows(rows: list[dict]) -> list[dict]:
    """Rows with a name become variables; an empty default means "required"."""
    variables = []
    for row in rows:
        if not row["name"]:
            continue
        variable = {"name": row["name"], "type": row["type"], "default": row["default"].strip() or None}
        if row["type"] == VariableType.CHOICE:
            variable["choices"] = [choice.strip() for choice in row["choices"].split(",") if choice.strip()]
        variables.append(variable)
    return variables


class BrowseForm(forms.Form):
    """The catalogue's query string (shared by the pages and the list API): every filter optional.

    Invalid values are reported and left out, so a hand-edited link still shows something.
    """

    q = forms.CharField(required=False, max_length=200, label="Search")
    category = forms.ChoiceField(required=False, choices=[("", "Any category"), *Category.choices])
    tags = forms.CharField(required=False, max_length=200, help_text="Comma-separated; all must match.")
    price_min = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Min price ($)")
    price_max = forms.DecimalField(required=False, min_value=0, decimal_places=2, label="Max price ($)")
    pricing = forms.ChoiceField(
        required=False, choices=[("", "Free and paid"), ("free", "Free only"), ("paid", "Paid only")], label="Price"
    )
    min_rating = forms.TypedChoiceField(
        required=False,
        coerce=Decimal,
        empty_value=None,
        choices=[("", "Any rating"), *((str(n), f"{n} ★ and up") for n in (4, 3, 2, 1))],
        label="Rating",
    )
    seller = forms.SlugField(required=False, max_length=64)
    sort = forms.ChoiceField(required=False, choices=[("", "Default"), *Sort.choices])

    def filters(self) -> BrowseFilters:
        data = self.cleaned_data if self.is_bound else {}
        valid = {name: value for name, value in data.items() if name not in self.errors}

        def cents(value):
            return None if value is None else int(value * 100)

        return BrowseFilters(
            query=valid.get("q") or "",
            category=valid.get("category") or "",
            tags=tuple(tag.strip().lower() for tag in (valid.get("tags") or "").split(",") if tag.strip())[:5],
            price_min=cents(valid.get("price_min")),
            price_max=cents(valid.get("price_max")),
            pricing=valid.get("pricing") or "",
            min_rating=valid.get("min_rating"),
            seller=valid.get("seller") or "",
            sort=valid.get("sort") or "",
        )

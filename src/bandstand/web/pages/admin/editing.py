"""Edit forms of the console: what a field is, and between the form's text and the API's JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

WHOLE_NUMBER = re.compile(r"-?\d{1,12}")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"
    """text, textarea, int, decimal, date, datetime, url, select, checkbox or list."""
    required: bool = False
    choices: tuple[str, ...] = ()
    blank: Any = None
    """What a change sends for the field left empty (None clears it, "" empties a text)."""
    hint: str | None = None


@dataclass(frozen=True)
class Resource:
    """One kind of catalogue item the console edits through its service's API."""

    slug: str
    """Its console URL: /admin/<slug>."""
    api: str
    singular: str
    plural: str
    fields: tuple[Field, ...]
    columns: tuple[tuple[str, str], ...]
    """(record key, column heading) of the list; the first links to the item."""
    search: str | None = "search"
    """The API's query parameter the search box fills (None: no search box)."""
    update_method: str = "PUT"
    list_query: dict[str, Any] = field(default_factory=dict)
    public_url: str | None = None
    """Where people see the item ("{id}" is replaced), if they do."""

    def title_of(self, item: dict[str, Any]) -> str:
        return str(item.get(self.columns[0][0]) or f"{self.singular} {item.get('id')}")


def form_from_item(resource: Resource, item: dict[str, Any]) -> dict[str, Any]:
    """An item's values as its edit form shows them."""
    values: dict[str, Any] = {}
    for one in resource.fields:
        value = item.get(one.name)
        if one.kind == "checkbox":
            values[one.name] = bool(value)
        elif value is None:
            values[one.name] = ""
        elif one.kind == "list":
            values[one.name] = ", ".join(str(part) for part in value)
        elif one.kind == "datetime":
            values[one.name] = str(value)[:16]
        else:
            values[one.name] = str(value)
    return values


def body_from_form(
    resource: Resource, form: dict[str, str], *, creating: bool
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """(the API's JSON body, the values to show again, errors found before asking the API).

    A value the page cannot convert is sent as the text it is, so the API names what is wrong
    with it beside the field."""
    body: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for one in resource.fields:
        if one.kind == "checkbox":
            body[one.name] = shown[one.name] = one.name in form
            continue
        text = form.get(one.name, "").strip()
        shown[one.name] = text
        if not text:
            if one.required:
                errors[one.name] = f"Enter the {one.label.lower()}."
            elif not creating:
                body[one.name] = one.blank
            continue
        body[one.name] = _value(one, text)
    return body, shown, errors


def _value(one: Field, text: str) -> Any:
    if one.kind == "int":
        return int(text) if WHOLE_NUMBER.fullmatch(text) else text
    if one.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    if one.kind == "datetime" and len(text) == 16:
        return f"{text}:00Z"
    return text

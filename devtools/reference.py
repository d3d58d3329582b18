"""The documentation's two generated reference pages, so neither can drift from the code.

- :func:`settings_markdown`: every ``NEWSFLOW_*`` variable from :class:`shared.settings.Settings` (nested groups
  expanded with ``__``): its name, type, default and description (the field's docstring).
- :func:`messages_markdown`: every topic of the AsyncAPI document (``docs/asyncapi.yaml``, which a test keeps
  equal to what :func:`services.contracts.asyncapi_document` makes), with its key, its messages' headers and
  their payload fields.

``docs/gen_reference.py`` (run by the mkdocs-gen-files plugin at every ``mkdocs build``) writes them as
``reference/settings.md`` and ``reference/messages.md``.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["messages_markdown", "settings_markdown", "settings_rows"]

_PREFIX = "NEWSFLOW_"


def _type_name(annotation: Any) -> str:
    """A short, readable name of a field's type (``int``, ``list[float]``, ``"text" | "json"``, ``secret``)."""
    if annotation is None or annotation is type(None):
        return "none"
    if annotation is SecretStr:
        return "secret"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]  # settings' factories take no arguments
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if value is None:
        return "-"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, Path):
        return f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | dict):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def _fields(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        variable = f"{prefix}{name.upper()}"
        if nested:
            assert isinstance(annotation, type)  # for mypy: checked just above
            yield from _fields(annotation, variable + "__")
            continue
        aliases = field.validation_alias
        if aliases is not None and hasattr(aliases, "choices"):
            variable = " / ".join(f"`{c}`" for c in aliases.choices if isinstance(c, str))
        else:
            variable = f"`{variable}`"
        yield variable, _type_name(annotation), _default(field), _one_line(field.description)


def settings_rows() -> list[tuple[str, str, str, str]]:
    """(variable, type, default, description) of every setting, in the order the Settings class declares."""
    from shared.settings import Settings

    return list(_fields(Settings, _PREFIX))


def settings_markdown() -> str:
    lines = [
        "# Settings reference",
        "",
        "Generated from `shared/settings.py` at every documentation build: each variable, its type, its default and",
        "its description are read from the `Settings` class, so this page cannot drift from the code. How the",
        "settings are read and checked: [Settings](../operating/settings.md).",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for variable, kind, default, description in settings_rows():
        lines.append(f"| {variable} | {kind} | {default} | {description} |")
    return "\n".join(lines) + "\n"


def _schema_type(schema: Mapping[str, Any]) -> str:
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#schema-{name.lower()})"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_schema_type(s) for s in schema[key])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_schema_type(schema.get('items', {}))}"
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _properties_table(schema: Mapping[str, Any]) -> list[str]:
    props: Mapping[str, Any] = schema.get("properties", {})
    if not props:
        return []
    required = set(schema.get("required", []))
    out = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in props.items():
        desc = _one_line(prop.get("description") or prop.get("title"))
        out.append(f"| `{name}` | {_schema_type(prop)} | {'yes' if name in required else ''} | {desc} |")
    return out


def messages_markdown(document: Mapping[str, Any]) -> str:
    """The topics, their messages and every schema of an AsyncAPI document (``docs/asyncapi.yaml``)."""
    components = document.get("components", {})
    messages: Mapping[str, Any] = components.get("messages", {})
    schemas: Mapping[str, Any] = components.get("schemas", {})
    lines = [
        "# Message reference",
        "",
        "Generated at every documentation build from the AsyncAPI 3.0 document [`asyncapi.yaml`](../asyncapi.yaml),",
        "which `newsflow schema asyncapi` makes from the pydantic models in `shared/models.py` and the routing",
        "rules (a test keeps the committed document current).",
        "",
        _one_line(document.get("info", {}).get("description")),
        "",
        "## Topics",
        "",
        "| topic | what | key | messages |",
        "|---|---|---|---|",
    ]
    for channel in document.get("channels", {}).values():
        names = [str(ref.get("$ref", "")).rsplit("/", 1)[-1] for ref in channel.get("messages", {}).values()]
        keys = {
            _one_line(messages.get(n, {}).get("bindings", {}).get("kafka", {}).get("key", {}).get("description"))
            for n in names
        }
        key_text = ", ".join(sorted(k for k in keys if k)) or "optional"
        links = ", ".join(f"[{n}](#message-{n.lower()})" for n in names)
        lines.append(f"| `{channel.get('address')}` | {_one_line(channel.get('description'))} | {key_text} | {links} |")
    lines += ["", "## Messages", ""]
    for name, message in messages.items():
        summary = _one_line(message.get("summary") or message.get("title"))
        lines += [f"### {name} {{#message-{name.lower()}}}", "", summary, ""]
        lines.append(f"Content type: `{message.get('contentType', document.get('defaultContentType', ''))}`.")
        lines.append("")
        headers = message.get("headers", {})
        if headers.get("properties"):
            lines += ["Headers:", "", *_properties_table(headers), ""]
        payload = message.get("payload", {})
        if "$ref" in payload or "anyOf" in payload or "oneOf" in payload:
            lines += [f"Payload: {_schema_type(payload)}", ""]
        elif payload.get("properties"):
            lines += ["Payload:", "", *_properties_table(payload), ""]
        else:
            lines += [f"Payload: {_one_line(payload.get('description')) or _schema_type(payload)}", ""]
    lines += ["## Schemas", ""]
    for name, schema in schemas.items():
        lines += [f"### {name} {{#schema-{name.lower()}}}", "", _one_line(schema.get("description")), ""]
        table = _properties_table(schema)
        lines += [*table, ""] if table else [f"Type: {_schema_type(schema)}", ""]
    return "\n".join(lines) + "\n"

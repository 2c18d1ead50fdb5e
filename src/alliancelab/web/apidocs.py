"""The API reference page at ``/docs``: the app's OpenAPI description rendered as plain
HTML on the server (no script, nothing fetched from a CDN), one section per resource."""

from __future__ import annotations

from html import escape
from typing import Any

CONSTRAINTS = ("minimum", "maximum", "minLength", "maxLength", "maxItems", "pattern")
STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "color:#14213d}code{background:#eef2f7;padding:0 .25em;border-radius:3px}"
    "h3 code{font-size:1rem}table{border-collapse:collapse;margin:.4rem 0 1rem}"
    "td,th{border:1px solid #ccd3de;padding:.2rem .5rem;text-align:left;vertical-align:top}"
    ".m{font-weight:700;color:#1f4e8c}"
)


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    name = ref.rsplit("/", 1)[-1]
    return spec.get("components", {}).get("schemas", {}).get(name, {})  # type: ignore[no-any-return]


def type_text(schema: dict[str, Any], spec: dict[str, Any]) -> str:
    """A short type: ``integer``, ``string | null``, ``list of string``, ``one of a, b``."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        return " | ".join(type_text(s, spec) for s in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = str(schema.get("type", schema.get("title", "any")))
    if kind == "array":
        return "list of " + type_text(schema.get("items", {}), spec)
    return kind


def _limits(schema: dict[str, Any]) -> str:
    return ", ".join(f"{k} {schema[k]}" for k in CONSTRAINTS if k in schema)


def _table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return ""
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + cells
            + "</table>")


def _parameters(op: dict[str, Any], spec: dict[str, Any]) -> str:
    rows = [[f"<code>{escape(p['name'])}</code>", escape(p.get("in", "")),
             escape(type_text(p.get("schema", {}), spec)),
             "yes" if p.get("required") else "no",
             escape(_limits(p.get("schema", {})) or p.get("description", ""))]
            for p in op.get("parameters", [])]
    return _table(["parameter", "in", "type", "required", "limits"], rows)


def _body(op: dict[str, Any], spec: dict[str, Any]) -> str:
    content = op.get("requestBody", {}).get("content", {})
    if not content:
        return ""
    media, item = next(iter(content.items()))
    schema = _resolve(item.get("schema", {}), spec)
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        prop = _resolve(prop, spec)
        default = "" if "default" not in prop else f"<code>{escape(repr(prop['default']))}</code>"
        rows.append([f"<code>{escape(name)}</code>", escape(type_text(prop, spec)),
                     "yes" if name in required else default,
                     escape(" ".join(x for x in (prop.get("description", ""), _limits(prop))
                                     if x))])
    return (f"<p>body: <code>{escape(media)}</code></p>"
            + _table(["field", "type", "required / default", "notes"], rows))


def _operation(method: str, path: str, op: dict[str, Any], spec: dict[str, Any]) -> str:
    responses = ", ".join(f"{escape(code)} {escape(r.get('description', ''))}"
                          for code, r in op.get("responses", {}).items())
    return (f"<h3><span class=m>{method.upper()}</span> <code>{escape(path)}</code></h3>"
            f"<p>{escape(op.get('summary', ''))}</p>" + _parameters(op, spec) + _body(op, spec)
            + f"<p>responses: {responses}</p>")


def render_docs(spec: dict[str, Any]) -> str:
    """The whole page for the OpenAPI description ``spec``."""
    sections: dict[str, list[str]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            tag = (op.get("tags") or ["api"])[0]
            sections.setdefault(tag, []).append(_operation(method, path, op, spec))
    info = spec.get("info", {})
    body = "".join(f"<h2 id={escape(t)}>{escape(t)}</h2>" + "".join(ops)
                   for t, ops in sections.items())
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>"
            f"{escape(info.get('title', ''))} API</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(info.get('title', ''))} {escape(info.get('version', ''))}: the JSON "
            f"API</h1><p>{escape(info.get('description', ''))}</p><p>Machine-readable: "
            "<a href=/openapi.json>/openapi.json</a>. Errors are <code>{\"detail\": "
            "\"one line\"}</code>.</p>" + body + "</body></html>")

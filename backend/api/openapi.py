"""/api/openapi.json, built from the route table and the pydantic models so it cannot drift."""
from __future__ import annotations

import re
from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .routing import ROUTES, Route
from .schemas import ErrorOut

OPENAPI_PATH = "/api/openapi.json"
_PARAM = re.compile(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}")
_ROW_ID = r"\d{1,9}"
_REF = "#/components/schemas/{model}"
_ERRORS = {400: "bad input: what is wrong is said", 401: "no valid credentials",
           403: "missing permission, or a console session without its CSRF token",
           404: "not found", 409: "conflicts with the current state"}


def openapi_path(pattern: str) -> str:
    """The aiohttp pattern without its regular expressions: /a/{id:\\d+} → /a/{id}."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", pattern)


def _path_parameters(pattern: str) -> list[dict[str, Any]]:
    found = []
    for name, regex in _PARAM.findall(pattern):
        if regex == _ROW_ID:
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": 999_999_999}
        else:
            schema = {"type": "string", "pattern": f"^{regex or '[^/]+'}$"}
        found.append({"name": name, "in": "path", "required": True, "schema": schema})
    return found


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value is text or absent, never JSON null: drop the null branch of optionals."""
    options = schema.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **(rest[0] if len(rest) == 1 else {"anyOf": rest})}
        schema.pop("default", None)
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             "schema": _without_null(dict(prop))} for name, prop in schema["properties"].items()]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(model)}}


def _operation(spec: Route) -> dict[str, Any]:
    success: dict[str, Any] = {"description": spec.summary}
    if spec.media_type:
        success["content"] = {spec.media_type: {"schema": {"type": "string", "format": "binary"}}}
    elif spec.answer:
        success["content"] = _json(spec.answer)
    statuses = {401, 403, *spec.errors, *((400,) if spec.body or spec.query else ())}
    operation: dict[str, Any] = {
        "operationId": f"{spec.tag.replace(' ', '_')}.{spec.handler.__name__}",
        "summary": spec.summary,
        "description": f"{(spec.handler.__doc__ or '').strip()}\n\nRequires permission `{spec.scope}`.",
        "tags": [spec.tag],
        "x-permission": spec.scope,
        "parameters": _path_parameters(spec.path) + (_query_parameters(spec.query) if spec.query else []),
        "responses": {str(spec.status): success,
                      **{str(s): {"description": _ERRORS[s], "content": _json(ErrorOut)} for s in sorted(statuses)}},
    }
    if spec.body is not None:
        needed = any(field.is_required() for field in spec.body.model_fields.values())
        operation["requestBody"] = {"required": needed, "content": _json(spec.body)}
    return operation


def _components(routes: list[Route]) -> dict[str, Any]:
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(ErrorOut, "serialization"): None}
    for spec in routes:
        if spec.body:
            wanted[(spec.body, "validation")] = None
        if spec.answer:
            wanted[(spec.answer, "serialization")] = None
    _, top = models_json_schema(list(wanted), ref_template=_REF)
    return top.get("$defs", {})


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route in the table."""
    paths: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        paths.setdefault(openapi_path(spec.path), {})[spec.method.lower()] = _operation(spec)
    paths[OPENAPI_PATH] = {"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["meta"], "security": [],
        "responses": {"200": {"description": "the OpenAPI document",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "jiahu API", "version": "1",
                 "description": "Bookings, visits, care workers, complaints, conversations and documents "
                                "of the home-nursing intake service. Errors are JSON {\"error\": ...}. "
                                "ID numbers are never shown in full (except in an export asked with "
                                "identifiers=full by a caller holding identifiers:read); phones are shown "
                                "in full to console sessions only, to tokens as the last 4 digits."},
        "paths": paths,
        "components": {
            "schemas": _components(ROUTES),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token (jiahu token create) with its permissions"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "jiahu_staff",
                           "description": "a console session; requests that change something must "
                                          "also send the header X-CSRF-Token"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }


async def serve(request: web.Request) -> web.Response:
    """GET /api/openapi.json (public: it describes, it holds no data)."""
    return web.json_response(document())

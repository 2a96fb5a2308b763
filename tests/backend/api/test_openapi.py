"""The OpenAPI document describes every /api route of the real app and is a valid document."""
from __future__ import annotations

from openapi_spec_validator import validate

from backend.api.openapi import document, openapi_path


async def test_every_api_route_is_documented_and_the_document_is_valid(runtime, client):
    from bot.app import create_app  # the whole app: routes added anywhere under /api/ count

    served = await (await client.get("/api/openapi.json")).json()
    assert served == document()
    validate(served)
    registered = {(route.method.lower(), openapi_path(route.resource.canonical))
                  for route in create_app(runtime).router.routes()
                  if route.resource is not None and route.resource.canonical.startswith("/api/")
                  and route.method != "HEAD"}
    documented = {(method, path) for path, item in served["paths"].items() for method in item}
    assert registered == documented


async def test_each_operation_names_its_permission_and_its_errors():
    spec = document()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path == "/api/openapi.json":
                assert operation["security"] == []
                continue
            assert operation["x-permission"] in operation["description"]
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    confirm = spec["paths"]["/api/bookings/{number}/assign"]["post"]
    assert confirm["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AssignBody"}
    assert "409" in confirm["responses"]
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "cookie"}

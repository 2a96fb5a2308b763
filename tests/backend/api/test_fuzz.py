"""Property-based run of the whole API from its own OpenAPI document (schemathesis): whatever
an all-powerful caller sends, the answer is never a server error."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings

from .helpers import api_app, book  # noqa: TID252

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

EXAMPLES = 15


def _fuzz(base_url: str, headers: dict[str, str], known: dict[str, object]) -> list[str]:
    """Run every operation in both modes; return the labels of those that were exercised."""
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    done = []
    for result in schema.get_all_operations():
        operation = result.ok()
        fixed = {k: v for k, v in known.items() if "{" + k + "}" in operation.path}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
            def run(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(base_url=base_url, headers=headers, checks=[not_a_server_error])

            run()
        done.append(operation.label)
    return done


@pytest.mark.timeout(120)
async def test_no_request_makes_the_api_fail(runtime, dialogue, admin):
    booking = await book(dialogue, runtime)
    server = TestServer(api_app(runtime), host="127.0.0.1")
    await server.start_server()
    try:
        base_url = str(server.make_url("")).rstrip("/")
        known = {"number": booking.number, "user_id": booking.channel_user_id}
        done = await asyncio.to_thread(_fuzz, base_url, admin, known)
    finally:
        await server.close()
    assert len(done) >= 29

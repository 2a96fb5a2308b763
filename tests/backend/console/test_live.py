"""The live inbox over HTTP: server-sent events of a conversation and of the 转人工 queue, the
first-response timer, canned replies filled in for the conversation, internal notes."""
from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from backend.models import AuditEntry, ConversationNote, Notification
from tests.backend.console.conftest import Staff
from tests.conftest import Dialogue


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("backend.console.live.POLL_SECONDS", 0.05)


async def _events(response: Any, wanted: int, timeout: float = 10) -> list[tuple[str, dict[str, Any]]]:
    """Read server-sent events (event name and JSON data) until ``wanted`` of them arrived."""
    found: list[tuple[str, dict[str, Any]]] = []
    event, data = "message", ""

    async def read() -> None:
        nonlocal event, data
        async for raw in response.content:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif not line and data:
                found.append((event, json.loads(data)))
                event, data = "message", ""
                if len(found) >= wanted:
                    return

    await asyncio.wait_for(read(), timeout)
    return found


async def _waiting_family(runtime: Any, user_id: str = "family-zhang") -> Dialogue:
    family = Dialogue(runtime.engine, user_id=user_id)
    await family.intake(until="address")
    await family.say("转人工")
    return family


async def _conversation_id(client: Any) -> str:
    page = await (await client.get("/console/")).text()
    return re.search(r'href="/console/conversations/(\d+)">查看', page).group(1)  # type: ignore[union-attr]


async def test_a_new_family_message_is_pushed_to_the_conversation_page(as_staff: Staff, client, runtime):
    family = await _waiting_family(runtime)
    await as_staff.login("li.hotline")
    user_id = await _conversation_id(client)
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    after = re.search(r'data-live="/console/conversations/\d+/events\?after=(\d+)"', page).group(1)  # type: ignore[union-attr]
    response = await client.get(f"/console/conversations/{user_id}/events", params={"after": after})
    assert response.status == 200 and response.content_type == "text/event-stream"
    await family.say("我妈妈的伤口有点渗液")
    events = await _events(response, 2)
    response.close()
    assert [name for name, _ in events] == ["message", "message"]
    assert events[0][1]["from_family"] and "我妈妈的伤口有点渗液" in events[0][1]["html"]
    assert not events[1][1]["from_family"] and 'class="msg out"' in events[1][1]["html"]
    async with runtime.sessions() as session:
        followed = (await session.execute(select(AuditEntry).where(
            AuditEntry.action == "pii.transcript_followed"))).scalar_one()
    assert followed.actor == "li.hotline"


async def test_the_conversation_stream_says_when_someone_takes_it_over(as_staff: Staff, client, runtime):
    await _waiting_family(runtime)
    await as_staff.login("li.hotline")
    user_id = await _conversation_id(client)
    last = 10_000  # past every message: only the change of holder is news
    response = await client.get(f"/console/conversations/{user_id}/events", params={"after": last})
    await asyncio.sleep(0.2)
    await as_staff.post(f"/console/conversations/{user_id}/take-over")
    events = await _events(response, 1)
    response.close()
    assert events == [("holder", {"holder": "李敏"})]


async def test_streams_need_a_session_and_a_known_conversation(as_staff: Staff, client, runtime):
    anonymous = await client.get("/console/events", allow_redirects=False)
    assert anonymous.status == 303 and "/console/login" in anonymous.headers["Location"]
    await as_staff.login("li.hotline")
    assert (await client.get("/console/conversations/999/events")).status == 404


async def test_the_queue_stream_sends_the_queue_when_it_changes_with_its_timer(as_staff: Staff, client, runtime,
                                                                               clock):
    await as_staff.login("li.hotline")
    response = await client.get("/console/events")
    first = await _events(response, 1)
    assert first[0][0] == "queue" and first[0][1]["waiting"] == []
    with pytest.raises(TimeoutError):  # nothing changed: nothing sent
        await _events(response, 1, timeout=0.4)
    await _waiting_family(runtime)
    (name, joined), = await _events(response, 1)
    assert name == "queue" and len(joined["waiting"]) == 1
    assert "张丽（女儿）" in joined["html"] and 'class="sla-ok"' in joined["html"]
    clock.advance(timedelta(minutes=6))
    (_, amber), = await _events(response, 1)
    assert 'class="sla-amber"' in amber["html"] and "即将超时" in amber["html"]
    clock.advance(timedelta(minutes=10))
    (_, red), = await _events(response, 1)
    response.close()
    assert 'class="sla-red"' in red["html"] and "已超时" in red["html"]


async def test_canned_replies_are_filled_in_for_the_conversation(as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake()
    await as_staff.login("li.hotline")
    found = await (await client.get("/console/conversations", params={"q": "王秀英"})).text()
    user_id = re.search(r'/console/conversations/(\d+)"', found).group(1)  # type: ignore[union-attr]
    await as_staff.post(f"/console/conversations/{user_id}/take-over")
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    options = dict(re.findall(r'<option value="\d+" data-text="([^"]+)">([^<]+)</option>', page))
    texts = {title: text for text, title in options.items()}
    assert texts["问候"] == "您好，我是人工客服李敏，请问有什么可以帮您？"
    assert re.fullmatch(r"王秀英的上门时间是\d+月\d+日（周.）\d\d:\d\d–\d\d:\d\d，护士出发前会电话联系在场家属。",
                        texts["确认上门时间"]), texts["确认上门时间"]
    assert "010-00000000" in texts["稍后回电"]


async def test_canned_replies_speak_the_family_language_and_know_what_is_missing():
    from backend.canned import filled

    english = {r.title: r.text for r in filled("en", staff_name="Li Min", hotline="010-1")}
    assert english["确认上门时间"] == ("The visit for the patient is on (visit time to be arranged); the nurse will "
                                    "call the family member present before setting out.")


async def test_a_canned_reply_with_an_unknown_variable_is_refused_at_load(tmp_path, monkeypatch):
    from pydantic import ValidationError

    from backend import config
    from backend.settings import get_settings

    (tmp_path / "canned_replies.yaml").write_text(
        'replies: [{title: x, zh: "{patient}您好", en: "hello"}]', encoding="utf-8")
    monkeypatch.setenv("JIAHU_CONFIG_DIR", str(tmp_path))
    get_settings.cache_clear()
    config.reload()
    with pytest.raises(ValidationError, match="unknown variables"):
        config.canned_replies()
    get_settings.cache_clear()
    config.reload()


async def test_an_internal_note_stays_inside(as_staff: Staff, client, runtime):
    await _waiting_family(runtime)
    await as_staff.login("li.hotline")
    user_id = await _conversation_id(client)
    done = await as_staff.post(f"/console/conversations/{user_id}/notes", note="家属下午不方便接电话")
    assert done.status == 303 and done.headers["Location"].endswith("?ok=noted#notes")  # the note before the fragment
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    notes = page[page.index('aria-label="内部备注"'):].split("</ul>")[0]
    assert "家属下午不方便接电话" in notes and "李敏" in notes
    assert (await client.post(f"/console/conversations/{user_id}/notes", data={"note": "x"})).status == 403
    assert (await as_staff.post("/console/conversations/999/notes", note="x")).status == 404
    async with runtime.sessions() as session:
        stored = (await session.execute(select(ConversationNote))).scalar_one()
        raw = (await session.execute(text("SELECT text FROM conversation_notes"))).scalar_one()
        told = list((await session.execute(select(Notification.text))).scalars())
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert stored.text == "家属下午不方便接电话" and "家属下午" not in raw  # encrypted at rest
    assert not any("不方便接电话" in (said or "") for said in told)
    assert "conversation.note_added" in actions


async def test_notes_through_the_api_are_the_console_notes(runtime):
    from aiohttp.test_utils import TestClient, TestServer

    from tests.backend.api.helpers import api_app, make_token

    await _waiting_family(runtime)
    writer = await make_token(runtime, "hotline-app", "transcripts:read", "transcripts:write")
    reader = await make_token(runtime, "his", "bookings:read")
    async with TestClient(TestServer(api_app(runtime), host="127.0.0.1")) as client:
        added = await client.post("/api/conversations/1/notes", json={"text": "请明早先回电"}, headers=writer)
        assert added.status == 201 and (await added.json())["author"] == "token:hotline-app"
        assert (await client.post("/api/conversations/1/notes", json={"text": ""}, headers=writer)).status == 400
        assert (await client.post("/api/conversations/99/notes", json={"text": "x"}, headers=writer)).status == 404
        assert (await client.get("/api/conversations/1/notes", headers=reader)).status == 403
        listed = await (await client.get("/api/conversations/1/notes", headers=writer)).json()
    assert [note["text"] for note in listed["notes"]] == ["请明早先回电"]
    async with runtime.sessions() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert "conversation.note_added" in actions and "pii.notes_viewed" in actions

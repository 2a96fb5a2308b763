"""A voice message without WeChat's recognition (issue #16): its AMR file is fetched from
WeChat at once, converted, read by the configured engine (a fake vosk-server speaking the real
protocol) and reaches the flow as text, after telling the family what was heard."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.types import Inbound
from tests.bot.speech.audio import spoken_amr
from tests.bot.speech.conftest import FakeEngine, engine  # noqa: F401 - the fixture

from .fakes import Family  # noqa: TID252


@pytest.fixture
def vosk(runtime: Any, engine: FakeEngine) -> FakeEngine:  # noqa: F811
    runtime.settings.asr_vosk_url = engine.url  # before the app is made
    return engine


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_a_voice_message_without_recognition_is_heard_and_acted_on(
        runtime: Any, vosk: FakeEngine, fake_wechat: Any, family: Family, tmp_path: Path, safe: bool) -> None:
    family.safe = safe
    fake_wechat.media["VOICE_MEDIA_ID"] = (spoken_amr("我想预约上门护理", tmp_path), "audio/amr")
    seen: list[Inbound] = []
    handle = runtime.engine.handle

    async def spy(inbound: Inbound) -> Any:
        seen.append(inbound)
        return await handle(inbound)

    runtime.engine.handle = spy
    answer = await family.send(family.voice(None))
    assert answer.index("我听到的是：“我想预约上门护理”") < answer.index("个人信息处理告知")
    assert [(i.kind, i.text) for i in seen] == [("voice", "我想预约上门护理")]
    assert "/cgi-bin/media/get" in fake_wechat.calls and len(vosk.audio[0]) > 16000  # > 0.5 s heard


async def test_without_an_engine_the_family_is_asked_to_say_it_again(runtime: Any, fake_wechat: Any,
                                                                     family: Family) -> None:
    assert "没能听清" in await family.send(family.voice(None))
    assert "/cgi-bin/media/get" not in fake_wechat.calls

"""A whole intake over the WeChat endpoint: from following the account to a booking number."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HAPPY_PATH, png_bytes

from .fakes import Family  # noqa: TID252


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_full_intake_from_subscribe_to_booking_number(fake_wechat: Any, family: Family,
                                                            safe: bool) -> None:
    family.safe = safe
    fake_wechat.media["ID_CARD"] = (png_bytes(), "image/jpeg")
    fake_wechat.media["record.png"] = (png_bytes((80, 60)), "image/png")
    answer = await family.send(family.event("subscribe"))
    assert "预约上门护理" in answer
    for name, message, expected in HAPPY_PATH:
        if message == "<id-card>":
            xml = family.image("ID_CARD", "http://mmbiz.qpic.cn/unused")
        elif message == "<record>":
            xml = family.image("MEDIA_EXPIRED", f"{fake_wechat.url}/pic/record.png")
        else:
            xml = family.text(message)
        answer = await family.send(xml)
        assert expected in answer, f"at {name}: after {message!r} expected {expected!r} in:\n{answer}"
    assert all(len(m["text"]["content"].encode()) <= 2048 for m in fake_wechat.sent)

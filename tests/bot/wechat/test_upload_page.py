"""File messages on WeChat (issue #16): an official account cannot receive a PDF, so the family
is told what works — photos of each page, or the upload page behind a signed link, which takes
PDFs and photos into the same intake (the replies follow in the chat)."""
from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from backend.models import Upload
from tests.conftest import HAPPY_PATH, png_bytes
from tests.flows.test_intake import MINIMAL_PDF

from .fakes import PUBLIC_URL, Family  # noqa: TID252
from .samples import FILE, from_family  # noqa: TID252


def _link(answer: str) -> str:
    found = re.search(re.escape(PUBLIC_URL) + r"(/u/\d+\?exp=\d+&sig=[\w-]+)", answer)
    assert found, answer
    return found.group(1)


@pytest.mark.parametrize("safe", [False, True], ids=["plain", "safe"])
async def test_a_file_message_is_answered_with_what_works(runtime: Any, family: Family, safe: bool) -> None:
    family.safe = safe
    await family.send(family.event("subscribe"))
    answer = await family.send(from_family(FILE, family.openid))
    assert "拍成照片" in answer and "无法处理这种消息" not in answer
    assert (await family.client.get(_link(answer))).status == 200


async def test_the_upload_page_takes_pdfs_and_photos_into_the_intake(runtime: Any, fake_wechat: Any,
                                                                     client: Any, family: Family) -> None:
    fake_wechat.media["ID_CARD"] = (png_bytes(), "image/jpeg")
    await family.send(family.event("subscribe"))
    for name, message, _ in HAPPY_PATH:
        if name == "upload_records":
            break
        await family.send(family.image("ID_CARD") if message == "<id-card>" else family.text(message))
    link = _link(await family.send(from_family(FILE, family.openid)))

    page = await client.get(link)
    html = await page.text()
    assert page.status == 200 and 'type="file"' in html and "上传资料" in html
    form = aiohttp.FormData()
    form.add_field("file", MINIMAL_PDF, filename="出院小结.pdf", content_type="application/pdf")
    form.add_field("file", png_bytes((80, 60)), filename="wound.png", content_type="image/png")
    response = await client.post(link, data=form)
    assert response.status == 200 and "已收到 2 个文件" in await response.text()
    assert "已收到第2份资料" in "\n".join(fake_wechat.texts(family.openid))  # replies in the chat
    async with runtime.sessions() as session:
        kinds = (await session.execute(select(Upload.content_type).where(
            Upload.kind == "medical_record").order_by(Upload.id))).scalars().all()
    assert kinds == ["application/pdf", "image/png"]
    assert "进食" in await family.send(family.text("完成"))  # the intake goes on in WeChat


async def test_a_forged_or_expired_link_is_refused(runtime: Any, client: Any, family: Family, clock: Any) -> None:
    from datetime import timedelta

    await family.send(family.event("subscribe"))
    link = _link(await family.send(from_family(FILE, family.openid)))
    assert (await client.get(link.replace("sig=", "sig=x"))).status == 403
    assert (await client.get(re.sub(r"/u/\d+", "/u/999", link))).status == 403
    clock.advance(timedelta(hours=25))
    assert (await client.get(link)).status == 403
    assert (await client.post(link, data={"file": "x"})).status == 403

"""What a channel hands the engine. Text longer than ``MAX_TEXT`` characters is cut before the
engine (and its NLU) sees it, and the family is told politely: understanding a 200,000-character
message would hold the event loop for seconds, and no family writes that much in one message.
Files are made safe first (``backend.sanitize``): photos re-encoded, decompression bombs and
PDFs with active content refused with a word on why."""
from __future__ import annotations

import dataclasses

import structlog

from backend import sanitize
from backend.crypto import mask
from flows.engine import Engine
from flows.types import Inbound, Media, Outbound

log = structlog.get_logger(__name__)

MAX_TEXT = 2000
TOO_LONG = {
    "zh": f"您的消息太长了，我只读了前 {MAX_TEXT} 个字。内容较多时，请分几条发送，或说“转人工”。",
    "en": f"Your message was very long; I read only its first {MAX_TEXT} characters. Please send "
          "long texts in several messages, or say “human” to talk to a person.",
}
REFUSED = {
    "zh": {"image_too_large": "这张图片的像素太多，无法接收。请直接用手机拍一张照片发送。",
           "image_unreadable": "这张图片无法读取。请发送JPG或PNG格式的照片。",
           "pdf_active": "出于安全原因，这个PDF无法接收（它包含脚本、附件或启动程序的动作）。"
                         "请发送普通的PDF，或把每一页拍成照片发送。",
           "pdf_unreadable": "这个PDF无法读取（可能已损坏或设有密码）。请把每一页拍成照片发送。"},
    "en": {"image_too_large": "This picture has too many pixels to accept. Please send a photo "
                              "taken with your phone.",
           "image_unreadable": "This picture cannot be read. Please send a JPG or PNG photo.",
           "pdf_active": "For safety this PDF cannot be accepted (it contains scripts, attached files "
                         "or actions that start programs). Please send a plain PDF, or photos of its pages.",
           "pdf_unreadable": "This PDF cannot be read (it may be damaged or protected by a password). "
                             "Please send photos of its pages."},
}


def _language(inbound: Inbound) -> str:
    return "en" if (inbound.language or "").startswith("en") else "zh"


async def _safe_media(inbound: Inbound) -> tuple[Inbound, list[Outbound]]:
    """The inbound with its files made safe, and a polite word for each file refused."""
    if not inbound.media:
        return inbound, []
    kept: list[Media] = []
    notes: list[Outbound] = []
    for media in inbound.media:
        try:
            data = await sanitize.clean_media(media.data)
        except sanitize.Refused as refused:
            log.info("inbound.file_refused", channel=inbound.channel, user=mask(inbound.user_id),
                     reason=refused.reason)
            notes.append(Outbound.say(REFUSED[_language(inbound)][refused.reason]))
            continue
        kept.append(media if data is media.data else dataclasses.replace(media, data=data))
    return dataclasses.replace(inbound, media=kept), notes


async def handle(engine: Engine, inbound: Inbound) -> list[Outbound]:
    """The engine's replies to ``inbound``: its text cut to ``MAX_TEXT`` first when longer, its
    files made safe (a refused file is taken out, and the family told why)."""
    inbound, notes = await _safe_media(inbound)
    if inbound.text is not None and len(inbound.text) > MAX_TEXT:
        log.info("inbound.too_long", channel=inbound.channel, user=mask(inbound.user_id),
                 length=len(inbound.text))
        notes.append(Outbound.say(TOO_LONG[_language(inbound)]))
        inbound = dataclasses.replace(inbound, text=inbound.text[:MAX_TEXT])
    replies = await engine.handle(inbound)
    if not replies:  # a redelivery, or a member of staff has taken the conversation over
        return replies
    return [*notes, *replies]

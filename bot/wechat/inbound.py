"""WeChat's pushed XML (parsed by wechatpy) turned into one ``Inbound``."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from wechatpy.events import BaseEvent
from wechatpy.messages import BaseMessage

from flows.types import Inbound, Location, Media

log = structlog.get_logger(__name__)

CHANNEL = "wechat"
UNSUPPORTED_TYPES = frozenset({"video", "shortvideo", "link", "file", "miniprogrampage", "music"})
SUBSCRIBE_EVENTS = frozenset({"subscribe", "subscribe_scan"})

FetchImage = Callable[[BaseMessage], Awaitable[Media | None]]


def raw(message: BaseMessage) -> dict[str, str]:
    """The message's fields as WeChat sent them (``MsgType``, ``Event``, ``EventKey`` ...)."""
    return message._data  # type: ignore[no-any-return]  # wechatpy keeps the parsed XML here


def message_key(message: BaseMessage) -> str:
    """The id WeChat retries under: ``MsgId``, or sender, time and event for events."""
    data = raw(message)
    if data.get("MsgId"):
        return str(data["MsgId"])
    return f"{data.get('FromUserName', '')}:{data.get('CreateTime', '')}:{data.get('Event', '')}"


def is_answerable(message: BaseMessage) -> bool:
    """False for pushes that need no turn: menu link views, location reports, job results."""
    if not isinstance(message, BaseEvent):
        return True
    event = raw(message).get("Event", "").lower()
    return event in SUBSCRIBE_EVENTS or event in ("unsubscribe", "click")


async def to_inbound(message: BaseMessage, fetch_image: FetchImage) -> Inbound:
    """The ``Inbound`` for one message; an image's file is fetched with ``fetch_image``."""
    data = raw(message)
    inbound = Inbound(channel=CHANNEL, user_id=str(data.get("FromUserName", "")),
                      message_id=message_key(message), retry_expects_answer=True)
    msg_type = str(data.get("MsgType", "")).lower()
    if isinstance(message, BaseEvent) or msg_type == "event":
        event = str(data.get("Event", "")).lower()
        inbound.kind = "event"
        if event in SUBSCRIBE_EVENTS:
            inbound.event = "subscribe"
        elif event == "unsubscribe":
            inbound.event = "unsubscribe"
        elif event == "click":
            inbound.event = f"menu:{data.get('EventKey', '')}"
        else:
            inbound.event = event
        return inbound
    inbound.kind = msg_type
    if msg_type == "text":
        inbound.text = str(data.get("Content", ""))
    elif msg_type == "image":
        media = await fetch_image(message)
        inbound.media = [media] if media is not None else []
    elif msg_type == "voice":
        inbound.text = (data.get("Recognition") or "").strip() or None
    elif msg_type == "location":
        try:
            inbound.location = Location(latitude=float(data.get("Location_X", 0)),
                                        longitude=float(data.get("Location_Y", 0)),
                                        label=data.get("Label") or None)
        except (TypeError, ValueError):  # not numbers: answered like any message we cannot read
            log.info("wechat.location.unreadable")
            inbound.kind = "unsupported"
    else:
        if msg_type not in UNSUPPORTED_TYPES:
            log.info("wechat.message.unknown_type", msg_type=msg_type)
        inbound.kind = "unsupported"
    return inbound

"""WeChat's pushed XML (parsed by wechatpy) turned into one ``Inbound``."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import structlog
from wechatpy.events import BaseEvent
from wechatpy.messages import BaseMessage

from flows.types import Inbound, Location, Media

log = structlog.get_logger(__name__)

CHANNEL = "wechat"
UNSUPPORTED_TYPES = frozenset({"video", "shortvideo", "link", "file", "miniprogrampage", "music"})
SUBSCRIBE_EVENTS = frozenset({"subscribe", "subscribe_scan"})

FetchImage = Callable[[BaseMessage], Awaitable[Media | None]]
Hear = Callable[[BaseMessage], Awaitable[str | None]]


def raw(message: BaseMessage) -> dict[str, str]:
    """The message's fields as WeChat sent them (``MsgType``, ``Event``, ``EventKey`` ...)."""
    return message._data  # type: ignore[no-any-return]  # wechatpy keeps the parsed XML here


def message_key(message: BaseMessage) -> str:
    """The id WeChat retries under: ``MsgId``, or sender, time and event for events."""
    data = raw(message)
    if data.get("MsgId"):
        return str(data["MsgId"])
    return f"{data.get('FromUserName', '')}:{data.get('CreateTime', '')}:{data.get('Event', '')}"


QUIET_EVENTS = frozenset({"view", "view_miniprogram", "location", "templatesendjobfinish"})
"""Pushes that need no turn and no record: menu link views, location reports every few
seconds, template delivery receipts."""
SUBSCRIPTION_EVENTS = {  # 订阅通知: what the family chose, and how a notification went
    "subscribe_msg_popup_event": ("SubscribeMsgPopupEvent", "SubscribeStatusString"),
    "subscribe_msg_change_event": ("SubscribeMsgChangeEvent", "SubscribeStatusString"),
    "subscribe_msg_sent_event": ("SubscribeMsgSentEvent", "ErrorStatus"),
}


def is_answerable(message: BaseMessage) -> bool:
    """False for the quiet pushes; every other event is recorded (most without a reply)."""
    data = raw(message)
    if str(data.get("MsgType", "")).lower() != "event":
        return True
    return str(data.get("Event", "")).lower() not in QUIET_EVENTS


def _subscription_choices(data: Mapping[str, object], event: str) -> str:
    """"TEMPLATE_ID:accept, OTHER_ID:reject" from a subscription event's ``List`` (one or several)."""
    element, status = SUBSCRIPTION_EVENTS[event]
    container = data.get(element)
    items = container.get("List") if isinstance(container, dict) else None
    if isinstance(items, dict):
        items = [items]
    return ", ".join(f"{item.get('TemplateId', '')}:{item.get(status, '')}"
                     for item in items or [] if isinstance(item, dict))


async def to_inbound(message: BaseMessage, fetch_image: FetchImage, hear: Hear | None = None) -> Inbound:
    """The ``Inbound`` for one message; an image's file is fetched with ``fetch_image``, a voice
    message without WeChat's recognition is transcribed with ``hear``."""
    data = raw(message)
    inbound = Inbound(channel=CHANNEL, user_id=str(data.get("FromUserName", "")),
                      message_id=message_key(message), retry_expects_answer=True)
    msg_type = str(data.get("MsgType", "")).lower()
    if isinstance(message, BaseEvent) or msg_type == "event":
        event = str(data.get("Event", "")).lower()
        inbound.kind = "event"
        if event in SUBSCRIBE_EVENTS:
            inbound.event = "subscribe"
        elif event == "scan":  # a follower scanned the account's QR code again: greet them
            inbound.event = "start"
        elif event == "unsubscribe":
            inbound.event = "unsubscribe"
        elif event == "click":
            inbound.event = f"menu:{data.get('EventKey', '')}"
        else:  # recorded, never read as a family's message (and never a miss)
            choices = _subscription_choices(data, event) if event in SUBSCRIPTION_EVENTS else ""
            inbound.event = f"notice:{event} {choices}".strip()
        return inbound
    inbound.kind = msg_type
    if msg_type == "text":
        inbound.text = str(data.get("Content", ""))
    elif msg_type == "image":
        media = await fetch_image(message)
        inbound.media = [media] if media is not None else []
    elif msg_type == "voice":
        inbound.text = (data.get("Recognition") or "").strip() or None
        if inbound.text is None and hear is not None:
            inbound.text = await hear(message)
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

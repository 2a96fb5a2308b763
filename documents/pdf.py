"""The sealed consent PDF: rendered with WeasyPrint, sealed with PAdES, imaged for WeChat.

One render produces the agreement and informed consent pages and the audit trail page as a
PDF/A-3u file; the hospital's seal is then added as an incremental PAdES update, so the sealed
file still carries the PDF/A metadata (pyHanko updates the XMP and Info dictionaries together).
"""
from __future__ import annotations

import gc
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pypdfium2

from backend import clock
from backend.config import hospital_config
from backend.settings import get_settings
from documents import render
from documents.consent import TEMPLATES, ConsentContext, content_sha256
from documents.seal import Sealer, current_sealer, timestamp_of

PDF_VARIANT = "pdf/a-3u"
ID_KEYWORD_PREFIX = "jiahu-consent-id:"
PAGE_IMAGE_SCALE = 1.5  # 108 dpi: A4 becomes 893 × 1263 px, legible on a phone
PNG_ENCODERS = 2  # threads encoding page images

_CHANNELS = {
    "zh": {"wechat": "微信公众号", "telegram": "Telegram", "terminal": "终端（测试）",
           "web": "网页链接", "tryout": "体验页面（网页）"},
    "en": {"wechat": "WeChat Official Account", "telegram": "Telegram",
           "terminal": "terminal (test)", "web": "web link", "tryout": "try-out page (web)"},
}
_EVENTS = {
    "zh": {"created": "文书生成", "sent": "发送给申请人", "opened": "通过链接打开",
           "signed": "申请人签署", "sealed": "医院加盖电子签章", "full_text_shown": "打开协议全文"},
    "en": {"created": "Created", "sent": "Sent to applicant", "opened": "Opened via link",
           "signed": "Signed", "sealed": "Sealed by hospital", "full_text_shown": "Full text opened"},
}
_SEAL_PURPOSE = {False: "居家护理专用章", True: "开发测试章"}  # a seal is in Chinese


@dataclass(frozen=True)
class SealedConsent:
    """A sealed consent document and what the flows send or store of it."""

    pdf: bytes
    sha256: str  # of the sealed file, as stored in ``Consent.pdf_sha256``
    content_sha256: str  # of the filled-in values (documents.consent.content_sha256)
    pages: list[bytes]  # PNG images of every page, for channels that cannot send files
    development_seal: bool
    timestamp: datetime | None = None  # the TSA's time of the seal (PAdES B-T), if configured


def render_and_seal(context: ConsentContext, *, with_pages: bool = True) -> SealedConsent:
    """Render, seal and image one consent (blocking: call from a worker thread)."""
    sealer = current_sealer()
    context = replace(context, development_seal=sealer.development)
    content_digest = content_sha256(context)
    html = _render_html(context, content_digest, sealer)
    unsigned = render.write_pdf(html, stylesheets=[_stylesheet()], font_config=render.shared_font_config(),
                                base_url=str(TEMPLATES), pdf_variant=PDF_VARIANT,
                                user_agent_stylesheet=_user_agent_stylesheet())
    sealed = sealer.seal(unsigned)
    pages = page_images(sealed) if with_pages else []
    return SealedConsent(pdf=sealed, sha256=hashlib.sha256(sealed).hexdigest(),
                         content_sha256=content_digest, pages=pages,
                         development_seal=sealer.development,
                         timestamp=timestamp_of(sealed) if get_settings().tsa_url else None)


async def produce_sealed_consent(context: ConsentContext) -> SealedConsent:
    """Render and seal a consent in the rendering process (documents/render.py), so that
    neither a chat turn nor the event loop waits on it."""
    return await render.in_worker(render_and_seal, context)


def warm_up() -> None:
    """Load what the first consent needs (fonts, stylesheet, the seal) by making one; then keep
    what is loaded out of garbage collection (``gc.freeze``), as it lives as long as the process
    (bot/runtime.settle_heap does the same for the server)."""
    from documents.sample import sample_context

    render_and_seal(sample_context("zh"), with_pages=False)
    gc.collect()
    gc.freeze()


def agreement_html(context: ConsentContext, *, download: tuple[str, str] | None = None) -> str:
    """The whole agreement as a web page a family reads on a phone: the same template as the
    PDF, text that reflows to the screen. Before signing the seal block shows the seal as it
    will be applied; after sealing ``download`` (label, link) puts the sealed PDF's link on top."""
    sealer = current_sealer()
    context = replace(context, development_seal=sealer.development)
    html = _render_html(context, content_sha256(context), sealer)
    phone = ('<meta name="viewport" content="width=device-width, initial-scale=1">'
             "<style>body{font:17px/1.6 'Noto Sans CJK SC',sans-serif;margin:16px;max-width:44em}"
             "table{border-collapse:collapse;width:100%;table-layout:auto}td,th{border:1px solid #ccc;"
             "padding:4px;vertical-align:top;overflow-wrap:anywhere}.running,.devseal-watermark{display:none}"
             ".download{position:sticky;top:0;margin:0 -16px 12px;padding:10px 16px;background:#f4f8f5;"
             "border-bottom:1px solid #cfe3d6}.download a{display:block;padding:10px;text-align:center;"
             "color:#fff;background:#07a35a;border-radius:6px;text-decoration:none;font-weight:bold}"
             "table.signatures,table.signatures tr,table.signatures td{display:block;width:auto}"
             ".seal{position:static;display:block;width:30mm;height:30mm;margin-top:8px}"
             "table.signatures td.party:first-child .line{margin-right:0}"
             "h1{font-size:1.45em;line-height:1.3}th{text-align:left;background:#f4f4f4}"
             "li{list-style:none}li>.n{display:inline-block;min-width:1.4em;margin-left:-1.4em}"
             # label above value: two columns of labels and values do not fit a phone's width
             "table.fields,table.fields tbody,table.fields tr,table.fields th,table.fields td"
             "{display:block;width:auto;border:none}table.fields tr{border-bottom:1px solid #ddd;"
             "padding:4px 0}table.fields th{background:none;padding:2px 0 0;font-size:.85em;color:#555}"
             "table.fields td{padding:0 0 2px}"
             ".devseal-banner{border:1px dashed #b00000;color:#b00000;padding:6px 10px}</style>")
    html = html.replace("</head>", phone + "</head>", 1)
    if download is not None:
        label, link = download
        bar = f'<p class="download"><a href="{escape(link)}" download>{escape(label)}</a></p>'
        html = html.replace("<body>", "<body>" + bar, 1)
    return html


def page_images(pdf: bytes, scale: float = PAGE_IMAGE_SCALE) -> list[bytes]:
    """Every page as a PNG (pdfium), for WeChat, which cannot send a PDF to a chat.

    pdfium draws the pages one after the other (it is not thread-safe); Pillow encodes them in
    threads, which it does without holding the GIL, at zlib level 3: for the consent's pages a
    third faster than Pillow's default level 6, and a fifth smaller."""
    document = pypdfium2.PdfDocument(pdf)
    bitmaps = []
    try:
        for page in document:
            bitmaps.append(page.render(scale=scale))
            page.close()
        images = [bitmap.to_pil() for bitmap in bitmaps]
        with ThreadPoolExecutor(max_workers=PNG_ENCODERS) as pool:
            return list(pool.map(_png, images))
    finally:
        for bitmap in bitmaps:
            bitmap.close()
        document.close()


def _png(image: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def _stylesheet() -> Any:
    from weasyprint import CSS

    return CSS(filename=str(TEMPLATES / "consent.css"), font_config=render.shared_font_config())


@lru_cache(maxsize=1)
def _user_agent_stylesheet() -> Any:
    from weasyprint import CSS

    return CSS(filename=str(TEMPLATES / "consent_ua.css"))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              undefined=jinja2.StrictUndefined, autoescape=True)


def _render_html(context: ConsentContext, content_digest: str, sealer: Sealer) -> str:
    template = _environment().get_template(f"consent.{context.language}.html.j2")
    return template.render(c=context, v=_view(context, content_digest, sealer),
                           seal=_seal_view(context, sealer))


def _view(context: ConsentContext, content_digest: str, sealer: Sealer) -> dict[str, Any]:
    """What the template shows besides the context: times, labels, the seal's certificate."""
    lang = context.language
    tz = ZoneInfo(hospital_config().schedule.timezone)
    sealed_at = clock.now()
    events = list(context.events)
    if not any(e.get("event") == "sealed" for e in events):
        events.append({"event": "sealed", "at": sealed_at.isoformat(),
                       "by": sealer.common_name})
    for e in events:
        if e.get("event") == "sealed":
            sealed_at = _as_datetime(e["at"])
    return {
        "id_keyword": f"{ID_KEYWORD_PREFIX}{context.document_id}",
        "money": _money,
        "content_sha256": content_digest,
        "channel": _CHANNELS[lang].get(context.channel, context.channel or "—"),
        "signed_at": _local(context.signed_at, tz, lang) if context.signed_at else "",
        "signed_date": (context.signed_at.astimezone(tz).strftime(
            "%Y年%m月%d日" if lang == "zh" else "%d %B %Y") if context.signed_at else ""),
        "sealed_at": _local(sealed_at, tz, lang),
        "tz_label": _tz_label(tz, lang),
        "events": [_event_row(e, tz, context) for e in events],
        "cert_subject": sealer.subject,
        "cert_serial": sealer.serial,
        "cert_not_after": _local(sealer.not_after, tz, lang),
        "pades_level": "B-T" if get_settings().tsa_url else "B-B",
        "full_text_opened": [_local(_as_datetime(e["at"]), tz, lang) for e in events
                             if e.get("event") == "full_text_shown"],
    }


def _event_row(event: dict[str, Any], tz: ZoneInfo, context: ConsentContext) -> dict[str, str]:
    lang, kind = context.language, str(event.get("event", ""))
    details = []
    for key in ("by", "channel", "ip", "note"):
        if event.get(key):
            value = str(event[key])
            details.append(_CHANNELS[lang].get(value, value) if key == "channel" else value)
    if kind in ("sent", "signed", "opened") and not event.get("channel") and context.channel:
        details.append(_CHANNELS[lang].get(context.channel, context.channel))
    return {"label": _EVENTS[lang].get(kind, kind), "at": _local(_as_datetime(event["at"]), tz, lang),
            "detail": " · ".join(details) or "—"}


def _seal_view(context: ConsentContext, sealer: Sealer) -> dict[str, Any]:
    """The hospital's name set round the top of the seal, one upright character at a time."""
    name = context.hospital.name_zh
    step = min(30.0, 250.0 / max(len(name) - 1, 1))
    first = -step * (len(name) - 1) / 2
    ring = [(char, round(first + i * step, 2)) for i, char in enumerate(name)]
    size = 26 if len(name) <= 10 else max(14, int(260 / len(name)))
    return {"ring": ring, "ring_size": size, "ring_y": 16 + size,
            "purpose": _SEAL_PURPOSE[sealer.development]}


def _as_datetime(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _local(moment: datetime, tz: ZoneInfo, lang: str) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _tz_label(tz: ZoneInfo, lang: str) -> str:
    offset = clock.now().astimezone(tz).strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    if lang == "zh":
        return f"北京时间 {utc}" if tz.key == "Asia/Shanghai" else f"{tz.key} {utc}"
    return f"{tz.key}, {utc}"


def _money(value: Decimal | int | float) -> str:
    return format(Decimal(value).quantize(Decimal("0.01")), ",")

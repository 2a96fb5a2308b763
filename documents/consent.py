"""What the consent agreement says, from the intake's data: shared by the chat summary and the PDF."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

from backend.config import Hospital, data_file

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class ServiceLine:
    code: str
    name: str
    price: Decimal
    risks: list[str]
    preparation: str


@dataclass
class ConsentContext:
    """Every filled-in value of one consent document."""

    document_id: str
    language: str
    template_version: str
    hospital: Hospital
    patient_name: str
    patient_id_masked: str
    patient_sex: str
    patient_age: int
    patient_address: str
    patient_district: str
    applicant_name: str
    applicant_relation: str
    present_name: str
    present_relation: str
    present_phone_masked: str
    services: list[ServiceLine]
    fees: dict[str, Decimal]
    total_price: Decimal
    visit: str = ""
    cancellation: str = ""  # the hospital's cancellation rules, as the family read them
    identity_checks: list[str] = field(default_factory=list)  # how the patient's identity was checked
    barthel_score: int | None = None
    barthel_grade: str = ""
    signer_name: str | None = None
    signed_at: datetime | None = None
    channel: str = ""
    channel_user_id: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    development_seal: bool = False


@lru_cache(maxsize=1)
def _service_texts() -> dict[str, dict[str, Any]]:
    """Risk and preparation blocks: the hospital's copy in ``JIAHU_CONFIG_DIR`` wins."""
    path = data_file("service_texts.yaml")
    if not path.exists():
        path = Path(__file__).with_name("data") / "service_texts.yaml"
    return yaml.safe_load(path.read_text("utf-8"))


def service_line(code: str, name: str, price: Decimal, lang: str) -> ServiceLine:
    """A service with its risks and preparation from the hospital's text blocks."""
    texts = _service_texts()
    block = texts.get(code) or texts["_default"]
    return ServiceLine(code=code, name=name, price=price, risks=list(block[f"risks_{lang}"]),
                       preparation=block[f"preparation_{lang}"])


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False,
                              autoescape=jinja2.select_autoescape(["html"]))


def consent_summary(context: ConsentContext) -> str:
    """The consent's key points as chat text (template ``consent_summary.<lang>.txt.j2``)."""
    template = _environment().get_template(f"consent_summary.{context.language}.txt.j2")
    return template.render(c=context).strip()


def _canonical(value: Any) -> Any:
    if isinstance(value, ServiceLine):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Hospital):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def content_sha256(context: ConsentContext) -> str:
    """SHA-256 of what the consent says: every filled-in value except the audit ``events``.

    The canonical form is JSON with sorted keys, UTF-8, no whitespace; decimals as plain strings
    and times in ISO 8601, so the hospital can recompute it from its records.
    """
    content = {f.name: _canonical(getattr(context, f.name)) for f in fields(context)
               if f.name != "events"}
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def context_to_dict(context: ConsentContext) -> dict[str, Any]:
    """A JSON-safe copy of the context, to hand the document to a background job."""
    data = {f.name: getattr(context, f.name) for f in fields(context)}
    data["hospital"] = context.hospital.model_dump()
    data["services"] = [{"code": s.code, "name": s.name, "price": str(s.price), "risks": s.risks,
                         "preparation": s.preparation} for s in context.services]
    data["fees"] = {k: str(v) for k, v in context.fees.items()}
    data["total_price"] = str(context.total_price)
    data["signed_at"] = context.signed_at.isoformat() if context.signed_at else None
    return data


def context_from_dict(data: dict[str, Any]) -> ConsentContext:
    values = dict(data)
    values["hospital"] = Hospital.model_validate(data["hospital"])
    values["services"] = [ServiceLine(code=s["code"], name=s["name"], price=Decimal(s["price"]),
                                      risks=list(s["risks"]), preparation=s["preparation"])
                          for s in data["services"]]
    values["fees"] = {k: Decimal(v) for k, v in data["fees"].items()}
    values["total_price"] = Decimal(data["total_price"])
    values["signed_at"] = datetime.fromisoformat(data["signed_at"]) if data.get("signed_at") else None
    return ConsentContext(**values)

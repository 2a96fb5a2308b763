"""What staff and systems may see of personal data (DOMAIN.md: 个人隐私和信息安全保护).

ID numbers are never shown in full. Phones are shown in full only to staff in a console
session, who call families and nurses; token callers (the hospital's system, the nurse's app)
see the last 4 digits.
"""
from __future__ import annotations

import re
from datetime import date

from backend.crypto import mask
from backend.models import Patient
from backend.web.auth import Principal

from .schemas import PatientOut

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def shows_phones(who: Principal) -> bool:
    return who.via == "session"


def phone_for(who: Principal, phone: str | None) -> str | None:
    if phone is None:
        return None
    return phone if shows_phones(who) else mask(phone, 4)


def redact(who: Principal, text: str | None) -> str | None:
    """Free text (a transcript line) with ID numbers masked, and phones for token callers."""
    if not text:
        return text
    text = _ID_NUMBER.sub(lambda m: mask(m.group(), 4), text)
    if not shows_phones(who):
        text = _MOBILE.sub(lambda m: mask(m.group(), 4), text)
    return text


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def patient_out(who: Principal, patient: Patient, today: date) -> PatientOut:
    return PatientOut(name=patient.name, sex=patient.sex, age=age_on(patient.birth_date, today),
                      id_number=mask(patient.id_number, 4), phone=phone_for(who, patient.phone),
                      district=patient.district)

"""Identity checks for the person served (DOMAIN.md: 服务对象身份认证)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from backend import clock

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


@dataclass(frozen=True)
class ResidentId:
    """A validated mainland resident identity card number and what it tells."""

    number: str
    birth_date: date
    sex: str  # "M" or "F"

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class IdNumberError(ValueError):
    """Why an ID number was refused: ``reason`` is one of length, format, checksum, birth_date."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_resident_id(text: str, today: date | None = None) -> ResidentId:
    """Validate an 18-digit resident ID with python-stdnum (checksum, birth date)."""
    compact = ric.compact(text.replace("x", "X"))
    try:
        number = ric.validate(compact)
    except InvalidLength as exc:
        raise IdNumberError("length") from exc
    except InvalidChecksum as exc:
        raise IdNumberError("checksum") from exc
    except InvalidComponent as exc:
        raise IdNumberError("birth_date") from exc
    except (InvalidFormat, ValidationError) as exc:
        raise IdNumberError("format") from exc
    if len(number) != 18:
        raise IdNumberError("length")
    birth = ric.get_birth_date(number)
    if birth > (today or clock.today()) or birth.year < 1900:
        raise IdNumberError("birth_date")
    sex = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number=number, birth_date=birth, sex=sex)


def normalize_phone(text: str) -> str | None:
    """A mainland mobile (11 digits) or landline with area code, or None when it is neither."""
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE.match(digits):
        return digits
    if _LANDLINE.match(digits):
        return digits
    return None

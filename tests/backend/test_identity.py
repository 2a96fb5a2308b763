from __future__ import annotations

from datetime import date

import pytest

from backend.identity import IdNumberError, normalize_phone, parse_resident_id


def test_valid_resident_id_gives_birth_date_sex_and_age():
    resident = parse_resident_id("11010519491231002x")
    assert resident.number == "11010519491231002X"
    assert resident.birth_date == date(1949, 12, 31) and resident.sex == "F"
    assert resident.age_on(date(2026, 11, 25)) == 76
    assert resident.age_on(date(2026, 12, 31)) == 77


@pytest.mark.parametrize(("number", "reason"), [
    ("1101051949123100", "length"),
    ("110105194912310021", "checksum"),
    ("110105194913310021", "birth_date"),
    ("110105203001010028", "birth_date"),
    ("11010519491231A02X", "format"),
])
def test_invalid_resident_ids_say_why(number, reason):
    with pytest.raises(IdNumberError) as error:
        parse_resident_id(number, today=date(2026, 11, 25))
    assert error.value.reason == reason


@pytest.mark.parametrize(("text", "expected"), [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"),
    ("+86 138-0013-8000", "13800138000"), ("010-12345678", "01012345678"),
    ("12345", None), ("23800138000", None), ("1380013800", None),
])
def test_phone_numbers(text, expected):
    assert normalize_phone(text) == expected

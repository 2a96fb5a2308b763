"""Entity extraction: every kind the flows read, with dates always read forward."""
from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from nlu.base import Parse
from nlu.entities import (
    extract_all,
    extract_dates,
    extract_districts,
    extract_id_numbers,
    extract_persons,
    extract_phones,
    extract_relations,
    extract_services,
    extract_time_of_day,
    relation_label,
)

TODAY = date(2026, 11, 25)  # a Wednesday


def _valid_id() -> str:
    body = "11010519491231002"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


@pytest.mark.parametrize(("text", "expected"), [
    ("明天下午", "2026-11-26"),
    ("后天", "2026-11-27"),
    ("大后天来吧", "2026-11-28"),
    ("下周三上午", "2026-12-02"),
    ("这周五", "2026-11-27"),
    ("周五", "2026-11-27"),
    ("星期三", "2026-12-02"),  # today is Wednesday: the next one, never today
    ("礼拜天", "2026-11-29"),
    ("11月25号", "2026-11-25"),
    ("11月20号", "2027-11-20"),  # already past this year: next year
    ("十二月三号", "2026-12-03"),
    ("3号", "2026-12-03"),
    ("28号上午", "2026-11-28"),
    ("next Wednesday", "2026-12-02"),
    ("tomorrow afternoon", "2026-11-26"),
    ("Nov 25", "2026-11-25"),
    ("on the 2nd of December", "2026-12-02"),
    ("friday", "2026-11-27"),
    ("in 3 days", "2026-11-28"),
    ("下个月五号", "2026-12-05"),  # jionlp fallback
])
def test_dates_are_the_next_such_day(text: str, expected: str) -> None:
    assert [e.value for e in extract_dates(text, TODAY)][:1] == [expected]


def test_no_date_in_plain_text() -> None:
    assert extract_dates("我想预约换药", TODAY) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("明天下午能来吗", "afternoon"), ("上午", "morning"), ("中午", "noon"),
    ("晚上七点", "evening"), ("tomorrow morning", "morning"), ("3pm", "afternoon"),
    ("早上9点", "morning"), ("10点", "morning"),
])
def test_time_of_day(text: str, expected: str) -> None:
    assert extract_time_of_day(text)[0].value == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("伤口要换药", ["wound_care"]), ("胃管该换了", ["nasogastric_tube"]),
    ("鼻饲管", ["nasogastric_tube"]), ("换尿管", ["urinary_catheter"]),
    ("PICC维护", ["picc_maintenance"]), ("有压疮", ["pressure_ulcer_care"]),
    ("抽血", ["blood_sampling"]), ("采血", ["blood_sampling"]), ("造口", ["stoma_care"]),
    ("做康复", ["rehab_guidance"]), ("艾灸和推拿", ["tcm_tuina"]),
    ("换药和抽血", ["wound_care", "blood_sampling"]), ("catheter change", ["urinary_catheter"]),
    ("输液", ["iv_first_dose"]),
])
def test_services(text: str, expected: list[str]) -> None:
    assert [e.value for e in extract_services(text)] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("我妈", "mother"), ("母亲", "mother"), ("俺娘刚出院", "mother"), ("老娘", "mother"),
    ("老爷子", "father"), ("父亲", "father"), ("外婆", "maternal_grandmother"),
    ("外孙女", "grandchild"), ("my mom", "mother"), ("老伴", "spouse"),
])
def test_relations(text: str, expected: str) -> None:
    assert extract_relations(text)[0].value == expected


def test_words_that_only_contain_a_relation() -> None:
    assert extract_relations("那个小姑娘") == []
    assert extract_relations("minimum") == []
    assert relation_label("maternal_grandmother", "zh") == "外祖母"


def test_phone() -> None:
    found = extract_phones("电话138 1234 5678，座机010-62345678")
    assert [e.value for e in found][:1] == ["13812345678"]


def test_valid_id_number() -> None:
    number = _valid_id()
    assert [e.value for e in extract_id_numbers(f"身份证{number}")] == [number]


def test_invalid_id_number_is_not_an_entity() -> None:
    number = _valid_id()
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    entities = extract_all(f"身份证号{bad}", TODAY)
    assert not [e for e in entities if e.entity == "id_number"]
    assert not [e for e in entities if e.entity in ("date", "phone")]


@pytest.mark.parametrize(("text", "expected"), [
    ("我叫王小明", "王小明"), ("我叫王小明想预约", "王小明"), ("老人叫李秀英，住朝阳", "李秀英"),
    ("患者姓名：欧阳娜娜", "欧阳娜娜"), ("我妈叫张桂兰今年82", "张桂兰"),
    ("my name is anna wu", "Anna Wu"), ("her name is Mary Chen and she is 80", "Mary Chen"),
])
def test_person(text: str, expected: str) -> None:
    assert [e.value for e in extract_persons(text)] == [expected]


def test_no_person_without_a_name() -> None:
    assert extract_persons("老人叫不醒") == []


@pytest.mark.parametrize(("text", "expected"), [
    ("住在朝阳", "朝阳区"), ("海淀区", "海淀区"), ("we live in Haidian", "海淀区"),
    ("石景山那边", "石景山区"),
])
def test_districts(text: str, expected: str) -> None:
    assert extract_districts(text)[0].value == expected


def test_extract_all_on_a_colloquial_message() -> None:
    parse = Parse("俺娘刚出院，伤口要换药，明天下午能来吗", "book_service", 0.9,
                  extract_all("俺娘刚出院，伤口要换药，明天下午能来吗", TODAY))
    assert parse.first("relation") == "mother"
    assert parse.values("service") == ["wound_care"]
    assert parse.first("date") == "2026-11-26"
    assert parse.first("time") == "afternoon"

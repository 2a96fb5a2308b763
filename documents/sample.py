"""A filled-in consent from invented data, for ``jiahu consent sample``, the bench and the tests."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from backend.config import catalogue, hospital_config
from documents.consent import ConsentContext, service_line

SAMPLE_SERVICES = ("wound_care", "urinary_catheter", "vital_signs")
# other families' services, for a bench that should not see the same consent twice
_OTHER_SERVICES = (("pressure_ulcer_care", "blood_sampling"),
                   ("nasogastric_tube", "swallow_training", "medication_review", "vital_signs"),
                   ("picc_maintenance",))

_CHECKS = {"zh": ["身份证号码校验码与出生日期核验通过", "身份证照片已上传（SHA-256 3f9a1c0d5e7b2a64…）"],
           "en": ["resident ID checksum and birth date verified", "ID card photo received (SHA-256 3f9a1c0d5e7b2a64…)"]}
_PEOPLE = {
    # 𠮷 (U+20BB7, CJK Ext-B) and 龘: names the fonts must render
    "zh": {"patient": "王𠮷", "sex": "男", "applicant": "王龘", "relation": "儿子",
           "present": "李秀英", "present_relation": "配偶",
           "address": "北京市东城区和平里街道示例小区3号楼2单元501室", "district": "东城区",
           "visit": "2026年11月21日（星期六）09:00–11:00", "grade": "中度依赖"},
    "en": {"patient": "王𠮷", "sex": "male", "applicant": "王龘", "relation": "son",
           "present": "李秀英", "present_relation": "spouse",
           "address": "Flat 501, Unit 2, Building 3, Example Compound, Hepingli, Dongcheng, Beijing",
           "district": "Dongcheng", "visit": "Saturday 21 November 2026, 09:00–11:00",
           "grade": "moderate dependency"},
}
# other families (``family`` 1, 2, 3): other names, addresses, visits and Barthel scores
_OTHER_SCORES = (35, 75, 50)
_OTHERS = {
    "zh": [{"patient": "张桂兰", "sex": "女", "applicant": "刘洋", "relation": "女婿",
            "present": "张丽", "present_relation": "女儿",
            "address": "上海市徐汇区漕河泾街道田林路示例弄12号601室", "district": "徐汇区",
            "visit": "2026年12月3日（星期四）14:00–16:00", "grade": "重度依赖"},
           {"patient": "欧阳振华", "sex": "男", "applicant": "欧阳振华", "relation": "本人",
            "present": "陈美玲", "present_relation": "保姆",
            "address": "广州市越秀区北京街道示例大院7栋1203房", "district": "越秀区",
            "visit": "2026年12月5日（星期六）09:00–11:00", "grade": "轻度依赖"},
           {"patient": "赵淑珍", "sex": "女", "applicant": "孙建国", "relation": "孙子",
            "present": "孙建国", "present_relation": "孙子",
            "address": "成都市武侯区玉林街道示例巷18号附3号", "district": "武侯区",
            "visit": "2026年12月7日（星期一）10:00–12:00", "grade": "中度依赖"}],
    "en": [{"patient": "张桂兰", "sex": "female", "applicant": "刘洋", "relation": "son-in-law",
            "present": "张丽", "present_relation": "daughter",
            "address": "Room 601, No. 12, Lane Example, Tianlin Road, Xuhui, Shanghai",
            "district": "Xuhui", "visit": "Thursday 3 December 2026, 14:00–16:00",
            "grade": "severe dependency"},
           {"patient": "欧阳振华", "sex": "male", "applicant": "欧阳振华", "relation": "self",
            "present": "陈美玲", "present_relation": "carer",
            "address": "Room 1203, Block 7, Example Court, Beijing Street, Yuexiu, Guangzhou",
            "district": "Yuexiu", "visit": "Saturday 5 December 2026, 09:00–11:00",
            "grade": "mild dependency"},
           {"patient": "赵淑珍", "sex": "female", "applicant": "孙建国", "relation": "grandson",
            "present": "孙建国", "present_relation": "grandson",
            "address": "Annex 3, No. 18, Example Alley, Yulin, Wuhou, Chengdu",
            "district": "Wuhou", "visit": "Monday 7 December 2026, 10:00–12:00",
            "grade": "moderate dependency"}],
}


def sample_context(lang: str = "zh", *, document_id: str | None = None,
                   family: int = 0) -> ConsentContext:
    """A signed consent for an elderly man with a rare-character name, his son applying; or,
    with ``family`` 1 to 3, another family's, with other services (``family`` wraps round)."""
    config, items = hospital_config(), catalogue()
    family %= 1 + len(_OTHERS[lang])
    people = _OTHERS[lang][family - 1] if family else _PEOPLE[lang]
    score = _OTHER_SCORES[family - 1] if family else 55
    lines = []
    for code in _OTHER_SERVICES[family - 1] if family else SAMPLE_SERVICES:
        item = items.get(code)
        assert item is not None, code
        lines.append(service_line(code, item.name(lang), item.price, lang))
    fees = {"transport": config.fees.transport, "it_service": config.fees.it_service,
            "labour": config.fees.labour}
    signed_at = datetime(2026, 11, 19, 6, 42, 17, tzinfo=UTC)
    created = signed_at - timedelta(minutes=9)
    return ConsentContext(
        document_id=document_id or uuid.uuid4().hex, language=lang,
        template_version=config.consent_template_version, hospital=config.hospital,
        patient_name=people["patient"], patient_id_masked="**************2417",
        patient_sex=people["sex"], patient_age=83, patient_address=people["address"],
        patient_district=people["district"], applicant_name=people["applicant"],
        applicant_relation=people["relation"], present_name=people["present"],
        present_relation=people["present_relation"], present_phone_masked="*******5678",
        services=lines, fees=fees,
        total_price=sum((line.price for line in lines), config.fees.total),
        visit=people["visit"], barthel_score=score, barthel_grade=people["grade"],
        identity_checks=_CHECKS[lang],
        signer_name=people["applicant"], signed_at=signed_at, channel="wechat",
        channel_user_id="o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
        events=[{"event": "created", "at": created.isoformat()},
                {"event": "sent", "at": (created + timedelta(seconds=1)).isoformat()},
                {"event": "opened", "at": (created + timedelta(minutes=2)).isoformat(),
                 "channel": "web"},
                {"event": "signed", "at": signed_at.isoformat(), "by": people["applicant"]}])


_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN_NAMES = ("秀英", "桂兰", "建国", "丽", "洋", "振华", "美玲", "淑珍", "志强", "海燕")


def family_context(lang: str, number: int, *, document_id: str | None = None) -> ConsentContext:
    """The consent of the ``number``-th family in a run of benches: the services of one of the
    four sample families in turn, and an address, a person present and a visit of its own, as
    the consents a rendering process seals one after another differ."""
    context = sample_context(lang, document_id=document_id, family=number)
    present = _SURNAMES[number % 10] + _GIVEN_NAMES[(number // 10 + number) % 10]
    day, hour = 1 + number % 28, 8 + number % 9
    if lang == "zh":
        address = f"北京市朝阳区示例路{number + 1}号院{number % 7 + 1}号楼{101 + number}室"
        visit = f"2026年12月{day}日 {hour:02d}:00–{hour + 2:02d}:00"
    else:
        address = (f"Flat {101 + number}, Building {number % 7 + 1}, No. {number + 1} Example "
                   "Road, Beijing")
        visit = f"{day} December 2026, {hour:02d}:00–{hour + 2:02d}:00"
    return replace(context, patient_address=address, present_name=present, visit=visit)

"""A filled-in consent from invented data, for ``jiahu consent sample``, the bench and the tests."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from backend.config import catalogue, hospital_config
from documents.consent import ConsentContext, service_line

SAMPLE_SERVICES = ("wound_care", "urinary_catheter", "vital_signs")

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


def sample_context(lang: str = "zh", *, document_id: str | None = None) -> ConsentContext:
    """A signed consent for an elderly man with a rare-character name, his son applying."""
    config, items, people = hospital_config(), catalogue(), _PEOPLE[lang]
    lines = []
    for code in SAMPLE_SERVICES:
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
        visit=people["visit"], barthel_score=55, barthel_grade=people["grade"],
        identity_checks=_CHECKS[lang],
        signer_name=people["applicant"], signed_at=signed_at, channel="wechat",
        channel_user_id="o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
        events=[{"event": "created", "at": created.isoformat()},
                {"event": "sent", "at": (created + timedelta(seconds=1)).isoformat()},
                {"event": "opened", "at": (created + timedelta(minutes=2)).isoformat(),
                 "channel": "web"},
                {"event": "signed", "at": signed_at.isoformat(), "by": people["applicant"]}])

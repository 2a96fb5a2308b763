"""Every fact one message gives, whatever was asked: "我是她女儿，叫张丽，电话13812345678" names the
writer's relation to the patient, the writer's name and a phone at once; "你好，我想给我妈预约上门
换药" says the writer is the patient's child and wants a dressing change.

Relations are kept as the person's relation *to the patient* (the codes of nlu.entities):
"我是她女儿" is ``daughter``; "给我妈预约" makes the writer the patient's ``child``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flows.reading import plausible_name, read_address
from nlu.entities import (
    RELATIONS,
    chinese_name,
    extract_id_numbers,
    extract_persons,
    extract_phones,
    extract_services,
)
from nlu.frequency import read_frequency

_WORD_CODE: dict[str, str] = {}
for _code, _words in RELATIONS.items():
    for _word in _words:
        _WORD_CODE.setdefault(_word.lower(), _code)
# The writer's parents-in-law: the patient is 婆婆 to a daughter-in-law, 岳母 to a son-in-law.
_IN_LAWS = {"婆婆": "daughter_in_law", "公公": "daughter_in_law", "婆婆婆": "daughter_in_law",
            "岳母": "son_in_law", "丈母娘": "son_in_law", "岳父": "son_in_law", "老丈人": "son_in_law"}
_REL = "|".join(sorted((w for w in _WORD_CODE if not w.isascii()), key=len, reverse=True))
_REL_EN = "|".join(sorted((w for w in _WORD_CODE if w.isascii()), key=len, reverse=True))
_IN_LAW = "|".join(sorted(_IN_LAWS, key=len, reverse=True))

# When the patient is the writer's X, the writer is the patient's INVERSE[X].
INVERSE = {"mother": "child", "father": "child", "maternal_grandmother": "grandchild",
           "maternal_grandfather": "grandchild", "paternal_grandmother": "grandchild",
           "paternal_grandfather": "grandchild", "spouse": "spouse", "sibling": "sibling",
           "relative": "relative", "friend": "friend", "son": "relative", "daughter": "relative",
           "grandmother": "grandchild", "grandfather": "grandchild", "mother_in_law": "relative",
           "father_in_law": "relative"}
CHILDREN = {"child", "son", "daughter"}
_GRANDPARENTS = {"paternal_grandmother", "paternal_grandfather", "maternal_grandmother", "maternal_grandfather",
                 "grandmother", "grandfather"}
RELATION_CODES = set(RELATIONS)

_NAME_AFTER = r"([\u4e00-\u9fff·]{2,4})"
_SPEAKER_IS = re.compile(rf"我(?:就)?是(?:她|他|老人家?|患者|病人|老太太|老爷子)?的?({_REL})")
_SPEAKER_IS_EN = re.compile(rf"\bi(?:'m| am)\s+(?:her|his|the patient's)\s+({_REL_EN})\b", re.I)
_SPEAKER_IS_EN_NAMED = re.compile(
    rf"\b(?i:i(?:'m| am)\s+(?:her|his|the patient's)\s+(?:{_REL_EN})),?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+){{0,2}})")
_PATIENT_IS_MY = re.compile(rf"(?:给|帮|替|为|带)?我(?:家|们家)?(?:的)?({_IN_LAW}|{_REL})")
_PATIENT_IS_MY_EN = re.compile(rf"\b(?:for|about)\s+my\s+({_REL_EN}|grandma|granny|grandpa)\b", re.I)
_SELF = re.compile(r"我自己|本人申请|我就是(?:患者|病人|老人)|我(?:就)?是(?:患者|病人|老人)?本人|我本人|患者本人|"
                   r"给我自己|for myself|i am the patient|i'm the patient|myself", re.I)
_SPEAKER_NAME = re.compile(rf"(?:^|[，,。\s])(?:我)?(?:叫|名叫|名字是|姓名是){_NAME_AFTER}")
_REL_THEN_NAME = re.compile(rf"我(?:就)?是(?:她|他|老人家?|患者|病人)?的?(?:{_REL}){_NAME_AFTER}")
_SPEAKER_PRESENT = re.compile(
    r"(?<!不是)(?:我|本人)(?:到时候?|当天|那天|那时候?|平时)?(?:会|都|也|就)?"
    r"(?:在家|在场|陪着|陪同|陪她|陪他|在旁边|守着)|i(?:'ll| will)? be (?:there|at home|home)", re.I)
_NOT_SPEAKER = re.compile(r"^(?:不是我|不是本人|我不在|我到时候?不在|not me\b|i won'?t be)", re.I)
_OTHER_PRESENT = re.compile(
    rf"(?:是|让|由|叫)?(?:我(?:的)?|家里的?|我们家的?)({_REL}|保姆|钟点工)(?:到时候?|当天|那天|白天|周末|平时|上午|下午|晚上)?(?:都|会|来|也)?"
    r"(?:在家|在场|陪着|陪|来陪|在)")
_PATIENT_NAMED_EN = re.compile(
    rf"\b(?i:my)\s+(?i:{_REL_EN}|grandma|grandpa|granny)\s*,?\s+([A-Z][a-z]+(?:\s+[A-Z][a-z]+){{1,2}})")
_ADDRESS_EN = re.compile(r"(?i:lives? (?:in|at)|address is|address:)\s+(.+?)(?=\.\s|\.$|$)")
_OTHER_PRESENT_EN = re.compile(rf"\bmy\s+({_REL_EN})\s+(?:will|'ll)\s+be\b", re.I)
_ELDER = "奶奶|爷爷|外婆|外公|姥姥|姥爷|老太太|老爷子|婆婆|公公|岳母|岳父|我妈|我爸|老妈|老爸|母亲|父亲|老母亲|老父亲"
_SUBJECT_PATIENT = re.compile(
    rf"(?:我(?:{_IN_LAW}|{_REL})|{_ELDER}|老人家?|患者|病人|她|他)(?:的)?(?:名字|姓名)?(?:叫|是){_NAME_AFTER}")
_REL_NAMED = re.compile(rf"我(?:的|家)?(?:{_IN_LAW}|{_REL})[，, ]?{_NAME_AFTER}")
_OTHER_NAMED = re.compile(rf"(?:她|他)(?:的名字)?叫{_NAME_AFTER}")


@dataclass
class Facts:
    """What one message says, each fact None when it does not say it."""

    speaker_relation: str | None = None     # the writer's relation to the patient
    patient_word: str | None = None         # the patient as the writer called them (我妈 → mother)
    self_applicant: bool = False
    speaker_name: str | None = None
    patient_name: str | None = None
    phones: list[str] = field(default_factory=list)
    id_number: str | None = None
    address: str | None = None
    services: list[str] = field(default_factory=list)
    speaker_present: bool | None = None
    other_present: str | None = None        # who will be there, as the writer's relation to them
    other_name: str | None = None           # their name ("是我爱人在家，她叫陈芳")
    frequency: str | None = None            # a discharge order's visits ("每周二、周五，连续4周")

    def empty(self) -> bool:
        return not any((self.speaker_relation, self.self_applicant, self.speaker_name, self.patient_name,
                        self.phones, self.id_number, self.address, self.services,
                        self.speaker_present is not None, self.other_present, self.frequency))


def _name(candidate: str) -> str | None:
    """A name at the start of ``candidate`` (a known surname, cut before the words that follow:
    "李桂兰需要…" → 李桂兰)."""
    name = chinese_name(candidate)
    return name if name and plausible_name(name) else None


def read_facts(text: str) -> Facts:
    """All the facts of one message; the flows decide which of them answer which question."""
    facts = Facts()
    if not text.strip():
        return facts
    if _SELF.search(text):
        facts.self_applicant = True
    speaker = _SPEAKER_IS.search(text) or _SPEAKER_IS_EN.search(text)
    if speaker:
        facts.speaker_relation = _WORD_CODE.get(speaker[1].lower())
    spans = [speaker.span()] if speaker else []
    relation: str | None
    for mine in [*_PATIENT_IS_MY.finditer(text), *_PATIENT_IS_MY_EN.finditer(text)]:
        if any(s <= mine.start() < e for s, e in spans) or _is_present_clause(text, mine.end()):
            continue
        word = mine[1].lower()
        if word in _IN_LAWS:
            facts.patient_word, relation = word, _IN_LAWS[word]
        else:
            code = _WORD_CODE.get(word) or {"grandma": "paternal_grandmother", "granny": "paternal_grandmother",
                                            "grandpa": "paternal_grandfather"}.get(word)
            if code is None:
                continue
            facts.patient_word, relation = code, INVERSE.get(code)
        if facts.speaker_relation is None and relation:
            facts.speaker_relation = relation
        break
    named = _REL_THEN_NAME.search(text)
    if named and _name(named[1]):
        facts.speaker_name = _name(named[1])
    named_en = _SPEAKER_IS_EN_NAMED.search(text)
    if named_en:
        facts.speaker_name = named_en[1]
    other = _OTHER_PRESENT.search(text) or _OTHER_PRESENT_EN.search(text)
    if other:
        word = other[1].lower()
        facts.other_present = "caregiver" if word in ("保姆", "钟点工") else _WORD_CODE.get(word)
        if facts.other_present is None and word in _IN_LAWS:
            facts.other_present = "relative"
        after = _OTHER_NAMED.search(text, other.start())
        if after and _name(after[1]):
            facts.other_name = _name(after[1])
    for match in [*_SUBJECT_PATIENT.finditer(text), *_REL_NAMED.finditer(text)]:
        if speaker and match.start() == speaker.start() or other and match.start() >= other.start():
            continue
        name = _name(match[1])
        if name and name != facts.speaker_name:
            facts.patient_name = name
            break
    named_patient_en = _PATIENT_NAMED_EN.search(text)
    if facts.patient_name is None and named_patient_en and not (other and named_patient_en.start() >= other.start()):
        facts.patient_name = named_patient_en[1]
    if facts.patient_name is None and facts.other_name is None:
        for person in extract_persons(text):
            cue = text[max(0, person.start - 4):person.start]
            if re.search(r"老人|患者|病人|[妈爸]|母亲|父亲|[她他]", cue) and not re.search(r"我叫|我是", cue) \
                    and person.value != facts.speaker_name:
                facts.patient_name = str(person.value)
                break
    if facts.speaker_name is None:
        for match in _SPEAKER_NAME.finditer(text):
            before = text[:match.start() + 1]
            if _SUBJECT_PATIENT.search(text[max(0, match.start() - 6):match.end()]) and not speaker:
                continue
            if re.search(r"我是|我叫|^我|[，,]我", before + text[match.start():match.start(1)]) or speaker:
                name = _name(match[1])
                if name and name != facts.patient_name:
                    facts.speaker_name = name
                    break
        english = [p for p in extract_persons(text) if re.search(r"(?i)my name|i am|i'm|call me",
                                                                   text[max(0, p.start - 12):p.start])]
        if facts.speaker_name is None and english:
            facts.speaker_name = str(english[0].value)
    facts.phones = [str(e.value) for e in extract_phones(text)]
    ids = extract_id_numbers(text)
    facts.id_number = str(ids[0].value) if ids else None
    if not facts.phones and not facts.id_number or re.search(r"住|地址|[区路街号]", text):
        stripped = text
        for number in [*facts.phones, *(facts.id_number or "").split()]:
            stripped = stripped.replace(number, " ")
        address = read_address(stripped) if re.search(r"住|地址|家在|[区县]|路|街|小区|号", stripped) else None
        if address and (re.search(r"\d", address) or re.search(r"[区县]", address)) and len(address) >= 6:
            facts.address = address
    address_en = _ADDRESS_EN.search(text) if text.isascii() else None
    if facts.address is None and address_en and re.search(r"\d|district", address_en[1], re.I):
        facts.address = address_en[1].strip(" ,.")
    facts.services = services_in(text)
    frequency = read_frequency(text)
    facts.frequency = frequency.phrase() if frequency else None
    if _NOT_SPEAKER.search(text.strip()):
        facts.speaker_present = False
    elif _SPEAKER_PRESENT.search(text):
        facts.speaker_present = True
    if facts.other_present and facts.speaker_present is None:
        facts.speaker_present = False
    return facts


def _is_present_clause(text: str, end: int) -> bool:
    """"我爸在家陪着" names who will be there, not the patient."""
    return bool(re.match(r"(?:到时候?|当天)?(?:会|来)?(?:在家|在场|陪着|陪|来陪)", text[end:end + 8]))


def present_relation(writer: str | None, other: str, patient_sex: str | None,
                     patient_word: str | None) -> str | None:
    """The patient's relation to someone the writer names ("我爸在家"): the writer's father is the
    patient's spouse when the writer is the patient's child and the patient is the mother."""
    if other in ("caregiver", "friend", "relative"):
        return other
    if writer == "self":  # the patient writing: "我女儿周末会在"
        return other if other in RELATION_CODES else None
    if writer == "grandchild" and other in _GRANDPARENTS:
        married = {"paternal_grandmother": "paternal_grandfather", "paternal_grandfather": "paternal_grandmother",
                   "maternal_grandmother": "maternal_grandfather", "maternal_grandfather": "maternal_grandmother"}
        if patient_word == married.get(other) or (other.endswith("grandmother") and patient_sex == "M") \
                or (other.endswith("grandfather") and patient_sex == "F"):
            return "spouse"
        return None
    if writer in CHILDREN:
        if other in ("father", "mother"):
            if patient_word == other:
                return None  # the patient cannot be the family member present
            patient_is_other_parent = (patient_word in ("mother", "father") and patient_word != other) or (
                other == "father" and patient_sex == "F") or (other == "mother" and patient_sex == "M")
            return "spouse" if patient_is_other_parent else None
        if other in ("son", "daughter"):
            return "grandchild"
        if other == "sibling":
            return "child"
        if other == "spouse":  # the son's wife, the daughter's husband
            return {"son": "daughter_in_law", "daughter": "son_in_law"}.get(writer, "relative")
    if writer == "spouse" and other in ("son", "daughter"):
        return other
    return None


# A relation said generally first and precisely later ("给我妈预约" … "我是她女儿").
REFINES = {"child": {"son", "daughter"}, "grandchild": {"grandchild"}, "relative": {"son_in_law", "daughter_in_law"}}


# A service that includes another when the other is named only by a general word: "压疮需要换药" is
# the pressure ulcer's dressing, not a second service.
_COVERS = {"pressure_ulcer_care": ("wound_care", ("换药", "换个药", "dressing"))}


def services_in(text: str) -> list[str]:
    """Catalogue codes the text names, without those another named service covers."""
    found = extract_services(text)
    codes = list(dict.fromkeys(str(e.value) for e in found))
    for code, (covered, words) in _COVERS.items():
        if code in codes and covered in codes and all(
                e.text.lower() in words for e in found if e.value == covered):
            codes.remove(covered)
    return codes


def fact_values(facts: Facts, answers: dict[str, Any]) -> dict[str, Any]:
    """The facts as the values of the steps that read them (flows/data/*.yaml ``reads``)."""
    given: dict[str, Any] = {}
    if facts.self_applicant:
        given["self_applicant"] = "self"
    if facts.speaker_relation:
        given["speaker_relation"] = facts.speaker_relation
    self_applying = facts.self_applicant or answers.get("applicant") == "self"
    if facts.speaker_name:
        given["patient_name" if self_applying else "speaker_name"] = facts.speaker_name
    if facts.patient_name:
        given["patient_name"] = facts.patient_name
    if facts.id_number:
        given["id_number"] = facts.id_number
    if facts.address:
        given["address"] = facts.address
    if facts.services:
        given["services"] = facts.services
    if facts.phones:
        given["phone"] = facts.phones[0]
    if facts.speaker_present is not None:
        given["speaker_present"] = "yes" if facts.speaker_present else "no"
    if facts.other_present:
        sex = (answers.get("id_number") or {}).get("sex")
        writer = "self" if answers.get("applicant") == "self" else answers.get("relation") or facts.speaker_relation
        relation = present_relation(writer,
                                    facts.other_present, sex, facts.patient_word or answers.get("patient_word"))
        if relation:
            given["present_relation"] = relation
    if facts.other_name:
        given["present_name"] = facts.other_name
    if facts.frequency:
        given["frequency"] = facts.frequency
    return given

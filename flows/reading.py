"""Finding one value inside a family's sentence: a name, a phone, an ID number, an address, a
yes or a no, the end of the uploads, a degree of help. Families answer in sentences ("我妈叫王秀英",
"打我手机就行，13812345678", "不是我，是我爸在家陪着"); a value is never a whole sentence by accident.

Pure functions over text; the step kinds (flows/kinds.py) and the facts read from a whole
message (flows/facts.py) are built on them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from backend.config import hospital_config
from backend.identity import IdNumberError, ResidentId, normalize_phone, parse_resident_id
from nlu.entities import RELATIONS, extract_districts, extract_persons, extract_phones

_HAN = r"\u3400-\u9fff\U00020000-\U0003134F"
_PUNCT = "，。！？、,.!?~～：:；;“”\"'（）() \t\n"

# --- names -------------------------------------------------------------------------------

_RELATION_WORDS = sorted({w for words in RELATIONS.values() for w in words if not w.isascii()},
                         key=len, reverse=True)
_NOT_IN_A_NAME = set("我你他她它们的是叫在了吗呢吧啊呀哦嘛和跟就也还有没不要想给帮替请谢好")
_NAME_LEAD = re.compile(
    rf"^(?:(?:我(?:的|家)?(?:{'|'.join(map(re.escape, _RELATION_WORDS))})|我|她|他|老人家?|患者|病人|老太太|老爷子)"
    r"(?:的)?)?(?:全名|名字|姓名|真名|签名|签字)?(?:是|叫做?|为|[:：])?\s*", re.I)
_EN_LEAD = re.compile(
    r"^(?:(?:my|her|his|the)\s+)?(?:(?:patient's|mother's|mom's|mum's|father's|dad's|grandma's|"
    r"grandmother's|grandpa's|grandfather's)\s+)?(?:full\s+)?"
    r"(?:name\s+is|name's|name:|called|i am|i'm|this is|it's|it is|signed,?|"
    r"(?:mother|mom|mum|father|dad|grandma|grandmother|grandpa|grandfather|patient)\s+is(?:\s+called)?)\s+",
    re.I)
_EN_NOT_IN_A_NAME = {"i", "i'm", "im", "my", "is", "name", "the", "a", "and", "her", "his", "me",
                     "it's", "this", "he", "she", "we", "you", "not", "will", "be", "at", "in", "to"}
_HAN_NAME = re.compile(rf"^[{_HAN}·•]{{2,5}}$")
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z'.-]*(?:\s+[A-Za-z][A-Za-z'.-]*){0,3}$")
_EN_NOT_NAMES = {"yes", "no", "ok", "okay", "hello", "hi", "thanks", "thank you", "help", "back",
                 "none", "done", "my mother", "my father", "my mom", "my dad", "mother", "father",
                 "agree", "i agree", "sure", "the patient", "patient", "needs help", "independent",
                 "dependent", "all correct", "correct", "confirm", "continent", "unable", "stable",
                 "needs some help", "wheelchair independent", "immobile", "read the full agreement"}
# Replies and option labels that are made of name-like characters but name nobody.
_HAN_NOT_NAMES = {"确认无误", "确认", "完成", "同意", "不同意", "需要帮助", "帮助", "返回", "取消", "预约",
                  "没有", "可以", "好的", "谢谢", "您好", "你好", "无误", "正确", "稳定", "能控制",
                  "能自己吃", "能自己洗", "能自己完成", "完全依赖别人", "完全不能", "不能", "需要部分帮助",
                  "转人工", "重新开始", "继续", "查看协议全文", "我要修改", "确认预约", "换个时间"}
# A carer is often named by surname and a form of address: 刘阿姨, 王姐, 张师傅.
_CARER_NAME = re.compile(rf"^[{_HAN}](?:阿姨|大姐|姐|师傅|大哥|叔)$")


def plausible_name(text: str) -> bool:
    """A person's name: 2–5 Han characters with none of the words a sentence is made of, or
    one to four Latin words that are not a common reply."""
    text = text.strip()
    if text in _HAN_NOT_NAMES:
        return False
    if _CARER_NAME.match(text):
        return True
    if _HAN_NAME.match(text):
        return not (set(text) & _NOT_IN_A_NAME) and not any(w in text for w in _RELATION_WORDS
                                                              if len(w) > 1)
    return (bool(_LATIN_NAME.match(text)) and len(text) >= 3 and text.lower() not in _EN_NOT_NAMES
            and not {w.lower() for w in text.split()} & _EN_NOT_IN_A_NAME)


def read_name(text: str) -> str | None:
    """The person's name in "王秀英", "我妈叫王秀英", "她叫王秀英，今年82", "my name is David Li"."""
    cleaned = " ".join(text.split()).strip(_PUNCT)
    if plausible_name(cleaned):
        return _title(cleaned)
    found = extract_persons(cleaned)
    if found:
        return str(found[0].value)
    first_clause = re.split(r"[，。！？,.!?;；\n]", cleaned)[0].strip()
    for candidate in (_NAME_LEAD.sub("", first_clause, count=1), _EN_LEAD.sub("", first_clause, count=1)):
        candidate = candidate.strip(_PUNCT)
        if (candidate != first_clause or first_clause != cleaned) and plausible_name(candidate):
            return _title(candidate)
    return None


def _title(name: str) -> str:
    return " ".join(w.capitalize() if w.islower() else w for w in name.split()) if name.isascii() else name


# --- numbers -----------------------------------------------------------------------------

def read_phone(text: str) -> str | None:
    """The first mobile or landline number in the text (spaces and dashes inside allowed)."""
    found = extract_phones(text)
    if found:
        return str(found[0].value)
    return normalize_phone(text.strip())


_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([0-9][0-9\s-]{12,24}[0-9Xx])(?![0-9A-Za-z])")


@dataclass(frozen=True)
class IdReading:
    resident: ResidentId | None = None
    problem: str | None = None  # length, format, checksum, birth_date — when a number was there


def read_id_number(text: str, today=None) -> IdReading:  # type: ignore[no-untyped-def]
    """The resident ID number inside a sentence ("身份证号是1101…", spaces allowed), or why the
    number given is not one."""
    candidates = [re.sub(r"[\s-]", "", m) for m in _ID_CANDIDATE.findall(text)]
    if not candidates:
        bare = re.sub(r"[\s-]", "", text)
        if not re.search(r"\d{6,}", bare):
            return IdReading()
        candidates = [max(re.findall(r"[0-9A-Za-z]+", bare), key=len)]
    problem = None
    for candidate in sorted(candidates, key=lambda c: abs(len(c) - 18)):
        try:
            return IdReading(parse_resident_id(candidate, today=today))
        except IdNumberError as error:
            problem = problem or error.reason
    return IdReading(problem=problem)


# --- addresses ---------------------------------------------------------------------------

_ADDRESS_LEAD = re.compile(
    r"^.{0,12}?(?:家住在?|住在|住址是?|地址是?|地址在|我家在|老人家?住在?|她家在|他家在|家在)\s*[:：]?\s*")
_LOOKS_LIKE_ADDRESS = re.compile(rf"[{_HAN}]{{1,7}}(?:省|自治区|市|区|县|镇|乡|街道|路|街|胡同|小区|村|里|苑|园)")
_ADDRESS_END = re.compile(
    r"(?:[0-9０-９一二三四五六七八九十百零]+\s*(?:号楼|号院|号|室|单元|层|楼|栋|幢|座|户|门|弄|巷|排)"
    r"|[0-9]{2,5}(?![0-9]))")
_EN_ADDRESS_LEAD = re.compile(r"^.*?\b(?:live[sd]? (?:at|in)|address is|address:)\s+", re.I)


def read_address(text: str) -> str | None:
    """The address inside "家住北京市朝阳区望京街道…501，麻烦了": from the city or district to the
    last house or room number; None when no part of the text looks like an address."""
    cleaned = " ".join(text.split()).strip(_PUNCT)
    if not cleaned:
        return None
    if cleaned.isascii():
        return _EN_ADDRESS_LEAD.sub("", cleaned, count=1).strip(_PUNCT) or None
    lead = _ADDRESS_LEAD.match(cleaned)
    body = cleaned[lead.end():] if lead else cleaned
    city = hospital_config().service_area.city_zh.rstrip("市")
    districts = extract_districts(body)
    starts = [i for i in (body.find(city), districts[0].start if districts else -1) if i >= 0]
    if starts:
        body = body[min(starts):]
    elif not lead and not _LOOKS_LIKE_ADDRESS.search(body):
        return None
    ends = list(_ADDRESS_END.finditer(body))
    if ends:
        tail = body[ends[-1].end():]
        if re.match(r"^\s*[，,。！!？?；;]", tail):
            body = body[:ends[-1].end()]
    return body.strip(_PUNCT) or None


# --- which of the options ------------------------------------------------------------------

_ORDINALS = [(re.compile(r"第[一1]个|第一|最早|最近的那个|越早越好|first|earliest|soonest", re.I), 0),
             (re.compile(r"第[二2]个|第二|second", re.I), 1),
             (re.compile(r"第[三3]个|第三|third", re.I), 2),
             (re.compile(r"最后一个|最后那个|last one", re.I), -1)]


def read_ordinal(text: str, count: int) -> int | None:
    """"第一个时间就行", "最早的那个", "the first one please": an option by its place."""
    for pattern, index in _ORDINALS:
        if pattern.search(text):
            index = index if index >= 0 else count - 1
            return index if 0 <= index < count else None
    return None


# --- yes and no --------------------------------------------------------------------------

_NO_FIRST = re.compile(
    r"^(?:不是|不对|不用|不要|不需要|不行|不可以|不同意|不必|不了|没有|没|无|否|别|错了|"
    r"no\b|nope\b|not\b|don'?t\b|do not\b|isn'?t\b|wrong\b|n$|不$)", re.I)
_YES_BUT_LOOKS_NO = re.compile(r"^(?:没问题|没错|不错|没毛病|不客气)")
_YES = re.compile(
    r"^(?:是的?|对的?|对啊|好的?|好啊|好嘞|行|可以|嗯+|确认|确定|同意|没问题|没错|不错|正确|当然|"
    r"yes\b|yeah\b|yep\b|yup\b|ok\b|okay\b|sure\b|confirm|correct\b|right\b|agree|i agree|y$|"
    r"that'?s right|of course)", re.I)


def read_yes_no(text: str) -> str | None:
    """"yes", "no" or None: negation first ("不是我，是我爸" is a no), then agreement
    ("对，确认", "yes I agree")."""
    cleaned = " ".join(text.split()).strip(_PUNCT).lower()
    if not cleaned:
        return None
    if _YES_BUT_LOOKS_NO.match(cleaned):
        return "yes"
    if _NO_FIRST.match(cleaned):
        return "no"
    if _YES.match(cleaned):
        return "yes"
    return None


_DONE = re.compile(
    r"(?:完成|好了|发完了?|传完了?|就这些|就这么多|就这|没有了|没了|没有别的|都发了|都在这|没有|无|"
    r"that'?s (?:all|it|everything)|that is (?:all|it|everything)|all done|i'?m done|done|finished|"
    r"no more|nothing (?:else|more)|no records|don'?t have any|none)", re.I)


_NOT_DONE = re.compile(r"找找|找一下|再找|还有没有|稍等|等一下|等等|拍一下|去拿|hold on|wait|looking|let me find",
                       re.I)


def says_done(text: str) -> bool:
    """"就这些了", "发完了", "that's all": the family has nothing more to send ("我找找还有没有
    别的" is not that)."""
    cleaned = text.strip(_PUNCT)
    return bool(cleaned) and len(cleaned) <= 24 and not _NOT_DONE.search(cleaned) \
        and bool(_DONE.search(cleaned))


# --- degrees of help (the Barthel items) ---------------------------------------------------

_NO_HELP = re.compile(r"不用人?帮|不需要人?帮|不要人帮|不用人管|没问题|挺好|能行|by (?:her|him)self|"
                      r"on (?:her|his) own|no help|without help|independent|alone|fine", re.I)
_DEPENDENT = re.compile(r"不能|不会|没法|没办法|[上下走]不[去了动]|不行了|[\u4e00-\u9fff]不[了住]|失禁|造口|造瘘|"
                        r"都得|全得|全要|都要|都是我们|我们给|给(?:她|他)?(?:穿|喂|洗|擦)|尿不湿|纸尿裤|完全|全靠|全部要|都要人|卧床|瘫|喂|插着|鼻饲|胃管|尿管|"
                        r"一点都不|动不了|走不了|unable|can'?t|cannot|bedridden|fully dependent|"
                        r"must be fed|totally", re.I)
_MAJOR_HELP = re.compile(r"很大帮助|大部分|两个人|两人|很多帮助|a lot of help|major help|two people", re.I)
_HELP = re.compile(r"帮|扶|搀|协助|看着|照看|陪着|要人|需要人|部分|有时|偶尔|"
                   r"help|assist|support|supervis|sometimes|occasional", re.I)
_INDEPENDENT = re.compile(r"自己|独立|能|可以|会|没事|正常|控制得住|控制得了|can\b|yes", re.I)


def read_degree(text: str) -> str | None:
    """How much help an answer describes: "independent", "help", "major_help" or "dependent"."""
    if _NO_HELP.search(text):
        return "independent"
    if _MAJOR_HELP.search(text):
        return "major_help"
    if _DEPENDENT.search(text) and not re.search(r"不能不|不会不", text):
        return "dependent"
    if _HELP.search(text):
        return "help"
    if _INDEPENDENT.search(text):
        return "independent"
    return None


def degree_index(degree: str, count: int) -> int:
    """Which option (ordered from most to least independent) a degree of help means."""
    if degree == "independent" or count < 2:
        return 0
    if degree == "dependent":
        return count - 1
    if degree == "major_help" and count >= 4:
        return count - 2
    return 1 if count >= 3 else count - 1

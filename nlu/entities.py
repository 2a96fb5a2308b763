"""Entity extraction shared by every recognizer: phones, ID numbers, services, relations,
dates, times of day, districts and person names."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from backend.config import catalogue, hospital_config
from backend.identity import IdNumberError, normalize_phone, parse_resident_id
from nlu.base import Entity
from nlu.dates import extract_dates, extract_time_of_day
from nlu.normalise import simplified

__all__ = [
    "RELATIONS", "TermMatcher", "extract_all", "extract_dates", "extract_districts",
    "extract_id_numbers", "extract_persons", "extract_phones", "extract_relations",
    "extract_services", "extract_time_of_day", "relation_label",
]

_PHONE = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-?\d{7,8})(?!\d)")
# Typed with spaces or dashes too ("110105 19390218 108X").
_ID = re.compile(r"(?<![0-9])((?:\d[ -]?){17}[\dXx])(?![0-9A-Za-z])")

RELATIONS: dict[str, list[str]] = {
    "mother": ["母亲", "妈妈", "老妈", "我妈", "妈", "老娘", "娘", "俺娘", "老母亲", "家母", "阿妈",
               "姆妈", "老太太", "mother", "mom", "mum", "mommy", "mama"],
    "father": ["父亲", "爸爸", "老爸", "我爸", "爸", "老爷子", "爹", "俺爹", "老父亲", "家父", "老爹",
               "阿爸", "老头子", "father", "dad", "daddy", "papa"],
    "spouse": ["配偶", "老伴", "丈夫", "妻子", "老公", "老婆", "爱人", "spouse", "husband", "wife"],
    "son": ["儿子", "son"],
    "daughter": ["女儿", "闺女", "daughter"],
    "son_in_law": ["女婿", "son-in-law"],
    "daughter_in_law": ["儿媳", "媳妇", "daughter-in-law"],
    "grandchild": ["孙子", "孙女", "外孙", "外孙女", "grandson", "granddaughter", "grandchild",
                   "grandkid"],
    "mother_in_law": ["婆婆", "婆母", "岳母", "丈母娘", "mother-in-law", "mother in law"],
    "father_in_law": ["公公", "岳父", "老丈人", "丈人", "father-in-law", "father in law"],
    "grandmother": ["grandma", "grandmother", "granny", "nana", "grandmom"],
    "grandfather": ["grandpa", "grandfather", "granddad", "grandad", "gramps"],
    "maternal_grandmother": ["外婆", "姥姥", "外祖母"],
    "maternal_grandfather": ["外公", "姥爷", "外祖父"],
    "paternal_grandmother": ["奶奶", "祖母"],
    "paternal_grandfather": ["爷爷", "祖父"],
    "sibling": ["兄弟", "姐妹", "哥哥", "弟弟", "姐姐", "妹妹", "brother", "sister"],
    "relative": ["亲戚", "侄子", "侄女", "外甥", "外甥女", "relative", "nephew", "niece"],
    "caregiver": ["护工", "保姆", "照护人", "阿姨", "caregiver", "carer", "nanny"],
    "friend": ["朋友", "邻居", "friend", "neighbour", "neighbor"],
}

# Words that contain a relation word but name no relative (姑娘 is a girl, not 娘).
_NOT_RELATIONS = ["姑娘", "新娘", "娘家", "大妈", "大爷", "大娘", "老婆婆", "公公平平"]

RELATION_LABELS = {
    "mother": ("母亲", "mother"), "father": ("父亲", "father"), "spouse": ("配偶", "spouse"),
    "son": ("儿子", "son"), "child": ("子女", "child"), "daughter": ("女儿", "daughter"), "son_in_law": ("女婿", "son-in-law"),
    "daughter_in_law": ("儿媳", "daughter-in-law"), "grandchild": ("孙辈", "grandchild"),
    "mother_in_law": ("婆婆/岳母", "mother-in-law"), "father_in_law": ("公公/岳父", "father-in-law"),
    "grandmother": ("祖母/外祖母", "grandmother"), "grandfather": ("祖父/外祖父", "grandfather"),
    "maternal_grandmother": ("外祖母", "maternal grandmother"),
    "maternal_grandfather": ("外祖父", "maternal grandfather"),
    "paternal_grandmother": ("祖母", "paternal grandmother"),
    "paternal_grandfather": ("祖父", "paternal grandfather"),
    "sibling": ("兄弟姐妹", "sibling"), "relative": ("其他亲属", "relative"),
    "caregiver": ("护工/照护人", "caregiver"), "friend": ("朋友/邻居", "friend"),
}


def relation_label(code: str, lang: str) -> str:
    zh, en = RELATION_LABELS.get(code, (code, code))
    return zh if lang == "zh" else en


# Voice-input and pinyin-keyboard slips, each the same length as the word meant (so spans
# stay in place): 换要 is 换药, 海店 is 海淀.
_TYPOS = {"换要": "换药", "换样": "换药", "海店": "海淀", "海电": "海淀", "朝羊": "朝阳",
          "胃官": "胃管", "尿官": "尿管", "打真": "打针", "抽雪": "抽血", "丰抬": "丰台",
          "造扣": "造口", "褥仓": "褥疮"}
_TYPO_RE = re.compile("|".join(map(re.escape, _TYPOS)))


def _matchable(text: str) -> str:
    """Lower case, simplified characters and known slips corrected, offsets unchanged."""
    return _TYPO_RE.sub(lambda m: _TYPOS[m[0]], simplified(text.lower()))


class TermMatcher:
    """Finds synonyms in a text, longest first, so 外孙女 is not read as 孙女 or 女;
    traditional characters and common slips (我媽, 换要) are read as meant.

    ASCII terms only match whole words ("mum" is not found in "minimum").
    """

    def __init__(self, entity: str, table: dict[str, list[str]]) -> None:
        self.entity = entity
        self._codes: dict[str, str] = {}
        for code, words in table.items():
            for word in words:
                if word.strip():
                    self._codes.setdefault(simplified(word.strip().lower()), code)
        parts = []
        for term in sorted(self._codes, key=len, reverse=True):
            escaped = re.escape(term)
            if term.isascii() and term[0].isalnum():
                escaped = rf"(?<![a-z0-9]){escaped}(?![a-z])"
            parts.append(escaped)
        self._pattern = re.compile("|".join(parts)) if parts else None

    def find(self, text: str, extractor: str = "synonyms") -> list[Entity]:
        """Each code once, at its first mention; terms mapped to "" only block shorter ones."""
        if self._pattern is None:
            return []
        found: dict[str, Entity] = {}
        for m in self._pattern.finditer(_matchable(text)):
            code = self._codes[m[0]]
            if code and code not in found:
                found[code] = Entity(self.entity, code, m.start(), m.end(),
                                     text[m.start():m.end()], extractor)
        return sorted(found.values(), key=lambda e: e.start)


_matchers: dict[str, tuple[object, TermMatcher]] = {}


def _matcher(entity: str, source: object, build: Callable[[], dict[str, list[str]]]) -> TermMatcher:
    """A matcher rebuilt only when its source (a cached data file) is replaced."""
    cached = _matchers.get(entity)
    if cached is None or cached[0] is not source:
        cached = (source, TermMatcher(entity, build()))
        _matchers[entity] = cached
    return cached[1]


def extract_relations(text: str) -> list[Entity]:
    """Who the patient is to the person writing (妈/老娘 → mother, 外婆 → maternal_grandmother)."""
    return _matcher("relation", RELATIONS,
                    lambda: {**RELATIONS, "": _NOT_RELATIONS}).find(text)


def extract_services(text: str) -> list[Entity]:
    """Catalogue codes named in the text, through each item's synonyms (positive and negative)."""
    cat = catalogue()
    return _matcher("service", cat, lambda: {
        item.code: [item.name_zh, item.name_en, *item.synonyms] for item in cat.services
    }).find(text)


def extract_districts(text: str) -> list[Entity]:
    """Districts of the service area by name or alias; the value is the district name (朝阳区)."""
    area = hospital_config().service_area
    return _matcher("district", area, lambda: {
        d.name: [d.name, d.en, *d.aliases] for d in area.districts}).find(text)


# The most common surnames (百家姓 by frequency) and compound surnames: a name after "我叫"
# or "老人叫" must start with one, so "老人叫不醒" is not read as a name.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
                      "长孙", "宇文", "司徒", "夏侯", "令狐", "端木", "呼延")
_NAME_CUE_ZH = re.compile(
    r"(?:我叫|我的名字是|我名字叫|我姓名是|本人|老人家?叫|老人的?名字[是叫]|患者叫|病人叫|患者是|"
    r"患者姓名[是:：]?|病人姓名[是:：]?|老人姓名[是:：]?|姓名[是:：]|名字[是叫:：]|[他她]叫|"
    r"[妈爸]叫|母亲叫|父亲叫|名叫|叫做)\s*([\u4e00-\u9fff·]{2,5})")
_NAME_STOP = set("的是在想要住了呢吧啊呀哦嘛我他她你们有和跟就也还今")
_NAME_END = re.compile(r"今年|今天|明天|后天|住|来自|身份|电话|手机|年|岁|得|患|病|做|需|刚|从")
_NAME_CUE_EN = re.compile(
    r"\b(?:my name is|my name's|i am called|this is|call me|(?:his|her|the patient's|patient's|"
    r"patient|the patient|mother's|mom's|father's|dad's)\s+name\s+is|name:)\s+"
    r"([A-Za-z][A-Za-z'-]*(?:\s+[A-Za-z][A-Za-z'-]*){0,2})", re.IGNORECASE)
_NAME_EN_STOP = {"and", "i", "im", "my", "she", "he", "her", "his", "from", "calling", "the", "a",
                 "is", "in", "at", "we", "need", "want", "would", "please", "mother", "father",
                 "mom", "dad", "son", "daughter", "speaking", "here", "ok", "not", "with", "for"}


def chinese_name(candidate: str) -> str | None:
    """The name at the start of ``candidate`` when it begins with a known surname, cut before
    the words that follow it ("李桂兰需要换药" → 李桂兰)."""
    return _chinese_name(candidate)


def _chinese_name(candidate: str) -> str | None:
    surname_len = 2 if candidate[:2] in _COMPOUND_SURNAMES else 1
    if surname_len == 1 and candidate[0] not in _SURNAMES:
        return None
    end = _NAME_END.search(candidate, surname_len)
    name = candidate[: min(surname_len + 2, end.start() if end else len(candidate))]
    while len(name) > surname_len and name[-1] in _NAME_STOP:
        name = name[:-1]
    return name if len(name) > surname_len else None


_RELATION_WORDS_ZH = sorted((w for words in RELATIONS.values() for w in words if not w.isascii()),
                            key=len, reverse=True)
# A name right after who the writer is, without a cue word: "我是她女儿刘丽", "我是王芳".
_NAME_AFTER_SELF = re.compile(
    r"我是(?:[他她]的?|老人的?|患者的?|病人的?)?(?:" + "|".join(map(re.escape, _RELATION_WORDS_ZH))
    + r")?\s*([\u4e00-\u9fff·]{2,4})")
_NAME_AFTER_SELF_END = re.compile(r"[\s,，。.!！?？;；]|$")


def _name_after_self(text: str) -> list[tuple[int, str]]:
    found = []
    for m in _NAME_AFTER_SELF.finditer(text):
        name = _chinese_name(m[1])
        if not name or _NAME_END.match(m[1]) or any(name.startswith(w) for w in _RELATION_WORDS_ZH):
            continue
        if _NAME_AFTER_SELF_END.match(text, m.start(1) + len(name)) or m[0] != "我是" + m[1]:
            found.append((m.start(1), name))
    return found


def extract_persons(text: str) -> list[Entity]:
    """A person's name where it is given: "我叫王小明", "老人叫李秀英", "我是她女儿刘丽",
    "my name is Anna Wu"."""
    found = []
    for start, after_self in _name_after_self(text):
        found.append(Entity("person", after_self, start, start + len(after_self), after_self,
                            "rules"))
    for m in _NAME_CUE_ZH.finditer(text):
        name = _chinese_name(m[1])
        if name and not any(e.start == m.start(1) for e in found):
            found.append(Entity("person", name, m.start(1), m.start(1) + len(name), name, "rules"))
    for m in _NAME_CUE_EN.finditer(text):
        words = []
        for word in m[1].split():
            if word.lower().strip("'") in _NAME_EN_STOP:
                break
            words.append(word)
        if words:
            name = " ".join(w.capitalize() if w.islower() else w for w in words)
            end = m.start(1) + len(" ".join(words))
            found.append(Entity("person", name, m.start(1), end, text[m.start(1):end], "rules"))
    return found


def extract_phones(text: str) -> list[Entity]:
    found = []
    for match in _PHONE.finditer(text):
        phone = normalize_phone(match.group(1))
        if phone:
            found.append(Entity("phone", phone, match.start(1), match.end(1), match.group(1),
                                "regex"))
    return found


def extract_id_numbers(text: str) -> list[Entity]:
    """18-character resident ID numbers that pass the python-stdnum checksum."""
    found = []
    for match in _ID.finditer(text):
        try:
            resident = parse_resident_id(re.sub(r"[ -]", "", match.group(1)))
        except IdNumberError:
            continue
        found.append(Entity("id_number", resident.number, match.start(1), match.end(1),
                            match.group(1), "stdnum"))
    return found


def extract_all(text: str, today: date | None = None) -> list[Entity]:
    """Every entity kind the flows use, ID numbers and phones first: digits inside them are
    never read again as dates or times."""
    numbers = [*extract_id_numbers(text), *extract_phones(text)]
    others = [*extract_services(text), *extract_relations(text), *extract_districts(text),
              *extract_persons(simplified(text)), *extract_dates(text, today),
              *extract_time_of_day(text)]
    kept = numbers + [e for e in others
                      if not any(n.start < e.end and e.start < n.end for n in numbers)]
    return sorted(kept, key=lambda e: (e.start, -e.end))

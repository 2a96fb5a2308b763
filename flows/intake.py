"""The intake flow (DOMAIN.md): privacy consent → applicant → patient identity → uploads →
pre-assessment → services → the family member present → informed consent → visit time."""
from __future__ import annotations

import re
from datetime import date, time
from typing import Any

from backend import audit, bookings, intakes, notify
from backend.area import locate
from backend.assessment import assess, grade_label
from backend.config import catalogue, hospital_config, questionnaire
from backend.crypto import mask
from backend.identity import IdNumberError, normalize_phone, parse_resident_id
from backend.models import Slot
from backend.storage import sniff_content_type
from documents.consent import ConsentContext, consent_summary, context_to_dict, service_line
from flows.engine import Turn
from flows.steps import END, STAY, Answer, Flow, Option, Prompt, Reprompt, Step, normalize
from nlu.entities import extract_relations, extract_services, relation_label

_NAME = re.compile(r"^[\u3400-\u9fff\U00020000-\U0003134F·•A-Za-z .'-]{2,20}$")


def yes_no(turn: Turn) -> list[Option]:
    return [Option("yes", turn.t("choice.yes"), ("是", "是的", "对", "yes", "y")),
            Option("no", turn.t("choice.no"), ("否", "不是", "no", "n"))]


def ask(text_key: str, options: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
    """A prompt function for a fixed question (and fixed options built from the turn)."""
    async def prompt(turn: Turn) -> Prompt:
        return Prompt(turn.t(text_key, **kw), options(turn) if options else [])
    return prompt


def require_option(turn: Turn, answer: Answer) -> Option:
    if answer.option is None:
        raise Reprompt(turn.t("reprompt_choice"))
    return answer.option


def clean_name(turn: Turn, answer: Answer) -> str:
    name = " ".join(answer.text.split())
    for prefix in ("我叫", "我是", "名字是", "姓名", "叫", "签名", "my name is", "i am"):
        if name.lower().startswith(prefix):
            name = name[len(prefix):].strip(" ：:")
    if not _NAME.match(name) or name.isascii() and len(name) < 3:
        raise Reprompt(turn.t("intake.name.invalid"))
    return name


# --- 0. privacy --------------------------------------------------------------------------

async def privacy_prompt(turn: Turn) -> Prompt:
    config = hospital_config()
    hospital = config.hospital
    notice = turn.t("privacy.notice", version=config.privacy_notice_version,
                    hospital=hospital.name(turn.lang),
                    years=hospital.data_retention_years, hotline=hospital.hotline)
    options = [Option("agree", turn.t("privacy.agree"), ("同意", "agree", "yes", "是", "好")),
               Option("decline", turn.t("privacy.decline"), ("不同意", "decline", "no", "否"))]
    return Prompt(turn.t("privacy.ask"), options, preface=[notice])


async def privacy_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def privacy_after(turn: Turn, value: str) -> str | None:
    config = hospital_config()
    if value == "decline":
        turn.say(turn.t("privacy.declined", hotline=config.hospital.hotline))
        return END
    if "intake_id" not in turn.meta:
        intake = await intakes.open_intake(turn.session, turn.user.id, config.privacy_notice_version)
        turn.meta["intake_id"] = intake.id
    return None


# --- 1. applicant ------------------------------------------------------------------------

def applicant_options(turn: Turn) -> list[Option]:
    return [Option("self", turn.t("intake.applicant.self"), ("本人", "自己", "我自己", "myself", "self")),
            Option("family", turn.t("intake.applicant.family"), ("家属", "代办", "family"))]


async def applicant_accept(turn: Turn, answer: Answer) -> str:
    if answer.option is None and extract_relations(answer.text):
        turn.answers["relation"] = extract_relations(answer.text)[0].value
        return "family"
    return require_option(turn, answer).id


def is_self(turn: Turn) -> bool:
    return turn.answers.get("applicant") == "self"


async def relation_accept(turn: Turn, answer: Answer) -> str:
    found = extract_relations(answer.text)
    if not found:
        raise Reprompt(turn.t("intake.relation.invalid"))
    return str(found[0].value)


async def name_accept(turn: Turn, answer: Answer) -> str:
    return clean_name(turn, answer)


async def patient_name_after(turn: Turn, value: str) -> None:
    applicant = value if is_self(turn) else turn.answers.get("applicant_name")
    await intakes.update_intake(turn.session, turn.meta["intake_id"],
                                applicant_is_patient=is_self(turn),
                                applicant_relation="self" if is_self(turn) else turn.answers.get("relation"),
                                applicant_name=applicant)


# --- 2. identity, phone, address ---------------------------------------------------------

async def id_accept(turn: Turn, answer: Answer) -> dict[str, Any]:
    text = re.sub(r"[\s-]", "", answer.text)
    try:
        resident = parse_resident_id(text, today=turn.today())
    except IdNumberError as error:
        raise Reprompt(turn.t(f"intake.id_number.{error.reason}")) from error
    turn.say(turn.t("intake.id_number.ok", sex=turn.t(f"sex.{resident.sex}"),
                    birth=resident.birth_date.isoformat(), age=resident.age_on(turn.today())))
    return {"number": resident.number, "birth": resident.birth_date.isoformat(), "sex": resident.sex}


async def phone_accept(turn: Turn, answer: Answer) -> str:
    phone = normalize_phone(answer.text)
    if phone is None:
        raise Reprompt(turn.t("intake.phone.invalid"))
    return phone


async def address_accept(turn: Turn, answer: Answer) -> str:
    address = answer.location.label if answer.location and answer.location.label else answer.text
    address = " ".join((address or "").split())
    if len(address) < 6:
        raise Reprompt(turn.t("intake.address.short"))
    placement = locate(address, hospital_config().service_area)
    if placement.outside:
        raise outside_area(turn, placement.outside)
    turn.meta["district"] = placement.district.name if placement.district else None
    return address


def outside_area(turn: Turn, place: str) -> Reprompt:
    """The polite refusal of a place outside the service area, naming the districts served."""
    area = hospital_config().service_area
    return Reprompt(turn.t("intake.address.outside", place=place,
                           city=area.city_zh if turn.lang == "zh" else area.city_en,
                           districts="、".join(d.label(turn.lang) for d in area.districts)))


async def address_after(turn: Turn, value: str) -> None:
    if turn.meta.get("district"):
        await save_patient(turn)


def district_options(turn: Turn) -> list[Option]:
    area = hospital_config().service_area
    return [*(Option(d.name, d.label(turn.lang), tuple(d.aliases)) for d in area.districts),
            Option("other", turn.t("intake.district.other"), ("其他", "other"))]


async def district_accept(turn: Turn, answer: Answer) -> str:
    option = require_option(turn, answer)
    if option.id == "other":
        raise outside_area(turn, turn.t("intake.district.other"))
    turn.meta["district"] = option.id
    return option.id


async def district_after(turn: Turn, value: str) -> None:
    await save_patient(turn)


async def save_patient(turn: Turn) -> None:
    ident = turn.answers["id_number"]
    resident = parse_resident_id(ident["number"], today=turn.today())
    patient = await intakes.save_patient(turn.session, turn.meta["intake_id"],
                                         name=turn.answers["patient_name"], resident_id=resident,
                                         phone=turn.answers["phone"], address=turn.answers["address"],
                                         district=turn.meta["district"])
    turn.meta["patient_id"] = patient.id


# --- 3. uploads --------------------------------------------------------------------------

async def store_media(turn: Turn, answer: Answer, kind: str) -> int:
    """Check each file by its bytes and size, store it encrypted; returns how many were stored."""
    rules = hospital_config().uploads
    stored = 0
    for media in answer.media:
        sniffed = sniff_content_type(media.data)
        if sniffed not in rules.content_types:
            raise Reprompt(turn.t("intake.upload.type", type=sniffed or media.content_type or "?"))
        if len(media.data) > rules.max_bytes:
            raise Reprompt(turn.t("intake.upload.size", size=_size(len(media.data)),
                                  limit=_size(rules.max_bytes)))
        upload = await intakes.save_upload(turn.session, channel_user_id=turn.user.id,
                                           intake_id=turn.meta["intake_id"], kind=kind, data=media.data,
                                           content_type=sniffed, filename=media.filename)
        turn.link_upload(upload.id)
        stored += 1
    return stored


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


async def id_card_accept(turn: Turn, answer: Answer) -> int:
    if not answer.media:
        raise Reprompt(turn.t("intake.upload.expected"))
    count = await store_media(turn, answer, "id_card")
    turn.say(turn.t("intake.upload_id.ok"))
    return count


async def records_prompt(turn: Turn) -> Prompt:
    done = Option("done", turn.t("intake.upload_records.done"), ("完成", "好了", "没有", "无", "done", "none"))
    return Prompt(turn.t("intake.upload_records"), [done])


async def records_accept(turn: Turn, answer: Answer) -> Any:
    if answer.media:
        await store_media(turn, answer, "medical_record")
        turn.meta["records"] = int(turn.meta.get("records", 0)) + len(answer.media)
        turn.say(turn.t("intake.upload_records.ok", count=turn.meta["records"]))
        return STAY
    if answer.option and answer.option.id == "done":
        return int(turn.meta.get("records", 0))
    raise Reprompt(turn.t("intake.upload.expected"))


# --- 4. questionnaire --------------------------------------------------------------------

def question_steps() -> list[Step]:
    spec = questionnaire()
    steps = []
    for number, question in enumerate(spec.questions):
        async def prompt(turn: Turn, q=question, first=number == 0) -> Prompt:
            preface = [turn.t("intake.questionnaire.start", count=len(spec.questions))] if first else []
            options = [Option(str(i), o.label(turn.lang)) for i, o in enumerate(q.options)]
            return Prompt(q.text(turn.lang), options, preface=preface)

        async def accept(turn: Turn, answer: Answer, q=question) -> Any:
            if q.free_text:
                if not answer.text:
                    raise Reprompt(turn.t("intake.question.free.empty"))
                return answer.text
            return int(require_option(turn, answer).id)

        last = number == len(spec.questions) - 1
        steps.append(Step(f"q_{question.id}", prompt, accept, after=assessment_after if last else _none))
    return steps


async def _none(turn: Turn, value: Any) -> None:
    return None


async def assessment_after(turn: Turn, value: Any) -> str | None:
    spec = questionnaire()
    answers = {q.id: turn.answers.get(f"q_{q.id}") for q in spec.questions}
    result = assess(spec, answers, turn.lang)
    await intakes.save_assessment(turn.session, turn.meta["intake_id"], spec.version, answers, result)
    turn.meta["assessment"] = {"score": result.barthel_score, "grade": result.barthel_grade,
                               "flags": result.flags}
    turn.say(turn.t("intake.assessment.result", score=result.barthel_score,
                    grade=grade_label(spec, result.barthel_grade, turn.lang)))
    if not result.eligible:
        await intakes.update_intake(turn.session, turn.meta["intake_id"], status="not_eligible")
        for reason in result.stop_reasons:
            turn.say(turn.t("intake.assessment.stop", reason=reason,
                            hotline=hospital_config().hospital.hotline))
        return END
    return None


# --- 5. services -------------------------------------------------------------------------

async def services_prompt(turn: Turn) -> Prompt:
    options = [Option(s.code, f"{s.name(turn.lang)}（{s.price}元）" if turn.lang == "zh"
                      else f"{s.name(turn.lang)} (CNY {s.price})", tuple(s.synonyms))
               for s in catalogue().bookable]
    return Prompt(turn.t("intake.services"), options, multiple=True)


async def services_accept(turn: Turn, answer: Answer) -> list[str]:
    items = catalogue()
    codes = [o.id for o in answer.options]
    if not codes and answer.text:
        codes = list(dict.fromkeys(str(e.value) for e in extract_services(answer.text)))
    if not codes:
        raise Reprompt(turn.t("reprompt_choice"))
    flags = set(turn.meta.get("assessment", {}).get("flags", []))
    for code in codes:
        item = items.get(code)
        if item is None:
            raise Reprompt(turn.t("reprompt_choice"))
        if item.listed == "negative":
            raise Reprompt(turn.t("intake.services.negative", service=item.name(turn.lang),
                                  reason=item.reason(turn.lang)))
        blocking = flags.intersection(item.ruled_out_by)
        if blocking:
            raise Reprompt(turn.t("intake.services.ruled_out", service=item.name(turn.lang),
                                  reason=turn.t(f"intake.services.flag.{sorted(blocking)[0]}")))
    names = "、".join(items.get(c).name(turn.lang) for c in codes)  # type: ignore[union-attr]
    turn.say(turn.t("intake.services.selected", services=names))
    return codes


async def services_after(turn: Turn, value: list[str]) -> None:
    await intakes.update_intake(turn.session, turn.meta["intake_id"], service_codes=value)


# --- 6. the family member present --------------------------------------------------------

def present_is_applicant(turn: Turn) -> bool:
    return turn.answers.get("present_same") == "yes"


async def present_same_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def present_relation_accept(turn: Turn, answer: Answer) -> str:
    found = extract_relations(answer.text)
    if not found:
        raise Reprompt(turn.t("intake.relation.invalid"))
    return str(found[0].value)


def present_person(turn: Turn) -> tuple[str, str]:
    if present_is_applicant(turn):
        return turn.answers["applicant_name"], turn.answers.get("relation", "self")
    return turn.answers["present_name"], turn.answers["present_relation"]


async def present_phone_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.t("intake.present_phone"), request_contact=True)


async def present_phone_after(turn: Turn, value: str) -> None:
    name, relation = present_person(turn)
    await intakes.update_intake(turn.session, turn.meta["intake_id"], present_name=name,
                                present_relation=relation, present_phone=value)


# --- 7. informed consent -----------------------------------------------------------------

def applicant_name(turn: Turn) -> str:
    return turn.answers["patient_name"] if is_self(turn) else turn.answers["applicant_name"]


def relation_words(turn: Turn, code: str) -> str:
    """How a relation to the patient reads in the family's language ("self" for the patient)."""
    return turn.t("intake.applicant.self") if code == "self" else relation_label(code, turn.lang)


def consent_context(turn: Turn, document_id: str = "") -> ConsentContext:
    """The consent's values from this intake's answers (also used for the PDF)."""
    config, items, lang = hospital_config(), catalogue(), turn.lang
    ident = turn.answers["id_number"]
    birth = date.fromisoformat(ident["birth"])
    today = turn.today()
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    codes = turn.answers["services"]
    lines = [service_line(c, items.get(c).name(lang), items.get(c).price, lang) for c in codes]  # type: ignore[union-attr]
    present_name, present_relation = present_person(turn)
    relation = "self" if is_self(turn) else turn.answers.get("relation", "")
    assessment = turn.meta.get("assessment", {})
    return ConsentContext(
        document_id=document_id, language=lang, template_version=config.consent_template_version,
        hospital=config.hospital, patient_name=turn.answers["patient_name"],
        patient_id_masked=mask(ident["number"], 4), patient_sex=turn.t(f"sex.{ident['sex']}"),
        patient_age=age, patient_address=turn.answers["address"], patient_district=turn.meta["district"],
        applicant_name=applicant_name(turn),
        applicant_relation=relation_words(turn, relation),
        present_name=present_name,
        present_relation=relation_words(turn, present_relation),
        present_phone_masked=mask(turn.answers["present_phone"], 4), services=lines,
        fees={"transport": config.fees.transport, "it_service": config.fees.it_service,
              "labour": config.fees.labour},
        total_price=bookings.price_of(items, config, codes),
        barthel_score=assessment.get("score"),
        barthel_grade=grade_label(questionnaire(), assessment["grade"], lang) if assessment else "",
        channel=turn.user.channel, channel_user_id=turn.user.external_id)


async def consent_prompt(turn: Turn) -> Prompt:
    context = consent_context(turn)
    summary = consent_summary(context)
    if "consent_id" not in turn.meta:
        consent = await intakes.present_consent(
            turn.session, turn.meta["intake_id"], template_version=context.template_version,
            language=turn.lang, summary=summary, channel=turn.user.channel,
            channel_external_id=turn.user.external_id)
        turn.meta["consent_id"] = consent.id
    return Prompt(turn.t("consent.sign", applicant=applicant_name(turn)),
                  preface=[turn.t("consent.summary.intro"), summary])


async def consent_accept(turn: Turn, answer: Answer) -> str:
    said = normalize(answer.text)
    if said in (normalize(turn.t("consent.decline_word")), "不同意", "decline", "拒绝", "不签"):
        return "declined"
    for prefix in ("签名", "我同意", "同意", "signature", "signed"):
        said = said.removeprefix(prefix)
    if said != normalize(applicant_name(turn)):
        raise Reprompt(turn.t("consent.sign.mismatch", applicant=applicant_name(turn)))
    return applicant_name(turn)


async def consent_after(turn: Turn, value: str) -> str | None:
    if value == "declined":
        await intakes.update_intake(turn.session, turn.meta["intake_id"], status="consent_declined")
        turn.say(turn.t("consent.declined", hotline=hospital_config().hospital.hotline))
        return END
    consent = await intakes.sign_consent(turn.session, turn.meta["consent_id"], value)
    turn.say(turn.t("consent.signed", time=consent.signed_at.astimezone(_tz()).strftime("%Y-%m-%d %H:%M")))  # type: ignore[union-attr]
    context = consent_context(turn, consent.document_id)
    context.signer_name, context.signed_at = consent.signer_name, consent.signed_at
    context.channel, context.channel_user_id = turn.user.channel, turn.user.external_id
    # The sealed PDF is made in the background and reaches the family through their channel.
    await notify.notify_family(turn.session, turn.user.id, "consent.document", message="consent.document_ready",
                               values={"consent_id": consent.id, "context": context_to_dict(context)})
    await audit.record(turn.session, f"family:{turn.user.channel}", "consent.signed",
                       f"consent:{consent.id}", {"document_id": consent.document_id})
    return None


def _tz():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(hospital_config().schedule.timezone)


# --- 8. visit time and confirmation ------------------------------------------------------

def slot_label(turn: Turn, day: date, start: time, end: time) -> str:
    date_text = f"{day.month}月{day.day}日" if turn.lang == "zh" else day.strftime("%b %d")
    return turn.t("slot.label", date=date_text, weekday=turn.t(f"weekday.{day.weekday()}"),
                  start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))


async def slot_prompt(turn: Turn) -> Prompt:
    slots = await bookings.open_slots(turn.session, hospital_config(), turn.meta["district"],
                                      today=turn.today())
    if not slots:
        district = hospital_config().service_area.district(turn.meta["district"])
        return Prompt(turn.t("slot.none", district=district.label(turn.lang) if district else ""))
    options = [Option(str(s.id), slot_label(turn, s.day, s.start, s.end)) for s in slots]
    return Prompt(turn.t("slot.ask"), options)


async def slot_accept(turn: Turn, answer: Answer) -> int:
    if answer.option is not None:
        return int(answer.option.id)
    parse = await turn.parse()
    wanted_day, part = parse.first("date"), parse.first("time")
    if wanted_day:
        for option_id in (o.id for o in turn.offered):
            slot = await turn.session.get(Slot, int(option_id))
            if slot is None or slot.day.isoformat() != wanted_day:
                continue
            if part in (None, "morning") and slot.start.hour < 12 or part in ("afternoon", "evening") and slot.start.hour >= 12:
                return slot.id
        raise Reprompt(turn.t("slot.not_open"))
    raise Reprompt(turn.t("reprompt_choice"))


async def confirm_prompt(turn: Turn) -> Prompt:
    slot = await turn.session.get_one(Slot, turn.answers["slot"])
    items, config = catalogue(), hospital_config()
    codes = turn.answers["services"]
    present_name, present_relation = present_person(turn)
    relation = relation_words(turn, present_relation)
    text = turn.t("confirm.ask", patient=turn.answers["patient_name"], address=turn.answers["address"],
                  slot=slot_label(turn, slot.day, slot.start, slot.end),
                  services="、".join(items.get(c).name(turn.lang) for c in codes),  # type: ignore[union-attr]
                  present=f"{present_name}（{relation}）", price=bookings.price_of(items, config, codes))
    return Prompt(text, [Option("yes", turn.t("confirm.yes"), ("确认", "是", "对", "yes", "confirm", "好")),
                         Option("change", turn.t("confirm.change_time"), ("换", "改时间", "change"))])


async def confirm_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def confirm_after(turn: Turn, value: str) -> str | None:
    if value == "change":
        return "slot"
    present_name, present_relation = present_person(turn)
    codes = turn.answers["services"]
    new = bookings.NewBooking(
        intake_id=turn.meta["intake_id"], patient_id=turn.meta["patient_id"],
        channel_user_id=turn.user.id, slot_id=turn.answers["slot"], service_codes=codes,
        district=turn.meta["district"], address=turn.answers["address"], present_name=present_name,
        present_relation=present_relation, present_phone=turn.answers["present_phone"],
        total_price=bookings.price_of(catalogue(), hospital_config(), codes))
    try:
        async with turn.session.begin_nested():
            booking = await bookings.create_booking(turn.session, new, actor=f"family:{turn.user.channel}")
    except bookings.SlotFull:
        turn.say(turn.t("slot.taken"))
        return "slot"
    await intakes.update_intake(turn.session, turn.meta["intake_id"], status="booked")
    turn.meta["booking_number"] = booking.number
    return None


async def intake_finish(turn: Turn) -> None:
    turn.say(turn.t("booking.done", number=turn.meta["booking_number"]))


def intake_flow() -> Flow:
    """The intake as a list of steps; the questionnaire's steps come from its data file."""
    steps = [
        Step("privacy", privacy_prompt, privacy_accept, after=privacy_after),
        Step("applicant", ask("intake.applicant", applicant_options), applicant_accept),
        Step("relation", ask("intake.relation"), relation_accept,
             skip=lambda turn: is_self(turn) or "relation" in turn.answers),
        Step("applicant_name", ask("intake.applicant_name"), name_accept, skip=is_self),
        Step("patient_name", ask("intake.patient_name"), name_accept, after=patient_name_after),
        Step("id_number", ask("intake.id_number"), id_accept),
        Step("phone", ask("intake.phone"), phone_accept),
        Step("address", ask("intake.address"), address_accept, after=address_after),
        Step("district", ask("intake.district", district_options), district_accept,
             after=district_after, skip=lambda turn: bool(turn.meta.get("district"))
             and "district" not in turn.answers),
        Step("upload_id", ask("intake.upload_id"), id_card_accept, accepts_media=True),
        Step("upload_records", records_prompt, records_accept, accepts_media=True),
        *question_steps(),
        Step("services", services_prompt, services_accept, after=services_after),
        Step("present_same", ask("intake.present_same", yes_no), present_same_accept, skip=is_self),
        Step("present_name", ask("intake.present_name"), name_accept, skip=present_is_applicant),
        Step("present_relation", ask("intake.present_relation"), present_relation_accept,
             skip=present_is_applicant),
        Step("present_phone", present_phone_prompt, phone_accept, after=present_phone_after),
        Step("consent", consent_prompt, consent_accept, after=consent_after),
        Step("slot", slot_prompt, slot_accept),
        Step("confirm", confirm_prompt, confirm_accept, after=confirm_after),
    ]
    return Flow("intake", steps, intake_finish)

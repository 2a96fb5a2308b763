"""The intake's actions (DOMAIN.md). The steps themselves, their kinds, options and order, are in
flows/data/intake.yaml; this module gives the hooks that file names: opening the intake, the
service area, storing uploads, scoring the assessment, pricing, the review, the signature and
the booking."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time
from typing import Any

from sqlalchemy import select

from backend import audit, bookings, intakes, notify
from backend.area import locate
from backend.artefacts import public_url, signed_path, store_artefact
from backend.assessment import assess, grade_label
from backend.config import catalogue, hospital_config, questionnaire
from backend.crypto import mask
from backend.identity import parse_resident_id
from backend.models import Consent, Slot, Upload
from backend.series import SeriesPlan, plan_series
from backend.settings import get_settings
from backend.storage import sniff_content_type
from documents.consent import ConsentContext, consent_summary, context_to_dict, service_line
from flows.engine import Turn
from flows.kinds import FlowStep, Hooks, build_flow, build_step
from flows.messages import join, visit_time
from flows.spec import StepSpec, load_flow_spec
from flows.steps import AGAIN, END, STAY, Answer, Flow, Option, Prompt, Reprompt, Step, normalize
from nlu.entities import relation_label
from nlu.frequency import Frequency, read_frequency


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


# --- 0. privacy --------------------------------------------------------------------------

async def privacy_prompt(turn: Turn) -> Prompt:
    config = hospital_config()
    hospital = config.hospital
    notice = turn.t("privacy.notice", version=config.privacy_notice_version,
                    hospital=hospital.name(turn.lang),
                    years=hospital.data_retention_years, hotline=hospital.hotline)
    step = next(s for s in load_flow_spec("intake").steps if s.id == "privacy")
    options = [Option(o.id, turn.t(o.label), tuple(o.aliases)) for o in step.options]
    return Prompt(turn.t("privacy.ask"), options, preface=[notice])


async def open_intake(turn: Turn, value: str) -> str | None:
    config = hospital_config()
    if value == "decline":
        turn.data.facts = {}  # nothing the family wrote is kept
        turn.say(turn.t("privacy.declined", hotline=config.hospital.hotline))
        return END
    if "intake_id" not in turn.meta:
        intake = await intakes.open_intake(turn.session, turn.user.id, config.privacy_notice_version)
        turn.meta["intake_id"] = intake.id
    return None


# --- 1. applicant ------------------------------------------------------------------------

async def applicant_check(turn: Turn, value: str, answer: Answer) -> str:
    if value in ("self", "family"):
        return value
    from flows.facts import read_facts  # noqa: PLC0415

    facts = read_facts(answer.text)
    if facts.self_applicant:
        return "self"
    if facts.speaker_relation:  # "我是她女儿": a relative applying, and the relation is known
        turn.data.facts["relation"] = facts.speaker_relation
        return "family"
    raise Reprompt(turn.t("reprompt_choice"))


async def patient_name_prompt(turn: Turn) -> Prompt:
    return Prompt(turn.t("intake.patient_name.self" if is_self(turn) else "intake.patient_name"))


def is_self(turn: Turn) -> bool:
    return turn.answers.get("applicant") == "self"


async def save_applicant(turn: Turn, value: str) -> None:
    applicant = value if is_self(turn) else turn.answers.get("applicant_name")
    await intakes.update_intake(turn.session, turn.meta["intake_id"],
                                applicant_is_patient=is_self(turn),
                                applicant_relation="self" if is_self(turn) else turn.answers.get("relation"),
                                applicant_name=applicant)
    if turn.meta.get("patient_id"):  # a correction after the patient was saved
        await save_patient(turn)


# --- 2. identity, phone, address ---------------------------------------------------------

async def id_number_check(turn: Turn, value: dict[str, Any], answer: Answer) -> dict[str, Any]:
    resident = parse_resident_id(value["number"], today=turn.today())
    turn.say(turn.t("intake.id_number.ok", sex=turn.t(f"sex.{resident.sex}"),
                    birth=resident.birth_date.isoformat(), age=resident.age_on(turn.today())))
    return value


async def in_service_area(turn: Turn, value: str, answer: Answer) -> str:
    placement = locate(value, hospital_config().service_area)
    if placement.outside:
        raise outside_area(turn, placement.outside)
    turn.meta["district"] = placement.district.name if placement.district else None
    return value


def outside_area(turn: Turn, place: str) -> Reprompt:
    """The polite refusal of a place outside the service area, naming the districts served."""
    area = hospital_config().service_area
    return Reprompt(turn.t("intake.address.outside", place=place,
                           city=area.city_zh if turn.lang == "zh" else area.city_en,
                           districts=join(turn.lang, (d.label(turn.lang) for d in area.districts))))


async def placed(turn: Turn, value: str) -> None:
    if turn.meta.get("district"):
        turn.answers.pop("district", None)
        await save_patient(turn)


async def district_options(turn: Turn) -> list[Option]:
    area = hospital_config().service_area
    return [*(Option(d.name, d.label(turn.lang), tuple(d.aliases)) for d in area.districts),
            Option("other", turn.t("intake.district.other"), ("其他", "other"))]


async def district_check(turn: Turn, value: str, answer: Answer) -> str:
    if value == "other":
        raise outside_area(turn, turn.t("intake.district.other"))
    turn.meta["district"] = value
    return value


def district_known(turn: Turn) -> bool:
    return bool(turn.meta.get("district")) and "district" not in turn.answers


async def save_patient_after(turn: Turn, value: Any) -> None:
    await save_patient(turn)


async def save_patient(turn: Turn) -> None:
    if not all(k in turn.answers for k in ("patient_name", "id_number", "phone", "address")) \
            or not turn.meta.get("district"):
        return
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


async def id_card(turn: Turn, value: Answer, answer: Answer) -> int:
    count = await store_media(turn, answer, "id_card")
    turn.say(turn.t("intake.upload_id.ok"))
    return count


async def records(turn: Turn, value: Any, answer: Answer) -> Any:
    if value == "done":
        return int(turn.meta.get("records", 0))
    await store_media(turn, answer, "medical_record")
    turn.meta["records"] = int(turn.meta.get("records", 0)) + len(answer.media)
    turn.say(turn.t("intake.upload_records.ok", count=turn.meta["records"]))
    return STAY


# --- 4. questionnaire --------------------------------------------------------------------

def question_steps(spec: StepSpec) -> list[Step]:
    """One step per question of backend/data/questionnaire.yaml; the last one scores them."""
    survey = questionnaire()
    steps: list[Step] = []
    for number, question in enumerate(survey.questions):
        step = build_step(StepSpec(id=f"q_{question.id}", kind="questionnaire",
                                   after=spec.after if number == len(survey.questions) - 1 else None,
                                   called=[question.zh.split("：")[0]] if "：" in question.zh else []),
                          HOOKS)

        async def prompt(turn: Turn, q=question, n=number + 1) -> Prompt:
            total = len(survey.questions)
            preface = [turn.t("intake.questionnaire.start", count=total)] if n == 1 else []
            options = [Option(str(i), o.label(turn.lang), tuple(o.aliases)) for i, o in enumerate(q.options)]
            # where the family is in the questionnaire ("第5/16题"), on its own line above the question
            progress = turn.t("intake.question.progress", n=n, total=total)
            return Prompt(f"{progress}\n{q.text(turn.lang)}", options, preface=preface)

        step.prompt = prompt
        steps.append(step)
    return steps


async def assessed(turn: Turn, value: Any) -> str | None:
    survey = questionnaire()
    answers = {q.id: _question_value(turn.answers.get(f"q_{q.id}"), q.free_text) for q in survey.questions}
    result = assess(survey, answers, turn.lang)
    await intakes.save_assessment(turn.session, turn.meta["intake_id"], survey.version, answers, result)
    turn.meta["assessment"] = {"score": result.barthel_score, "grade": result.barthel_grade,
                               "flags": result.flags}
    turn.say(turn.t("intake.assessment.result", score=result.barthel_score,
                    grade=grade_label(survey, result.barthel_grade, turn.lang)))
    if not result.eligible:
        await intakes.update_intake(turn.session, turn.meta["intake_id"], status="not_eligible")
        for reason in result.stop_reasons:
            turn.say(turn.t("intake.assessment.stop", reason=reason,
                            hotline=hospital_config().hospital.hotline))
        return END
    return None


def _question_value(value: Any, free_text: bool) -> Any:
    if value is None or free_text:
        return value
    return int(value)


# --- 5. services -------------------------------------------------------------------------

async def services_prompt(turn: Turn) -> Prompt:
    options = [Option(s.code, f"{s.name(turn.lang)}（{s.price}元）" if turn.lang == "zh"
                      else f"{s.name(turn.lang)} (CNY {s.price})", tuple(s.synonyms))
               for s in catalogue().bookable]
    preselected = turn.data.facts.get("services")
    text = turn.t("intake.services")
    if preselected:
        names = join(turn.lang, (catalogue().get(c).name(turn.lang) for c in preselected  # type: ignore[union-attr]
                                 if catalogue().get(c)))
        text = turn.t("intake.services.preselected", services=names) + "\n" + text
    return Prompt(text, options, multiple=True)


async def services_check(turn: Turn, codes: list[str], answer: Answer) -> list[str]:
    items = catalogue()
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
    turn.data.facts.pop("services", None)
    turn.say(turn.t("intake.services.selected", services=service_names(turn, codes)))
    return codes


def service_names(turn: Turn, codes: list[str]) -> str:
    items = catalogue()
    return join(turn.lang, (items.get(c).name(turn.lang) if items.get(c) else c for c in codes))  # type: ignore[union-attr]


async def save_services(turn: Turn, value: list[str]) -> None:
    await intakes.update_intake(turn.session, turn.meta["intake_id"], service_codes=value)


# --- 5b. repeat visits (DOMAIN.md: a discharge order may name the frequency) -------------

def frequency_phrase(turn: Turn) -> str | None:
    """The discharge order's frequency as given ("每周二、周五，连续4周"), if any."""
    return turn.data.facts.get("visits") or turn.meta.get("frequency")


def no_frequency(turn: Turn) -> bool:
    """No message named a frequency (this one included): the visits question does not apply."""
    if frequency_phrase(turn) or "visits" in turn.answers:
        return False
    return read_frequency(turn.inbound.text or "") is None


def is_series(turn: Turn) -> bool:
    return turn.answers.get("visits") == "series" and bool(turn.meta.get("frequency"))


def _frequency(phrase: str) -> Frequency:
    frequency = read_frequency(phrase)
    if frequency is None:  # a canonical phrase always reads back
        raise ValueError(f"not a frequency: {phrase}")
    return frequency


def visit_count(phrase: str) -> int:
    """How many visits the series has (the hospital's default weeks when the order names none)."""
    frequency, rules = _frequency(phrase), hospital_config().series
    return min(frequency.weeks or rules.default_weeks, rules.max_weeks) * frequency.visits_a_week


def frequency_words(turn: Turn, phrase: str) -> str:
    """The frequency in the family's language: 每周二、周五，连续4周（共8次） / every Tue, Fri …"""
    frequency, rules = _frequency(phrase), hospital_config().series
    if frequency.weekdays:
        text = turn.t("visits.days", days=join(turn.lang, (turn.t(f"weekday.{d}") for d in frequency.weekdays)))
    else:
        text = turn.t("visits.per_week", count=frequency.per_week)
    weeks = min(frequency.weeks or rules.default_weeks, rules.max_weeks)
    return text + turn.t("visits.weeks", weeks=weeks, count=visit_count(phrase))


async def visits_prompt(turn: Turn) -> Prompt:
    phrase = frequency_phrase(turn) or ""
    return Prompt(turn.t("visits.ask", frequency=frequency_words(turn, phrase)), [
        Option("series", turn.t("visits.series", count=visit_count(phrase)),
               ("按医嘱", "按医嘱预约", "全部", "都约", "都预约", "按这个", "按这个频次", "是", "好", "对", "all", "yes")),
        Option("once", turn.t("visits.once"), ("只约一次", "一次", "先约一次", "就一次", "只要一次", "once", "just once"))])


async def visits_check(turn: Turn, value: str, answer: Answer) -> str:
    turn.meta["frequency"] = frequency_phrase(turn)
    turn.data.facts.pop("visits", None)
    if value in ("series", "once"):
        return value
    turn.meta["frequency"] = value  # the frequency said anew ("不对，是每周三次"): the series it names
    turn.say(turn.t("understood", facts=turn.t("fact.visits") + turn.t("fact.separator") + frequency_words(turn, value)))
    return "series"


async def series_plan(turn: Turn, first: Slot) -> SeriesPlan:
    frequency = _frequency(turn.meta["frequency"])
    return await plan_series(turn.session, hospital_config(), turn.meta["district"], first,
                             weekdays=frequency.weekdays, per_week=frequency.per_week, weeks=frequency.weeks)


# --- 6. the family member present --------------------------------------------------------

def present_is_applicant(turn: Turn) -> bool:
    """The applicant (a relative) will be there; a patient applying for themselves still needs a
    family member or caregiver present (DOMAIN.md), who is asked for."""
    return not is_self(turn) and turn.answers.get("present_same") == "yes"


async def present_same_check(turn: Turn, value: str, answer: Answer) -> str:
    from flows.facts import read_facts  # noqa: PLC0415 - a sentence may name someone else

    facts = read_facts(answer.text)
    if facts.other_present or facts.speaker_present is False:
        return "no"
    return value


def present_person(turn: Turn) -> tuple[str, str]:
    if present_is_applicant(turn):
        return turn.answers["applicant_name"], turn.answers.get("relation", "self")
    return turn.answers["present_name"], turn.answers["present_relation"]


async def save_present(turn: Turn, value: str) -> None:
    name, relation = present_person(turn)
    await intakes.update_intake(turn.session, turn.meta["intake_id"], present_name=name,
                                present_relation=relation, present_phone=value)


# --- 7. review and informed consent ------------------------------------------------------

def applicant_name(turn: Turn) -> str:
    return turn.answers["patient_name"] if is_self(turn) else turn.answers["applicant_name"]


def relation_words(turn: Turn, code: str) -> str:
    """How a relation to the patient reads in the family's language ("self" for the patient)."""
    return turn.t("intake.applicant.self") if code == "self" else relation_label(code, turn.lang)


def review_lines(turn: Turn) -> list[tuple[str, str]]:
    """(step, line) for each fact that goes into the agreement, in the order of the flow."""
    ident = turn.answers["id_number"]
    present_name, present_relation = present_person(turn)
    items, config = catalogue(), hospital_config()
    codes = turn.answers["services"]
    assessment = turn.meta.get("assessment", {})
    lines = [("patient_name", turn.t("review.patient", name=turn.answers["patient_name"],
                                     sex=turn.t(f"sex.{ident['sex']}"), birth=ident["birth"])),
             ("id_number", turn.t("review.id_number", number=mask(ident["number"], 4))),
             ("phone", turn.t("review.phone", phone=turn.answers["phone"])),
             ("address", turn.t("review.address", address=turn.answers["address"])),
             ("services", turn.t("review.services", services=service_names(turn, codes),
                                 price=bookings.price_of(items, config, codes)))]
    if is_series(turn):
        lines.append(("visits", turn.t("review.visits", frequency=frequency_words(turn, turn.meta["frequency"]))))
    if not is_self(turn):
        lines.insert(0, ("applicant_name", turn.t("review.applicant", name=turn.answers["applicant_name"],
                                                  relation=relation_words(turn, turn.answers.get("relation", "")))))
    lines.append(("present_name" if not present_is_applicant(turn) else "present_same",
                  turn.t("review.present", name=present_name, relation=relation_words(turn, present_relation))))
    lines.append(("present_phone", turn.t("review.present_phone", phone=turn.answers["present_phone"])))
    if assessment:
        lines.append(("questionnaire", turn.t("review.assessment", score=assessment.get("score"),
                                              grade=grade_label(questionnaire(), assessment["grade"], turn.lang))))
    return lines


async def review_prompt(turn: Turn) -> Prompt:
    lines = review_lines(turn)
    text = "\n".join([*(f"{i}. {line}" for i, (_, line) in enumerate(lines, 1)), turn.t("review.ask")])
    return Prompt(text, preface=[turn.t("review.intro")], options=[Option("yes", turn.t("review.correct"), (
        "确认", "无误", "没问题", "对", "是", "正确", "对了", "都对", "没错", "可以了", "都没问题", "yes",
        "correct", "confirm", "all correct", "looks good", "that's right")),
                         Option("change", turn.t("review.change"), ("修改", "改", "不对", "change"))])


async def review_check(turn: Turn, value: str, answer: Answer) -> str:
    if value == "yes":
        return "confirmed"
    lines = review_lines(turn)
    number = int(value.removeprefix("line:")) if value.startswith("line:") else 0
    if not 1 <= number <= len(lines):
        raise Reprompt(turn.t("review.which"))
    target = lines[number - 1][0]
    turn.data.return_to = "review"
    turn.data.revisit = target
    return "change"


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
        visit=turn.t("consent.visits", frequency=frequency_words(turn, turn.meta["frequency"])) if is_series(turn) else "",
        cancellation=cancellation_terms(turn),
        channel=turn.user.channel, channel_user_id=turn.user.external_id)


async def consent_prompt(turn: Turn) -> Prompt:
    context = consent_context(turn)
    summary = consent_summary(context)
    consent = await turn.session.get(Consent, turn.meta["consent_id"]) if "consent_id" in turn.meta else None
    if consent is None or consent.summary_sha256 != _sha256(summary):  # first time, or reviewed again
        consent = await intakes.present_consent(
            turn.session, turn.meta["intake_id"], template_version=context.template_version,
            language=turn.lang, summary=summary, channel=turn.user.channel,
            channel_external_id=turn.user.external_id)
        turn.meta["consent_id"] = consent.id
    full_text = Option("full_text", turn.t("consent.full_text"), ("协议全文", "全文", "原文", "完整", "full text"))
    return Prompt(turn.t("consent.sign", applicant=applicant_name(turn)), [full_text],
                  preface=[turn.t("consent.summary.intro"), summary])


def _sha256(text: str) -> str:
    import hashlib  # noqa: PLC0415

    return hashlib.sha256(text.encode()).hexdigest()


_FULL_TEXT = re.compile(r"全文|原文|完整的?(?:协议|内容|同意书)|看一下协议|协议内容|full text|whole agreement|read the agreement", re.I)
_DECLINE = re.compile(r"^(?:不同意|拒绝|不签|我不签|decline|i decline|no)$", re.I)


async def signature_check(turn: Turn, value: str, answer: Answer) -> str:
    if answer.option is not None and answer.option.id == "full_text" or _FULL_TEXT.search(value):
        turn.replies.extend(await agreement_text(turn))
        return STAY  # type: ignore[return-value]
    said = normalize(value)
    if _DECLINE.match(said) or said == normalize(turn.t("consent.decline_word")):
        return "declined"
    name = applicant_name(turn)
    for prefix in ("签名", "签字", "我同意", "同意", "signature", "signed", "iagree", "agree"):
        said = said.removeprefix(prefix)
    if said != normalize(name):
        raise Reprompt(turn.t("consent.sign.mismatch", applicant=name))
    return name


async def agreement_text(turn: Turn) -> list[Any]:
    """The whole agreement as a readable web page behind a signed link (a file on channels that
    take files), recorded as shown; the family then signs or declines."""
    from documents.pdf import agreement_html  # noqa: PLC0415 - loads the seal only when asked
    from flows.types import Outbound  # noqa: PLC0415

    consent = await turn.session.get_one(Consent, turn.meta["consent_id"])
    html = agreement_html(consent_context(turn, consent.document_id)).encode()
    artefact = await store_artefact(turn.session, owner_kind="consent", owner_id=consent.id,
                                    kind="agreement_html", data=html, content_type="text/html; charset=utf-8")
    filename = turn.t("consent.full_text.filename")
    url = public_url(get_settings().public_url, signed_path(artefact.id, filename))
    consent.events = [*consent.events, {"event": "full_text_shown", "at": turn.now().isoformat()}]
    return [Outbound(kind="document", text=turn.t("consent.full_text.link", url=url), data=html,
                     filename=filename, content_type="text/html", url=url)]


async def signed(turn: Turn, value: str) -> str | None:
    if value == "declined":
        await intakes.update_intake(turn.session, turn.meta["intake_id"], status="consent_declined")
        turn.say(turn.t("consent.declined", hotline=hospital_config().hospital.hotline))
        return END
    consent = await intakes.sign_consent(turn.session, turn.meta["consent_id"], value)
    turn.say(turn.t("consent.signed", time=consent.signed_at.astimezone(_tz()).strftime("%Y-%m-%d %H:%M")))  # type: ignore[union-attr]
    context = consent_context(turn, consent.document_id)
    context.signer_name, context.signed_at = consent.signer_name, consent.signed_at
    context.channel, context.channel_user_id = turn.user.channel, turn.user.external_id
    context.identity_checks = await identity_checks(turn)
    # Sealing is a job of its own (bot/notifier.py seal_consents): the PDF is rendered with no
    # transaction open, then stored and queued for the family as a plain document message.
    await notify.notify_family(turn.session, turn.user.id, notify.SEAL_CONSENT, message="consent.document_ready",
                               values={"consent_id": consent.id, "context": context_to_dict(context)})
    await audit.record(turn.session, f"family:{turn.user.channel}", "consent.signed",
                       f"consent:{consent.id}", {"document_id": consent.document_id})
    return None


async def identity_checks(turn: Turn) -> list[str]:
    """How the patient's identity was checked, for the consent's evidence (DOMAIN.md: 服务对象身份认证):
    the resident ID's checksum and birth date (python-stdnum), and the ID card photo received."""
    checks = [turn.t("evidence.id_checksum")]
    photos = (await turn.session.execute(select(Upload.sha256).where(
        Upload.intake_id == turn.meta["intake_id"], Upload.kind == "id_card").order_by(Upload.id))).scalars().all()
    checks.extend(turn.t("evidence.id_photo", sha=sha[:16]) for sha in photos)
    return checks


async def withdraw_signature(turn: Turn) -> None:
    """A fact in the agreement changed after signing: the signed consent no longer holds."""
    consent = await turn.session.get(Consent, turn.meta.get("consent_id", 0))
    if consent is not None and consent.signed_at is not None:
        consent.status = "superseded"
        consent.events = [*consent.events, {"event": "superseded", "at": turn.now().isoformat()}]
        await audit.record(turn.session, f"family:{turn.user.channel}", "consent.superseded",
                           f"consent:{consent.id}", {"document_id": consent.document_id})
    turn.meta.pop("consent_id", None)


def _tz():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    return ZoneInfo(hospital_config().schedule.timezone)


def cancellation_terms(turn: Turn) -> str:
    """The hospital's cancellation rules in the family's language (hospital.yaml ``cancellation``)."""
    config = hospital_config()
    rules = config.cancellation
    return turn.t("cancel.terms", hours=rules.chat_until_hours, hotline=config.hospital.hotline,
                  fees=join(turn.lang, (turn.t(f"cancel.fee.{name}") for name in rules.fees_after_departure)),
                  amount=rules.fee(config.fees))


# --- 8. visit time and confirmation ------------------------------------------------------

def slot_date(turn: Turn, day: date) -> str:
    return f"{day.month}月{day.day}日" if turn.lang == "zh" else day.strftime("%b %d")


def slot_label(turn: Turn, day: date, start: time, end: time) -> str:
    return visit_time(turn.lang, day, start, end)


SLOTS_SHOWN = 8  # open times offered at once; "更多日期" shows the next ones
MORE_PAGES = 4  # how many times later dates may be asked for (each a planning horizon further)
_MORE = ("更多日期", "更多时间", "还有别的时间吗", "还有别的时间", "还有其他时间吗", "别的时间", "其他时间",
         "其他日期", "晚一点的", "再晚一些", "往后的", "more dates", "more", "later dates", "other times",
         "any other times")


async def slot_prompt(turn: Turn) -> Prompt:
    config, page = hospital_config(), int(turn.meta.get("slot_page", 0))
    wanted = SLOTS_SHOWN * (page + 1) + 1
    slots = await bookings.open_slots(turn.session, config, turn.meta["district"], today=turn.today(),
                                      limit=wanted if not is_series(turn) else wanted * 6,
                                      days=config.schedule.days_ahead * (page + 1))
    weekdays = _frequency(turn.meta["frequency"]).weekdays if is_series(turn) else ()
    if weekdays:  # the first visit on a day the discharge order names
        slots = [s for s in slots if s.day.weekday() in weekdays]
    shown = slots[SLOTS_SHOWN * page:SLOTS_SHOWN * (page + 1)]
    if not shown:
        district = config.service_area.district(turn.meta["district"])
        return Prompt(turn.t("slot.none", district=district.label(turn.lang) if district else ""))
    options = [Option(str(s.id), slot_label(turn, s.day, s.start, s.end)) for s in shown]
    if len(slots) > SLOTS_SHOWN * (page + 1) or page < MORE_PAGES:
        options.append(Option("more", turn.t("slot.more"), _MORE))
    text = turn.t("slot.ask.first" if is_series(turn) else "slot.ask")
    return Prompt(turn.t("slot.later") + "\n" + text if page else text, options)


async def slot_check(turn: Turn, value: Any, answer: Answer) -> Any:
    wants_more = answer.option is not None and answer.option.id == "more" or answer.option is None and any(
        normalize(word) in normalize(answer.text) for word in _MORE if len(word) > 4 or not word.isascii())
    if wants_more:
        turn.meta["slot_page"] = int(turn.meta.get("slot_page", 0)) + 1
        return AGAIN
    if answer.option is not None:
        turn.meta.pop("slot_page", None)
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
                  services=service_names(turn, codes),
                  present=turn.t("person.with_relation", name=present_name, relation=relation),
                  price=bookings.price_of(items, config, codes))
    if is_series(turn):
        plan = await series_plan(turn, slot)
        turn.meta["series_slots"] = [s.id for s in plan.slots]
        visits = "\n".join(slot_label(turn, s.day, s.start, s.end) for s in plan.slots)
        series = turn.t("confirm.series", count=len(plan.slots), visits=visits)
        if plan.missing:
            series += "\n" + turn.t("confirm.series.missing", dates=turn.t("list.separator").join(
                slot_date(turn, d) for d in plan.missing))
        head, _, question = text.rpartition("\n")
        text = f"{head}\n{series}\n{question}"
    head, _, question = text.rpartition("\n")
    text = f"{head}\n{cancellation_terms(turn)}\n{question}"
    return Prompt(text, [Option("yes", turn.t("confirm.yes"), ("确认", "是", "对", "yes", "confirm", "好")),
                         Option("change", turn.t("confirm.change_time"), ("换", "改时间", "change"))])


async def confirm_check(turn: Turn, value: str, answer: Answer) -> str:
    if value in ("yes", "change"):
        return value
    raise Reprompt(turn.t("reprompt_choice"))


async def book(turn: Turn, value: str) -> str | None:
    if value == "change":
        return "slot"
    present_name, present_relation = present_person(turn)
    codes = turn.answers["services"]
    slot_ids = [turn.answers["slot"]]
    planned = turn.meta.get("series_slots") or []
    if is_series(turn) and planned[:1] == slot_ids:  # the visits shown when confirming
        slot_ids = planned
    new = bookings.NewBooking(
        intake_id=turn.meta["intake_id"], patient_id=turn.meta["patient_id"],
        channel_user_id=turn.user.id, slot_id=turn.answers["slot"], service_codes=codes,
        district=turn.meta["district"], address=turn.answers["address"], present_name=present_name,
        present_relation=present_relation, present_phone=turn.answers["present_phone"],
        total_price=bookings.price_of(catalogue(), hospital_config(), codes))
    try:
        async with turn.session.begin_nested():
            booking = await bookings.create_booking(turn.session, new, actor=f"family:{turn.user.channel}")
            if len(slot_ids) > 1:  # a series: every visit a booking of its own, one consent
                booking.series = booking.number
                for slot_id in slot_ids[1:]:
                    await bookings.create_booking(turn.session, replace(new, slot_id=slot_id, series=booking.number),
                                                  actor=f"family:{turn.user.channel}")
    except bookings.SlotFull:
        turn.say(turn.t("slot.taken"))
        return "slot"
    # The applicant as finally known (a relation said generally first may have been made precise).
    await intakes.update_intake(turn.session, turn.meta["intake_id"], status="booked",
                                applicant_relation="self" if is_self(turn) else turn.answers.get("relation"),
                                applicant_name=applicant_name(turn))
    turn.meta["booking_number"] = booking.number
    turn.meta["visits_booked"] = len(slot_ids)
    return None


async def booked(turn: Turn) -> None:
    if turn.meta.get("visits_booked", 1) > 1:
        turn.say(turn.t("booking.done.series", number=turn.meta["booking_number"], count=turn.meta["visits_booked"]))
        return
    turn.say(turn.t("booking.done", number=turn.meta["booking_number"]))


HOOKS = Hooks(
    prompts={"privacy": privacy_prompt, "patient_name": patient_name_prompt, "services": services_prompt,
             "visits": visits_prompt, "review": review_prompt,
             "consent": consent_prompt, "slots": slot_prompt, "confirm": confirm_prompt},
    options={"districts": district_options},
    accepts={"applicant": applicant_check, "id_number": id_number_check, "in_service_area": in_service_area,
             "district": district_check, "id_card": id_card, "records": records,
             "services": services_check, "visits": visits_check, "present_same": present_same_check, "review": review_check,
             "signature": signature_check, "slot": slot_check, "confirm": confirm_check},
    afters={"open_intake": open_intake, "save_applicant": save_applicant, "placed": placed,
            "save_patient": save_patient_after, "assessed": assessed, "save_services": save_services,
            "save_present": save_present, "signed": signed, "book": book},
    conditions={"applicant_is_patient": is_self, "district_known": district_known, "no_frequency": no_frequency,
                "present_is_applicant": present_is_applicant},
    finishes={"booked": booked},
    expand={"questionnaire": question_steps},
)


def intake_flow() -> Flow:
    """The intake as declared in flows/data/intake.yaml."""
    return build_flow(load_flow_spec("intake"), HOOKS)


__all__ = ["FlowStep", "HOOKS", "intake_flow", "slot_label", "yes_no", "ask", "require_option"]

"""Step kinds: each knows how to find its value inside a family's sentence and when none is there.

A flow file (flows/data/*.yaml) names a kind per step; ``build_flow`` turns the file into the
engine's ``Flow`` of ``Step``s, calling the flow module's hooks for what is particular to one
step (opening the intake, checking the service area, pricing, booking).
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flows.facts import fact_values, present_relation, read_facts, services_in
from flows.reading import (
    degree_index,
    read_address,
    read_degree,
    read_id_number,
    read_name,
    read_ordinal,
    read_phone,
    read_yes_no,
    says_done,
)
from flows.spec import FlowSpec, StepSpec
from flows.steps import Answer, Flow, Option, Prompt, Reprompt, Step, normalize
from nlu.entities import RELATION_LABELS, extract_relations
from nlu.frequency import read_frequency

if TYPE_CHECKING:
    from flows.engine import Turn


@dataclass
class Hooks:
    """The Python side of a flow file: named prompts, option builders, checks and actions."""

    prompts: dict[str, Callable[[Turn], Awaitable[Prompt]]] = field(default_factory=dict)
    options: dict[str, Callable[[Turn], Awaitable[list[Option]]]] = field(default_factory=dict)
    accepts: dict[str, Callable[[Turn, Any, Answer], Awaitable[Any]]] = field(default_factory=dict)
    afters: dict[str, Callable[[Turn, Any], Awaitable[str | None]]] = field(default_factory=dict)
    conditions: dict[str, Callable[[Turn], bool]] = field(default_factory=dict)
    finishes: dict[str, Callable[[Turn], Awaitable[None]]] = field(default_factory=dict)
    expand: dict[str, Callable[[StepSpec], list[Step]]] = field(default_factory=dict)


def label(turn: Turn, key: str) -> str:
    """A label given as a message key, or as the words themselves."""
    try:
        return turn.t(key)
    except KeyError:
        return key


def spec_options(turn: Turn, spec: StepSpec) -> list[Option]:
    return [Option(o.id, label(turn, o.label), tuple(o.aliases)) for o in spec.options]


def _reprompt(turn: Turn, spec: StepSpec, default: str) -> Reprompt:
    return Reprompt(turn.t(spec.invalid or default))


# --- what each kind reads ------------------------------------------------------------------

_NEGATED = re.compile(r"没|不|无|未|别|no|not|never", re.I)


def match_by_aliases(text: str, options: list[Option]) -> Option | None:
    """The option whose longest alias or label occurs in the text ("不稳定" beats "稳定"); an
    alias right after a negation does not count ("没吃华法林" is no anticoagulant)."""
    said = normalize(text)
    best: tuple[int, Option] | None = None
    for option in options:
        for word in (option.label, *option.aliases):
            word = normalize(word)
            if len(word) < 2 and said != word:
                continue
            at = said.find(word)
            while at >= 0 and _NEGATED.search(said[max(0, at - 3):at]) and not _NEGATED.search(word):
                at = said.find(word, at + 1)
            if at >= 0 and (best is None or len(word) > best[0]):
                best = (len(word), option)
    return best[1] if best else None


async def read_choice(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    if answer.option is not None:
        return answer.option.id
    offered = turn.offered
    if {o.id for o in offered} >= {"yes", "no"}:
        said = read_yes_no(answer.text)
        if said:
            return said
    found = match_by_aliases(answer.text, offered) if answer.text else None
    if found is None and answer.text:
        index = read_ordinal(answer.text, len(offered))
        found = offered[index] if index is not None else None
    if found is not None:
        return found.id
    raise _reprompt(turn, spec, "reprompt_choice")


async def read_yes_no_kind(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    if answer.option is not None and answer.option.id in ("yes", "no"):
        said: str | None = answer.option.id
    else:
        said = read_yes_no(answer.text)
    if said is None:
        raise _reprompt(turn, spec, "reprompt_choice")
    return said


async def read_name_kind(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    name = read_name(answer.text)
    if name is None:  # "我是她儿子王磊": the name the step reads among the message's facts
        facts = read_facts(answer.text)
        name = next((getattr(facts, fact) for fact in spec.reads
                     if fact in ("speaker_name", "patient_name") and getattr(facts, fact)), None)
    if name is None:
        raise _reprompt(turn, spec, "intake.name.invalid")
    return name


async def read_relation(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    if answer.text in RELATION_LABELS:  # a code, from a fact read earlier
        return answer.text
    facts = read_facts(answer.text)
    if spec.id != "relation" and (facts.other_present or facts.patient_word in RELATION_LABELS):
        # "她是我姥姥", about the person present: the patient's relation to them, where it follows
        writer = "self" if turn.answers.get("applicant") == "self" else turn.answers.get("relation")
        composed = present_relation(writer, str(facts.other_present or facts.patient_word),
                                    (turn.answers.get("id_number") or {}).get("sex"),
                                    turn.meta.get("patient_word"))
        if composed:
            return composed
    if facts.speaker_relation:
        return facts.speaker_relation
    found = extract_relations(answer.text)
    if not found:
        raise _reprompt(turn, spec, "intake.relation.invalid")
    return str(found[0].value)


_REUSE = re.compile(r"我的电话|我的手机|我电话|我手机|同一个|一样|刚才|上面|前面|就用|same|my number|mine", re.I)


async def read_phone_kind(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    phone = read_phone(answer.text)
    if phone is None and spec.reuse and spec.reuse in turn.answers and _REUSE.search(answer.text):
        phone = str(turn.answers[spec.reuse])
    if phone is None:
        raise _reprompt(turn, spec, "intake.phone.invalid")
    return phone


async def read_id_kind(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    reading = read_id_number(answer.text, today=turn.today())
    if reading.resident is None:
        raise Reprompt(turn.t(f"intake.id_number.{reading.problem or 'length'}"))
    resident = reading.resident
    return {"number": resident.number, "birth": resident.birth_date.isoformat(), "sex": resident.sex}


_DOOR = re.compile(r"\d|[一二三四五六七八九十]+(?:号|楼|单元|层|室)")


async def read_address_kind(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    """An address in words, or a shared location: its coordinates are kept (the nurse finds the
    door by them) and only the building and door number are asked for when it has no words."""
    if answer.location is not None:
        where = answer.location
        turn.meta["location"] = [round(where.latitude, 6), round(where.longitude, 6)]
        label = " ".join((where.label or "").split())
        if not label:
            raise Reprompt(turn.t("intake.address.building"))
        return _located(turn, label)
    address = read_address(answer.text)
    if address is None and turn.meta.get("location") and _DOOR.search(answer.text):
        address = " ".join(answer.text.split())  # the building and door of a shared location
    if address is None or len(address) < 6 and not turn.meta.get("location"):
        raise _reprompt(turn, spec, "intake.address.short")
    return _located(turn, address)


def _located(turn: Turn, address: str) -> str:
    if not turn.meta.get("location"):
        return address
    latitude, longitude = turn.meta["location"]
    return turn.t("intake.address.located", address=address, latitude=f"{latitude:.6f}",
                  longitude=f"{longitude:.6f}")


async def read_free_text(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    if not answer.text.strip():
        raise _reprompt(turn, spec, "intake.question.free.empty")
    return answer.text.strip()


async def read_uploads(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    if answer.media:
        return answer  # the step's hook stores the files
    if answer.option is not None and answer.option.id == "done" or says_done(answer.text):
        return "done"
    raise _reprompt(turn, spec, "intake.upload.expected")


async def read_upload(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    if not answer.media:
        raise _reprompt(turn, spec, "intake.upload.expected")
    return answer


async def read_services(turn: Turn, answer: Answer, spec: StepSpec) -> list[str]:
    codes = [o.id for o in answer.options]
    if not codes and answer.text:  # "对，就是换药": the services named win over a pre-selection
        codes = services_in(answer.text)
    preselected = turn.data.facts.get(spec.id)
    if not codes and preselected and read_yes_no(answer.text) == "yes":
        codes = list(preselected)
    if not codes:
        raise _reprompt(turn, spec, "reprompt_choice")
    return codes


async def read_questionnaire_answer(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    """A question of the pre-assessment: its options by number, words or meaning."""
    offered = turn.offered
    if not offered:
        return await read_free_text(turn, answer, spec)
    if answer.option is not None:
        return answer.option.id
    found = match_by_aliases(answer.text, offered)
    if found is not None:
        return found.id
    degree = read_degree(answer.text)
    if degree is not None and len(offered) >= 2:
        return offered[degree_index(degree, len(offered))].id
    raise _reprompt(turn, spec, "reprompt_choice")


async def read_signature(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    return answer.text  # the flow's hook compares it with the applicant's name


async def read_nothing(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    if answer.option is None and turn.offered:
        index = read_ordinal(answer.text, len(turn.offered))
        if index is not None:
            answer.option = turn.offered[index]
    return answer.option.id if answer.option else answer.text


_LINE = re.compile(r"^(?:改|修改|第)?\s*(\d{1,2})\s*(?:项|条|行)?\s*(?:不对|错了|有误|要改)?$|^(?:change|line)\s*(\d{1,2})$", re.I)


async def read_review(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    """The review: all correct, or a line to change ("改3", "第2项不对", "4")."""
    line = _LINE.match(normalize(answer.text)) if answer.text else None
    if line and not (answer.option and answer.text.strip() == answer.option.label):
        number = int(line[1] or line[2])
        if not answer.text.strip().isdigit() or number > len(turn.offered):
            return f"line:{number}"
    return await read_choice(turn, answer, spec)


async def read_visits(turn: Turn, answer: Answer, spec: StepSpec) -> str:
    """The series a discharge order asks for or a single visit; or the frequency said anew."""
    try:
        return str(await read_choice(turn, answer, spec))
    except Reprompt:
        frequency = read_frequency(answer.text or "")
        if frequency is None:
            raise
        return frequency.phrase()


READERS: dict[str, Callable[[Turn, Answer, StepSpec], Awaitable[Any]]] = {
    "choice": read_choice, "multi_choice": read_choice, "yes_no": read_yes_no_kind,
    "name": read_name_kind, "relation": read_relation, "phone": read_phone_kind,
    "id_number": read_id_kind, "address": read_address_kind, "upload": read_upload,
    "uploads": read_uploads, "questionnaire": read_questionnaire_answer,
    "services": read_services, "review": read_review, "signature": read_signature,
    "slot": read_nothing, "free_text": read_free_text, "visits": read_visits,
}
MEDIA_KINDS = {"upload", "uploads"}


# --- from the file to the engine's steps --------------------------------------------------

@dataclass
class FlowStep(Step):
    """A step built from a flow file: the engine reads its spec for facts and corrections."""

    spec: StepSpec | None = None


def _from_facts(turn: Turn, answer: Answer, spec: StepSpec) -> Any:
    """The step's value among the facts of the whole sentence, when its kind found none."""
    if not answer.text or not spec.reads or spec.kind in ("services", "questionnaire"):
        return None
    given = fact_values(read_facts(answer.text), {**turn.answers, "patient_word": turn.meta.get("patient_word")})
    for fact in spec.reads:
        if fact in given:
            value = given[fact]
            if fact == "speaker_relation" and spec.kind == "choice":
                return "family"
            if fact == "speaker_present":
                return value
            return value if spec.kind != "id_number" else None
    return None


def build_step(spec: StepSpec, hooks: Hooks) -> FlowStep:
    reader = READERS[spec.kind]
    check = hooks.accepts[spec.accept] if spec.accept else None
    options_from = hooks.options[spec.options_from] if spec.options_from else None

    async def prompt(turn: Turn) -> Prompt:
        if spec.prompt:
            return await hooks.prompts[spec.prompt](turn)
        options = await options_from(turn) if options_from else spec_options(turn, spec)
        if spec.kind == "yes_no" and not options:
            options = [Option("yes", turn.t("choice.yes"), ("是", "是的", "对", "yes", "y")),
                       Option("no", turn.t("choice.no"), ("否", "不是", "no", "n"))]
        preface = [label(turn, spec.intro)] if spec.intro else []
        return Prompt(turn.t(spec.ask) if spec.ask else "", options,
                      multiple=spec.kind in ("multi_choice", "services"), preface=preface,
                      request_contact=spec.kind == "phone")

    async def accept(turn: Turn, answer: Answer) -> Any:
        try:
            value = await reader(turn, answer, spec)
        except Reprompt:  # "到时候我在家陪着" answers "在场的是您本人吗？" too
            value = _from_facts(turn, answer, spec)
            if value is None:
                raise
        return await check(turn, value, answer) if check else value

    after = hooks.afters[spec.after] if spec.after else Step.after
    skip = hooks.conditions[spec.skip_if] if spec.skip_if else Step.skip
    return FlowStep(spec.id, prompt, accept, after=after, skip=skip,
                    accepts_media=spec.kind in MEDIA_KINDS, spec=spec)


def build_flow(spec: FlowSpec, hooks: Hooks) -> Flow:
    """The engine's flow from a validated flow file; unknown hook names fail at start-up."""
    names: list[tuple[str, str, str | None, dict[str, Any]]] = [
        (spec.name, "finish", spec.finish, hooks.finishes)]
    for step in spec.steps:
        names += [(step.id, "prompt", step.prompt, hooks.prompts),
                  (step.id, "options_from", step.options_from, hooks.options),
                  (step.id, "accept", step.accept, hooks.accepts),
                  (step.id, "after", step.after, hooks.afters),
                  (step.id, "skip_if", step.skip_if, hooks.conditions)]
    missing = [f"{where}.{what}: {name}" for where, what, name, table in names
               if name and name not in table]
    if missing:
        raise ValueError(f"flow {spec.name}: no such hook: {', '.join(missing)}")
    steps: list[Step] = []
    for step in spec.steps:
        if step.kind == "questionnaire" and "questionnaire" in hooks.expand:
            steps += hooks.expand["questionnaire"](step)
        else:
            steps.append(build_step(step, hooks))

    async def nothing(turn: Turn) -> None:
        return None

    finish = hooks.finishes[spec.finish] if spec.finish else nothing
    return Flow(spec.name, steps, finish, spec=spec)

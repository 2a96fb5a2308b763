"""The dialogue corpus (tests/flows/dialogues/*.yaml): conversations written the way families
write, each a table of (what the family writes, what the bot's answer must contain) and the
facts that must be *stored* afterwards. Played over the terminal channel (tests/flows) and
over the WeChat endpoint (tests/bot/wechat), so both check the same conversations.

Message cells: ``<id-card>`` and ``<record>`` send a photo; ``<happy:A..B>`` walks the usual
intake (tests/conftest.py HAPPY_PATH) from step A up to step B (either may be left out). Expected cells: a fragment the answer
contains, ``!fragment`` one it must not contain, or empty.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from tests.conftest import HAPPY_PATH

FOLDER = Path(__file__).with_name("dialogues")

# The first line of every reply that means "I did not understand that answer".
MISS_KEYS = ("reprompt_choice", "not_understood", "intake.name.invalid", "intake.phone.invalid",
             "intake.id_number.length", "intake.id_number.format", "intake.id_number.checksum",
             "intake.id_number.birth_date", "intake.relation.invalid", "intake.address.short",
             "intake.upload.expected", "intake.question.free.empty", "consent.sign.mismatch",
             "review.which")


@dataclass
class Conversation:
    name: str
    turns: list[tuple[str, str]]
    stored: dict[str, Any] = field(default_factory=dict)
    lang: str = "zh"
    max_misses: int = 2
    file: str = ""


def load() -> list[Conversation]:
    conversations = []
    for path in sorted(FOLDER.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text("utf-8")):
            turns = [(str(row[0]), str(row[1]) if len(row) > 1 and row[1] is not None else "")
                     for row in raw["turns"]]
            conversations.append(Conversation(raw["name"], turns, raw.get("stored", {}),
                                              raw.get("lang", "zh"), raw.get("max_misses", 2), path.stem))
    return conversations


def miss_lines(lang: str) -> list[str]:
    from flows.messages import t

    return [t(lang, key).split("{")[0].split("\n")[0] for key in MISS_KEYS]


Send = Callable[[str], Awaitable[str]]


async def play(conversation: Conversation, send: Send, send_photo: Callable[[str], Awaitable[str]]) -> int:
    """Play the conversation; returns how many answers the bot misunderstood."""
    misses_seen = 0
    markers = miss_lines(conversation.lang)
    for message, expected in conversation.turns:
        if message.startswith("<happy:"):
            first, _, until = message[len("<happy:"):-1].rpartition("..")
            names = [step for step, _, _ in HAPPY_PATH]
            start = names.index(first) if first else 0
            stop = names.index(until) if until else len(names)
            for step, happy, fragment in HAPPY_PATH[start:stop]:
                answer = await (send_photo(happy) if happy.startswith("<") else send(happy))
                assert fragment in answer, f"{conversation.name}: happy path at {step}: {answer}"
            continue
        answer = await (send_photo(message) if message in ("<id-card>", "<record>") else send(message))
        if any(marker and marker in answer for marker in markers):
            misses_seen += 1
        if expected.startswith("!"):
            assert expected[1:] not in answer, \
                f"{conversation.name}: after {message!r} did not expect {expected[1:]!r} in:\n{answer}"
        elif expected:
            assert expected in answer, \
                f"{conversation.name}: after {message!r} expected {expected!r} in:\n{answer}"
    return misses_seen


async def stored_facts(sessions: Any) -> dict[str, Any]:
    """What the database holds for the (only) family of the test: the intake, patient,
    assessment, booking, consent and hand-off, as the corpus names them."""
    from backend.models import (
        Assessment,
        Booking,
        Consent,
        ConversationState,
        HandoffRequest,
        Intake,
        Patient,
        Slot,
    )

    async with sessions() as session:
        intake = (await session.execute(select(Intake).order_by(Intake.id.desc()))).scalars().first()
        facts: dict[str, Any] = {}
        state = (await session.execute(select(ConversationState))).scalars().first()
        answers = ((state.data or {}).get("answers", {}) if state else {})
        for name, value in answers.items():
            facts[f"answers.{name}"] = value
        for name, value in ((state.data or {}).get("facts", {}) if state else {}).items():
            facts[f"facts.{name}"] = value  # given before their question was asked
        if intake is not None:
            facts.update(status=intake.status, relation=intake.applicant_relation,
                         applicant_name=intake.applicant_name, present_name=intake.present_name,
                         present_relation=intake.present_relation, present_phone=intake.present_phone,
                         services=intake.service_codes)
            if intake.patient_id:
                patient = await session.get_one(Patient, intake.patient_id)
                facts.update(patient_name=patient.name, phone=patient.phone, address=patient.address,
                             id_number=patient.id_number, district=patient.district)
            assessment = (await session.execute(select(Assessment).where(
                Assessment.intake_id == intake.id))).scalars().first()
            if assessment is not None:
                facts["barthel"] = assessment.barthel_score
                facts["assessment_answers"] = assessment.answers
            consent = (await session.execute(select(Consent).where(Consent.intake_id == intake.id)
                                             .order_by(Consent.id.desc()))).scalars().first()
            if consent is not None:
                facts["consent_status"] = consent.status
                facts["consent_events"] = [e["event"] for e in consent.events]
        booking = (await session.execute(select(Booking).order_by(Booking.id.desc()))).scalars().first()
        facts["booked"] = booking is not None
        visits = (await session.execute(select(Booking.slot_id))).scalars().all()
        facts["visits_booked"] = len(visits)  # a discharge order's series books several
        facts["series_weekdays"] = sorted({(await session.get_one(Slot, slot_id)).day.weekday() for slot_id in visits})
        facts["consents"] = len((await session.execute(select(Consent))).scalars().all())
        if booking is not None:
            facts.update(booking_address=booking.address, booking_present=booking.present_name,
                         booking_services=booking.service_codes)
        handoff = (await session.execute(select(HandoffRequest))).scalars().first()
        facts["handoff"] = handoff.step if handoff else None
    return facts


def check_stored(conversation: Conversation, facts: dict[str, Any]) -> None:
    for key, expected in conversation.stored.items():
        if key.startswith("assessment."):
            got = (facts.get("assessment_answers") or {}).get(key.split(".", 1)[1])
        else:
            got = facts.get(key)
        assert got == expected, f"{conversation.name}: stored {key} is {got!r}, expected {expected!r}"

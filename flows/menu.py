"""Outside any flow: the menu, and routing free text to a flow by its intent."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import yaml
from pydantic import BaseModel

from backend import audit, bookings, conversations
from backend.config import data_file, hospital_config
from backend.crypto import current_vault
from backend.models import ConversationState, Patient
from flows import interludes
from flows.aftercare import has_no_active, services_overview, show_status
from flows.engine import MISSES_BEFORE_HUMAN, Engine, MenuHandler, Turn, say_handed_off, shown
from flows.facts import read_facts
from flows.kinds import label
from flows.spec import DATA, OptionSpec
from flows.steps import Answer, Option, Reprompt, match_option
from flows.types import Outbound
from nlu.base import CONFIDENT


class MenuSpec(BaseModel):
    """flows/data/menu.yaml: the options offered outside any flow and the intent → action table."""

    options: list[OptionSpec]
    intents: dict[str, str]


@lru_cache(maxsize=1)
def menu_spec() -> MenuSpec:
    override = data_file("flows.menu.yaml")
    path = override if override.exists() else DATA / "menu.yaml"
    return MenuSpec.model_validate(yaml.safe_load(path.read_text("utf-8")))


_BOOKING_FACTS = ("patient_name", "phone", "address")  # corrected on the patient's record
_OTHER_ERRANDS = ("status", "cancel", "complaint", "human", "data")


class Menu(MenuHandler):
    def options(self, turn: Turn) -> list[Option]:
        return [Option(o.id, label(turn, o.label), tuple(o.aliases)) for o in menu_spec().options
                if o.id != "resume" or turn.data.suspended]

    async def show(self, turn: Turn, state: ConversationState) -> None:
        state.step = None
        options = self.options(turn)
        turn.offer(options)
        turn.replies.append(Outbound(kind="choices", text=turn.t("menu"),
                                     choices=[o.as_choice() for o in options], context="menu"))

    async def handle(self, engine: Engine, turn: Turn, state: ConversationState) -> None:
        options = self.options(turn)
        shown = turn.offered or options
        text = turn.inbound.text or ""
        option = next((o for o in options if o.id == turn.inbound.choice), None)
        if option is None and text:  # a number picks only from options the family was shown
            option = (match_option(text, turn.offered) if turn.offered else None) \
                or match_option(text, shown, numbers=False) or match_option(text, options, numbers=False)
        if option is not None:
            turn.data.misses = 0
            await self.run_action(engine, turn, state, option.id)
            return
        chat = interludes.small_talk(text)
        if chat in ("thanks", "wait"):  # "谢谢" after booking is a goodbye, not a question
            turn.say(turn.t("goodbye" if chat == "thanks" else "small_talk.wait"))
            return
        parse = await turn.parse()
        action = menu_spec().intents.get(parse.intent or "")
        if action not in _OTHER_ERRANDS and read_facts(text).services and not interludes.question_topic(text):
            action = "book"  # "我婆婆需要换尿管，住朝阳区…": a booking, whatever words it uses
            parse = replace(parse, confidence=1.0)
        if action and parse.confidence >= CONFIDENT:
            turn.data.misses = 0
            await self.run_action(engine, turn, state, action)
            return
        turn.say(turn.t("not_understood"))
        turn.data.misses += 1
        misses = turn.data.misses
        if misses >= MISSES_BEFORE_HUMAN:
            turn.say(turn.t("offer_human", hotline=hospital_config().hospital.hotline))
        suggestions = [menu_spec().intents[name] for name, score in parse.ranking[:3]
                       if name in menu_spec().intents and score > 0.15]
        if suggestions:
            by_id = {o.id: o for o in options}
            picks = [by_id[a] for a in dict.fromkeys(suggestions) if a in by_id][:2]  # most likely first
            if picks:
                turn.offer(picks)
                turn.replies.append(Outbound(kind="choices", text=turn.t("maybe_meant"),
                                             choices=[o.as_choice() for o in picks], context="menu"))
                return
        await self.show(turn, state)

    async def correct(self, engine: Engine, turn: Turn, state: ConversationState,
                      found: interludes.Correction) -> bool:
        """"患者名字填错了，应该是王秀英" after the booking: the patient's record is corrected, with
        an audit entry the nurse manager sees; the booking itself is not re-signed here."""
        text = turn.inbound.text or ""
        intake = engine.flows["intake"]
        called = {s.name: s.spec.called for s in intake.steps  # type: ignore[attr-defined]
                  if s.name in _BOOKING_FACTS and getattr(s, "spec", None) is not None}
        name = interludes.named_step(text, called)
        active = await bookings.bookings_of_user(turn.session, turn.user.id, active_only=True)
        if name is None or not active:
            return False
        booking, _ = active[0]
        patient = await turn.session.get_one(Patient, booking.patient_id)
        step = intake.step(name)
        try:
            value = await step.accept(turn, Answer(text=found.value_text)) if found.value_text else None
        except Reprompt as reprompt:
            turn.say(reprompt.message)
            return True
        if not value:
            turn.say(turn.t("correction.unknown"))
            return True
        if name == "address":
            old, patient.address, booking.address = patient.address, value, value
        elif name == "phone":
            old, patient.phone = patient.phone, value
            patient.phone_index = current_vault().blind_index(value)
        else:
            old, patient.name = patient.name, value
        await audit.record(turn.session, f"family:{turn.user.channel}", "patient.corrected",
                           f"booking:{booking.id}", {"field": name, "number": booking.number})
        turn.say(turn.t("correction.booking", number=booking.number, fact=turn.t(f"fact.{name}"),
                        old=shown(turn, name, old), new=shown(turn, name, value)))
        return True

    async def run_action(self, engine: Engine, turn: Turn, state: ConversationState, action: str) -> None:
        if action == "resume" and turn.data.suspended:
            await engine.resume(turn, state)
        elif action in ("book", "resume"):
            if turn.data.suspended and turn.data.suspended.flow == "intake":
                await engine.resume(turn, state)
            else:
                await engine.start(turn, state, "intake")
        elif action == "status":
            await show_status(turn)
            await self.show(turn, state)
        elif action == "cancel":
            if await has_no_active(turn):
                turn.say(turn.t("cancel.none"))
                await self.show(turn, state)
            else:
                await engine.start(turn, state, "cancel")
        elif action == "complaint":
            await engine.start(turn, state, "complaint")
        elif action == "data":
            await engine.start(turn, state, "data_request")
        elif action == "services":
            turn.say(services_overview(turn))
            await self.show(turn, state)
        elif action == "human":
            await conversations.request_handoff(turn.session, turn.user, None, None)
            say_handed_off(turn)
        elif action == "goodbye":
            turn.say(turn.t("goodbye"))
        else:  # greet
            turn.say(turn.t("welcome", hospital=hospital_config().hospital.name(turn.lang)))
            await self.show(turn, state)

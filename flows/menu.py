"""Outside any flow: the menu, and routing free text to a flow by its intent."""
from __future__ import annotations

from backend import audit, bookings, conversations
from backend.config import hospital_config
from backend.crypto import current_vault
from backend.models import ConversationState, Patient
from flows import interludes
from flows.aftercare import has_no_active, services_overview, show_status
from flows.engine import MISSES_BEFORE_HUMAN, Engine, MenuHandler, Turn, shown
from flows.steps import Answer, Option, Reprompt, match_option
from flows.types import Outbound
from nlu.base import CONFIDENT

ACTIONS_BY_INTENT = {
    "book_service": "book", "check_booking": "status", "cancel_booking": "cancel",
    "reschedule_booking": "cancel", "complaint": "complaint", "ask_price": "services",
    "ask_services": "services", "ask_eligibility": "services", "human_handoff": "human",
    "greet": "greet", "goodbye": "goodbye",
}


_BOOKING_FACTS = ("patient_name", "phone", "address")  # corrected on the patient's record


class Menu(MenuHandler):
    def options(self, turn: Turn) -> list[Option]:
        options = [Option("book", turn.t("menu.book"), ("预约", "book"))]
        if turn.data.suspended:
            options.insert(0, Option("resume", turn.t("menu.resume"), ("继续", "continue")))
        options += [Option("status", turn.t("menu.status"), ("查询", "status")),
                    Option("cancel", turn.t("menu.cancel"), ("取消预约",)),
                    Option("complaint", turn.t("menu.complaint"), ("投诉", "complaint")),
                    Option("services", turn.t("menu.services"), ("价格", "服务", "price", "services")),
                    Option("data", turn.t("menu.data"), ("我的信息", "个人信息", "删除我的信息", "my data")),
                    Option("human", turn.t("menu.human"), ("人工",))]
        return options

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
        if option is None and text:
            option = match_option(text, shown) or match_option(text, options)
        if option is not None:
            turn.data.misses = 0
            await self.run_action(engine, turn, state, option.id)
            return
        parse = await turn.parse()
        action = ACTIONS_BY_INTENT.get(parse.intent or "")
        if action and parse.confidence >= CONFIDENT:
            turn.data.misses = 0
            await self.run_action(engine, turn, state, action)
            return
        turn.say(turn.t("not_understood"))
        turn.data.misses += 1
        misses = turn.data.misses
        if misses >= MISSES_BEFORE_HUMAN:
            turn.say(turn.t("offer_human", hotline=hospital_config().hospital.hotline))
        suggestions = [ACTIONS_BY_INTENT[name] for name, score in parse.ranking[:3]
                       if name in ACTIONS_BY_INTENT and score > 0.15]
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
            turn.say(turn.t("handoff.queued", hotline=hospital_config().hospital.hotline))
        elif action == "goodbye":
            turn.say(turn.t("goodbye"))
        else:  # greet
            turn.say(turn.t("welcome", hospital=hospital_config().hospital.name(turn.lang)))
            await self.show(turn, state)

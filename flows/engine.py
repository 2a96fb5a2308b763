"""The conversation engine: one turn in, replies out, state saved after every turn.

It owns navigation — asking, re-asking, back, restart, cancel, hand-off, help, language — so
that flows read as lists of steps (see flows/steps.py).
"""
from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from backend import audit, clock, conversations, hotline, intakes, notify
from backend.config import hospital_config
from backend.crypto import mask
from backend.db import transaction
from backend.models import ChannelUser, ConversationState, Notification, TranscriptEntry
from flows import interludes
from flows.messages import join, t
from flows.notices import notice_values
from flows.state import ConversationData, OfferedOption, Suspended
from flows.steps import (
    AGAIN,
    END,
    STAY,
    Answer,
    Flow,
    Option,
    Prompt,
    Reprompt,
    Step,
    match_many,
    match_option,
    normalize,
)
from flows.types import Choice, Inbound, Outbound, context_token
from nlu.base import Parse, Recognizer

log = structlog.get_logger(__name__)

MISSES_BEFORE_HUMAN = 2
# notifications that open a conversation: a visit's rating; the satisfaction question at hand-back
FOLLOW_UPS = {"visit.rating_request": "rating", "bot.back": "handoff_rating"}


@lru_cache(maxsize=1)
def command_words() -> dict[str, set[str]]:
    raw = yaml.safe_load((Path(__file__).parent / "messages" / "commands.yaml").read_text("utf-8"))
    return {name: {normalize(w) for w in words} for name, words in raw.items()}


@dataclass
class Deps:
    """What the flows need from outside: storage, understanding and documents."""

    sessions: async_sessionmaker[AsyncSession]
    recognizer: Recognizer


@dataclass
class Turn:
    """One turn of one conversation: what came in, the state, and the replies collected."""

    session: AsyncSession
    user: ChannelUser
    inbound: Inbound
    data: ConversationData
    deps: Deps
    replies: list[Outbound] = field(default_factory=list)
    entry: TranscriptEntry | None = None  # the inbound message's transcript record
    _parse: Parse | None = None

    @property
    def lang(self) -> str:
        return self.data.lang

    @property
    def answers(self) -> dict[str, Any]:
        return self.data.answers

    @property
    def meta(self) -> dict[str, Any]:
        return self.data.meta

    def t(self, key: str, **values: object) -> str:
        return t(self.lang, key, **values)

    def say(self, text: str) -> None:
        if text:
            self.replies.append(Outbound.say(text))

    @property
    def offered(self) -> list[Option]:
        """The options shown with the last question, as the family saw them numbered."""
        return [Option(o.id, o.label, tuple(o.aliases)) for o in self.data.offered]

    def offer(self, options: list[Option]) -> None:
        self.data.offered = [OfferedOption(id=o.id, label=o.label, aliases=list(o.aliases))
                             for o in options]

    def link_upload(self, upload_id: int) -> None:
        """Tie a stored upload to the message that carried it, for transcripts."""
        if self.entry is not None:
            if self.entry.upload_id is None:
                self.entry.upload_id = upload_id
            payload = dict(self.entry.payload or {})
            payload["upload_ids"] = [*payload.get("upload_ids", []), upload_id]
            self.entry.payload = payload

    def today(self) -> date:
        """The hospital's date, from the service's clock."""
        return clock.today()

    def now(self) -> datetime:
        return clock.now()

    async def parse(self) -> Parse:
        """The NLU reading of the inbound text, computed once per turn."""
        if self._parse is None:
            self._parse = await self.deps.recognizer.parse(self.inbound.text or "")
        return self._parse


class Engine:
    """Runs flows for every channel. ``handle`` is the only entry point channels call."""

    def __init__(self, deps: Deps, flows: dict[str, Flow], menu: MenuHandler,
                 on_review_reopened: Callable[[Turn], Awaitable[None]] | None = None) -> None:
        self.deps = deps
        self.flows = flows
        self.menu = menu
        self.on_review_reopened = on_review_reopened  # e.g. a signed consent no longer holds

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Process one inbound event; a redelivered channel message gets no second reply.

        A failure inside a turn rolls the turn back (the state stays as it was before the
        message) and the family gets a polite apology instead of silence.
        """
        try:
            return await self._handle(inbound)
        except Exception:
            log.exception("turn.failed", channel=inbound.channel, user=mask(inbound.user_id))
            lang = inbound.language or "zh"
            apology = [Outbound.say(t(lang, "error.internal", hotline=hospital_config().hospital.hotline))]
            if inbound.outbox:
                await self._queue_apology(inbound, apology)
            return apology

    async def _queue_apology(self, inbound: Inbound, apology: list[Outbound]) -> None:
        """The apology of a failed turn goes the way every reply of the channel goes."""
        try:
            async with transaction(self.deps.sessions) as session:
                user = await conversations.get_or_create_user(session, inbound.channel, inbound.user_id)
                for hook in inbound.on_user:
                    await hook(session, user)
                await notify.queue_replies(session, user.id, [r.dump() for r in apology],
                                           message_id=inbound.message_id,
                                           hold=timedelta(seconds=inbound.outbox_hold_seconds))
        except Exception:  # noqa: BLE001 - the database itself may be what failed
            log.exception("turn.apology_not_queued", channel=inbound.channel)

    async def _handle(self, inbound: Inbound) -> list[Outbound]:
        async with transaction(self.deps.sessions) as session:
            user = await conversations.get_or_create_user(
                session, inbound.channel, inbound.user_id, language=inbound.language,
                display_name=inbound.display_name, is_tryout=inbound.is_tryout)
            for hook in inbound.on_user:
                await hook(session, user)
            payload = _inbound_payload(inbound)
            entry = await conversations.record_inbound(
                session, user, kind=inbound.kind, text=inbound.text,
                channel_message_id=inbound.message_id, payload=payload)
            if entry is None:  # a retry (WeChat resends after a crash): the same answer again
                log.info("inbound.duplicate", channel=inbound.channel, message_id=inbound.message_id)
                if not inbound.retry_expects_answer:
                    return []
                stored = await conversations.replies_to(session, user, str(inbound.message_id))
                return [_stored_reply(e) for e in stored]
            state = await conversations.load_state(session, user)
            if not state.data and not inbound.language and _written_in_english(inbound.text):
                user.language = "en"  # a first message in English: a family abroad
            # no copy: the state's data was decoded for this turn alone and is replaced at its end
            data = ConversationData.load(state.data, inbound.language or user.language or "zh")
            turn = Turn(session=session, user=user, inbound=inbound, data=data, deps=self.deps, entry=entry)
            if state.taken_over_by:
                return []  # a member of staff is talking; the bot stays quiet
            turn.replies.extend(inbound.notices)
            if inbound.kind == "voice" and inbound.text:  # what was heard, before acting on it
                turn.say(turn.t("voice.heard", text=inbound.text))
            await self._dispatch(turn, state)
            state.data = turn.data.dump()
            state.turn += 1
            await conversations.save_state(session, state)
            await conversations.record_outbound(session, user, _records(turn.replies))
            if inbound.outbox and turn.replies:
                await notify.queue_replies(session, user.id, [r.dump() for r in turn.replies],
                                           message_id=inbound.message_id,
                                           hold=timedelta(seconds=inbound.outbox_hold_seconds))
            log.info("turn", channel=inbound.channel, user=mask(inbound.user_id),
                     flow=state.flow, step=state.step, replies=len(turn.replies))
            return turn.replies

    async def push(self, session: AsyncSession, user: ChannelUser, notification: Notification) -> list[Outbound]:
        """Replies for a queued notification (a staff message, a booking change, a rating request),
        recorded in the transcript; a rating request starts the rating flow when the family is idle."""
        state = await conversations.load_state(session, user)
        data = ConversationData.load(copy.deepcopy(state.data), user.language or "zh")
        inbound = Inbound(channel=user.channel, user_id=user.external_id, kind="event", event="push")
        turn = Turn(session=session, user=user, inbound=inbound, data=data, deps=self.deps)
        values = (notification.payload or {}).get("values", {})
        if "artefact_id" in values:  # a document the service made (the sealed consent)
            turn.replies.append(await _document(turn, notification.payload["message"], values))
        elif notification.text:
            turn.say(notification.text)
        elif notification.payload:
            values = notice_values(turn.lang, notification.payload.get("values", {}))
            turn.say(turn.t(notification.payload["message"], **values))
        follow_up = FOLLOW_UPS.get(notification.kind)
        if follow_up and not state.flow and not state.taken_over_by and follow_up in self.flows:
            await self.start(turn, state, follow_up)
            turn.meta.update((notification.payload or {}).get("values", {}))
        await conversations.record_outbound(session, user, _records(turn.replies), author=notification.author)
        state.data = turn.data.dump()
        flag_modified(state, "data")
        return turn.replies

    # --- dispatch -------------------------------------------------------------------------

    async def _dispatch(self, turn: Turn, state: ConversationState) -> None:
        inbound = turn.inbound
        if inbound.event and inbound.event.startswith("notice:"):
            return  # a channel's event for the record (a subscription choice …): no reply, no miss
        if inbound.event == "unsubscribe":
            turn.user.subscribed = False
            return
        if inbound.event in ("start", "subscribe"):
            turn.user.subscribed = True
            turn.say(turn.t("welcome", hospital=hospital_config().hospital.name(turn.lang)))
            if state.flow:
                await self._ask(turn, state, self._current(state))
            else:
                await self.menu.show(turn, state)
            return
        if inbound.event and inbound.event.startswith("menu:"):
            await self.menu.run_action(self, turn, state, inbound.event.removeprefix("menu:"))
            return
        if inbound.kind == "voice" and not inbound.text:
            turn.say(turn.t("voice_unrecognized"))
            await self._reask(turn, state)
            return
        if inbound.kind == "unsupported":
            if not inbound.notices:  # unless the channel said what works instead (WeChat files)
                turn.say(turn.t("unsupported_message"))
            await self._reask(turn, state)
            return
        if inbound.choice_context and state.flow and inbound.choice_context not in (
                _context(state), context_token(_context(state))):
            turn.say(turn.t("stale_choice"))
            await self._reask(turn, state)
            return
        if inbound.text and await self._global_command(turn, state):
            return
        if inbound.text and await self._red_flag(turn, state):
            return
        if inbound.text and await self._correction(turn, state):
            return
        if state.flow:
            await self._answer(turn, state)
        else:
            await self.menu.handle(self, turn, state)

    async def _global_command(self, turn: Turn, state: ConversationState) -> bool:
        words = command_words()
        said = normalize(turn.inbound.text or "")
        command = next((name for name, options in words.items() if said in options), None)
        if command is None:
            return False
        if command == "human":
            await self._hand_off(turn, state)
        elif command in ("lang_en", "lang_zh"):
            turn.data.lang = "en" if command == "lang_en" else "zh"
            turn.user.language = turn.data.lang
            turn.say(turn.t("lang.switched"))
            await self._reask(turn, state)
        elif command == "help":
            await self._help(turn, state)
        elif command == "restart":
            turn.say(turn.t("restart.done"))
            if state.flow:
                await self.start(turn, state, state.flow)
            else:
                await self.menu.show(turn, state)
        elif command == "back":
            await self._back(turn, state)
        elif command == "cancel":
            if state.flow:
                turn.data.suspended = Suspended(flow=state.flow, step=state.step, answers=turn.answers,
                                                meta=turn.meta, history=turn.data.history)
                self._clear(turn, state)
                turn.say(turn.t("cancel.done"))
                await self.menu.show(turn, state)
            else:
                turn.say(turn.t("cancel.idle"))
                await self.menu.show(turn, state)
        elif command == "resume":
            if not state.flow and turn.data.suspended:
                await self.resume(turn, state)
            else:
                return False
        return True

    async def _hand_off(self, turn: Turn, state: ConversationState) -> None:
        await conversations.request_handoff(turn.session, turn.user, state.flow, state.step)
        say_handed_off(turn)

    async def _asks_for_a_person(self, turn: Turn, state: ConversationState) -> bool:
        """"能不能找个真人跟我说": a hand-off the recognizer is sure of, when the message answered
        nothing (a phone number with "打我电话" is an answer, not a request for a person)."""
        parse = await turn.parse()
        if parse.intent == "human_handoff" and parse.confidence >= 0.8:
            await self._hand_off(turn, state)
            return True
        return False

    # --- navigation -----------------------------------------------------------------------

    async def start(self, turn: Turn, state: ConversationState, flow_name: str) -> None:
        """Begin a flow at its first step, forgetting any earlier answers of the conversation."""
        self._clear(turn, state)
        turn.data.suspended = None
        state.flow = flow_name
        flow = self.flows[flow_name]
        if turn.inbound.text and not turn.inbound.choice:  # "我想给我妈预约上门换药"
            self._take_facts(turn, flow, -1, turn.inbound.text)
        await self._advance(turn, state, flow, -1)

    async def resume(self, turn: Turn, state: ConversationState) -> None:
        saved = turn.data.suspended
        assert saved is not None
        turn.data.suspended = None
        state.flow, state.step = saved.flow, saved.step
        turn.data.answers, turn.data.meta, turn.data.history = saved.answers, saved.meta, saved.history
        await self._ask(turn, state, self._current(state))

    def _clear(self, turn: Turn, state: ConversationState) -> None:
        state.flow = state.step = None
        turn.data.forget_flow()

    def _current(self, state: ConversationState) -> Step:
        return self.flows[state.flow].step(state.step)  # type: ignore[index,arg-type]

    async def _advance(self, turn: Turn, state: ConversationState, flow: Flow, index: int) -> None:
        """Ask the next step after ``index`` that applies, or finish the flow. A step whose
        value an earlier message already gave is answered with it, without asking."""
        for step in flow.steps[index + 1:]:
            if step.skip(turn):
                continue
            given = turn.data.facts.get(step.name)
            if given is None or _kind(step) in _CONFIRMED_KINDS:
                await self._ask(turn, state, step)
                return
            turn.data.facts.pop(step.name)
            state.step = step.name
            try:
                value = await step.accept(turn, Answer(text=str(given), option=await _option(turn, step, given)))
            except Reprompt as reprompt:  # the value given does not hold: ask, saying why
                turn.say(reprompt.message)
                await self._ask(turn, state, step)
                return
            jump = await self._store(turn, state, flow, step, value)
            if state.flow != flow.name:
                return
            if jump == END:
                self._clear(turn, state)
                return
            if jump:
                await self._ask(turn, state, flow.step(jump))
                return
        await flow.finish(turn)
        if state.flow == flow.name:
            self._clear(turn, state)

    async def _store(self, turn: Turn, state: ConversationState, flow: Flow, step: Step,
                     value: Any) -> str | None:
        """Keep a step's answer and run its action; returns where the action sends the flow."""
        turn.answers[step.name] = value
        history = turn.data.history
        if step.name in history:
            history.remove(step.name)
        history.append(step.name)
        return await step.after(turn, value)

    async def _ask(self, turn: Turn, state: ConversationState, step: Step, *, again: bool = False) -> None:
        """Ask a step's question; ``again`` (after a miss or an aside) leaves out the intro."""
        state.step = step.name
        prompt = await step.prompt(turn)
        if again:
            prompt.preface = []
        self._render(turn, state, prompt)

    def _render(self, turn: Turn, state: ConversationState, prompt: Prompt) -> None:
        for line in prompt.preface:
            turn.say(line)
        turn.offer(prompt.options)
        if prompt.options:
            turn.replies.append(Outbound(kind="choices", text=prompt.text,
                                         choices=[o.as_choice() for o in prompt.options],
                                         context=_context(state), multiple=prompt.multiple,
                                         request_contact=prompt.request_contact))
        else:
            turn.replies.append(Outbound(kind="text", text=prompt.text, context=_context(state),
                                         request_contact=prompt.request_contact))

    async def _keep_choices(self, turn: Turn, state: ConversationState, step: Step) -> None:
        """A step that stays (another record may follow) keeps its buttons under what it just
        said: "已收到第1份资料" comes with 完成, so nobody has to guess the word."""
        if not turn.replies or turn.replies[-1].kind != "text":
            return
        prompt = await step.prompt(turn)
        if prompt.options:
            said = turn.replies.pop()
            self._render(turn, state, Prompt(said.text, prompt.options, prompt.multiple))

    async def _reask(self, turn: Turn, state: ConversationState) -> None:
        if state.flow:
            await self._ask(turn, state, self._current(state), again=True)
        else:
            await self.menu.show(turn, state)

    async def _back(self, turn: Turn, state: ConversationState) -> None:
        history = turn.data.history
        if not state.flow or not history:
            turn.say(turn.t("back.none"))
            await self._reask(turn, state)
            return
        previous = history.pop()
        old = turn.answers.pop(previous, None)
        turn.say(turn.t("back.done"))
        if old is not None and not isinstance(old, int | Answer):
            turn.say(turn.t("back.previous", value=shown(turn, previous, old)))
        await self._ask(turn, state, self.flows[state.flow].step(previous), again=True)

    async def _help(self, turn: Turn, state: ConversationState) -> None:
        hotline = hospital_config().hospital.hotline
        if state.flow:
            prompt = await self._current(state).prompt(turn)
            turn.say(turn.t("help", question=prompt.text.splitlines()[-1], hotline=hotline))
            self._render(turn, state, Prompt(prompt.text, prompt.options, prompt.multiple,
                                             prompt.request_contact))
        else:
            turn.say(turn.t("help.idle", hotline=hotline))
            await self.menu.show(turn, state)

    async def _answer(self, turn: Turn, state: ConversationState) -> None:
        flow = self.flows[state.flow]  # type: ignore[index]
        step = flow.step(state.step)  # type: ignore[arg-type]
        inbound = turn.inbound
        if inbound.media and not step.accepts_media:
            turn.say(turn.t("media_not_expected"))
            await self._ask(turn, state, step, again=True)
            return
        offered = turn.offered
        text = (inbound.text or "").strip()
        if text and _asides(step) and (_kind(step) == "free_text" or _kind(step) in _CONFIRMED_KINDS) \
                and _kind(step) != "signature" and await self._aside(turn, state, step, questions_only=True):
            return  # a question is no answer where an answer is a choice to confirm or free text
        option = next((o for o in offered if o.id == inbound.choice), None) if inbound.choice else None
        if option is None and offered and text:
            option = match_option(text, offered)
        answer = Answer(text=text or (option.label if option else ""), option=option,
                        options=match_many(text, offered) if offered and text else [],
                        media=list(inbound.media), location=inbound.location)
        if option is not None and not answer.options:
            answer.options = [option]
        try:
            value = await step.accept(turn, answer)
        except Reprompt as reprompt:
            if text and self._take_facts(turn, flow, flow.index(step.name), text, exclude=step.name):
                await self._ask(turn, state, step, again=True)  # other facts were given: not a miss
                return
            if text and _asides(step) and await self._aside(turn, state, step):
                return
            if text and state.step not in _FREE_TEXT_SAFE and await self._asks_for_a_person(turn, state):
                return
            turn.data.misses += 1
            misses = turn.data.misses
            turn.say(reprompt.message)
            await self._ask(turn, state, step, again=True)
            if misses >= MISSES_BEFORE_HUMAN:
                turn.say(turn.t("offer_human", hotline=hospital_config().hospital.hotline))
            return
        turn.data.misses = 0
        if value is STAY:
            await self._keep_choices(turn, state, step)
            return
        if value is AGAIN:
            await self._ask(turn, state, step, again=True)
            return
        if text and not inbound.choice:
            self._take_facts(turn, flow, flow.index(step.name), text, exclude=step.name)
            if _asides(step) and _kind(step) not in ("free_text", "signature"):
                self._answer_question(turn)  # "电话是138…，对了护士几年经验啊？"
        jump = await self._store(turn, state, flow, step, value)
        if state.flow != flow.name:  # the step started another flow or ended this one
            return
        revisit, turn.data.revisit = turn.data.revisit, None
        if revisit and revisit in turn.answers or revisit == "questionnaire":
            await self._revisit(turn, state, flow, revisit)
            return
        if jump == END:
            self._clear(turn, state)
        elif jump:
            await self._ask(turn, state, flow.step(jump))
        elif turn.data.return_to and turn.data.return_to != step.name:
            back_to, turn.data.return_to = turn.data.return_to, None
            await self._advance(turn, state, flow, flow.index(back_to) - 1)
        else:
            await self._advance(turn, state, flow, flow.index(step.name))

    async def _revisit(self, turn: Turn, state: ConversationState, flow: Flow, name: str) -> None:
        """Ask an earlier question again, saying what was answered, then come back."""
        if name == "questionnaire":
            name = next(s.name for s in flow.steps if s.name.startswith("q_"))
        step = flow.step(name)
        old = turn.answers.get(name)
        if old is not None:
            turn.say(turn.t("correction.previous", value=shown(turn, name, old)))
        await self._ask(turn, state, step, again=True)

    # --- what families say besides the answer ----------------------------------------------

    def _answer_question(self, turn: Turn) -> bool:
        topic = interludes.question_topic(turn.inbound.text or "")
        if topic is None:
            return False
        codes = turn.answers.get("services") or turn.data.facts.get("services") or []
        turn.say(interludes.answer_question(topic, turn.lang, list(codes), turn.t))
        return True

    async def _aside(self, turn: Turn, state: ConversationState, step: Step, *,
                     questions_only: bool = False) -> bool:
        """A question about the visit, or small talk: answered, then the same question again."""
        text = turn.inbound.text or ""
        if self._answer_question(turn):
            await self._ask(turn, state, step, again=True)
            return True
        if questions_only:
            return False
        chat = interludes.small_talk(text)
        if chat is None:
            return False
        turn.say(turn.t(f"small_talk.{chat}"))
        if chat != "wait":
            await self._ask(turn, state, step, again=True)
        return True

    async def _red_flag(self, turn: Turn, state: ConversationState) -> bool:
        """Signs of an emergency: call 120 now; the hotline is alerted and the booking stops."""
        sign = interludes.red_flag(turn.inbound.text or "")
        if sign is None:
            return False
        hotline = hospital_config().hospital.hotline
        turn.say(turn.t("red_flag", sign=sign, hotline=hotline))
        request = await conversations.request_handoff(turn.session, turn.user, state.flow,
                                                      conversations.RED_FLAG)
        request.step = conversations.RED_FLAG  # also when the family was already waiting for a person
        await audit.record(turn.session, "system", "conversation.red_flag", f"channel_user:{turn.user.id}",
                           {"flow": state.flow, "step": state.step, "sign": sign})
        intake_id = turn.meta.get("intake_id")
        if intake_id and state.flow == "intake":
            await intakes.update_intake(turn.session, intake_id, status="emergency_referral")
        if state.flow:
            self._clear(turn, state)
        return True

    async def _correction(self, turn: Turn, state: ConversationState) -> bool:
        """"电话填错了，应该是…": change the named fact, record the change, go back only as far
        as needed (to the review when the agreement was already summarised)."""
        text = turn.inbound.text or ""
        found = interludes.correction(text)
        waiting = turn.data.revisit == _WHICH  # "刚才有一项填错了" was answered with "哪一项？"
        if found is None and not waiting:
            return False
        flow = self.flows.get(state.flow or "")
        if flow is None:
            return found is not None and await self.menu.correct(self, turn, state, found)
        called = {s.name: s.spec.called for s in flow.steps  # type: ignore[attr-defined]
                  if getattr(s, "spec", None) is not None and s.name in turn.answers}
        names = interludes.named_steps(text, called)
        if not names:
            step = self._current(state)
            if found is None or not interludes.vague_correction(text) or not turn.answers or \
                    await self._corrected_value(turn, step, found.candidates, trial=True) is not None:
                turn.data.revisit = None  # "打错了，是1101…" at the ID question is just the answer
                return False
            turn.data.revisit = _WHICH
            turn.say(turn.t("correction.unknown"))
            await self._ask(turn, state, self._current(state), again=True)
            return True
        turn.data.revisit = None
        current = state.step
        review = flow.spec.review_step if flow.spec else None
        changed, unsure = [], []
        for name in names:
            step = flow.step(name)
            value = await self._corrected_value(turn, step, found.candidates if found else (text,))
            if value is None:
                unsure.append(name)
                continue
            old = turn.answers.get(name)
            turn.say(turn.t("correction.done", fact=turn.t(f"fact.{name}") if _has(turn, f"fact.{name}") else name,
                            old=shown(turn, name, old), new=shown(turn, name, value)))
            await audit.record(turn.session, f"family:{turn.user.channel}", "intake.corrected",
                               f"channel_user:{turn.user.id}", {"step": name, "turn": state.turn})
            jump = await self._store(turn, state, flow, step, value)
            if state.flow != flow.name or jump == END:
                return True
            changed.append(name)
        reviewed = bool(review and review in turn.answers and current != review)
        if reviewed:
            turn.answers.pop(review, None)  # type: ignore[arg-type]
            if self.on_review_reopened is not None:
                await self.on_review_reopened(turn)
            for later in flow.steps[flow.index(review) + 1:]:  # type: ignore[arg-type]
                turn.answers.pop(later.name, None)
        if unsure:  # named, but no new value given: that question again, then back here
            turn.data.return_to = review if review and (reviewed or current == review) else current
            await self._revisit(turn, state, flow, unsure[0])
        elif reviewed:
            await self._ask(turn, state, flow.step(review))  # type: ignore[arg-type]
        elif current and self._take_facts(turn, flow, flow.index(current) - 1, text):
            await self._advance(turn, state, flow, flow.index(current) - 1)  # "…，地址是…" answers on
        else:
            await self._ask(turn, state, flow.step(current), again=True)  # type: ignore[arg-type]
        return True

    async def _corrected_value(self, turn: Turn, step: Step, candidates: tuple[str, ...], *,
                               trial: bool = False) -> Any:
        """The first place in the message that holds a valid new value for ``step``; a
        ``trial`` only looks (nothing it would say is kept)."""
        if _kind(step) in _CONFIRMED_KINDS - {"services"}:
            return None
        replies = len(turn.replies)
        found = None
        for candidate in candidates:
            try:
                value = await step.accept(turn, Answer(text=candidate,
                                                       option=await _option(turn, step, candidate)))
            except Reprompt:
                continue
            if value is not None and value is not STAY:
                found = value
                break
        if trial or found is None:
            del turn.replies[replies:]  # what a reading said is not for the family
        return found

    def _take_facts(self, turn: Turn, flow: Flow, index: int, text: str, *, exclude: str | None = None) -> bool:
        """Fill the steps still ahead with what the message also says, and say what was taken."""
        from flows.facts import REFINES, fact_values, read_facts  # noqa: PLC0415

        facts = read_facts(text)
        if facts.empty():
            return False
        if facts.patient_word:  # "给我爷爷约": who the patient is to the writer, for later messages
            turn.meta.setdefault("patient_word", facts.patient_word)
        given = fact_values(facts, {**turn.answers, "patient_word": turn.meta.get("patient_word")})
        relation = turn.answers.get("relation")
        if relation in REFINES and given.get("speaker_relation") in REFINES[relation]:
            turn.answers["relation"] = given["speaker_relation"]  # "子女" was "女儿" all along
        phones = list(facts.phones)
        pending = turn.data.facts
        taken: list[str] = []
        blocked = False
        for position, step in enumerate(flow.steps):
            if position <= index and step.name != "applicant":
                continue
            spec = getattr(step, "spec", None)
            if position > index and _kind(step) in _BLOCKING_KINDS and step.name not in turn.answers:
                blocked = True
            if blocked and _kind(step) not in _CONFIRMED_KINDS:  # a pre-selection goes further
                continue
            if spec is None or step.name == exclude or step.name in turn.answers or step.name in pending:
                continue
            if position > index and step.skip(turn):
                continue
            for fact in spec.reads:
                if fact == "phone" and phones:
                    pending[step.name] = phones.pop(0)
                elif fact == "speaker_relation" and "speaker_relation" in given:
                    pending[step.name] = "family" if step.name == "applicant" else given["speaker_relation"]
                elif fact == "self_applicant" and "self_applicant" in given:
                    pending[step.name] = "self"
                elif fact in given:
                    pending[step.name] = given.pop(fact)
                else:
                    continue
                taken.append(step.name)
                break
        if "applicant" in taken and "speaker_relation" in given and "relation" not in pending:
            pending["relation"] = given["speaker_relation"]
        if not taken:
            return False
        shown_facts = [turn.t(f"fact.{name}") + (turn.t("fact.separator") + shown(turn, name, pending[name])
                                                  if name not in ("applicant",) else "")
                       for name in taken if _has(turn, f"fact.{name}")]
        if shown_facts:
            turn.say(turn.t("understood", facts=turn.t("list.separator").join(shown_facts)))
        return True


class MenuHandler:
    """What happens outside any flow; the idle menu (flows/menu.py implements it)."""

    async def show(self, turn: Turn, state: ConversationState) -> None:  # pragma: no cover
        raise NotImplementedError

    async def handle(self, engine: Engine, turn: Turn, state: ConversationState) -> None:  # pragma: no cover
        raise NotImplementedError

    async def run_action(self, engine: Engine, turn: Turn, state: ConversationState,
                         action: str) -> None:  # pragma: no cover
        raise NotImplementedError

    async def correct(self, engine: Engine, turn: Turn, state: ConversationState,
                      found: interludes.Correction) -> bool:
        """A correction outside any flow (after the booking); False when it names nothing."""
        return False


_WHICH = "?"  # data.revisit while the bot asks which answer was wrong
_CONFIRMED_KINDS = {"services", "visits", "review", "signature", "slot", "upload", "uploads", "questionnaire"}
_BLOCKING_KINDS = {"upload", "uploads", "questionnaire", "review", "signature", "slot"}


async def _document(turn: Turn, message: str, values: dict[str, Any]) -> Outbound:
    """A stored document as a reply: the file (by reference: the delivery reads it for channels
    that send files), a signed link to read it, and page images in messages queued before there
    were pages to read."""
    from backend.artefacts import public_url, signed_path  # noqa: PLC0415
    from backend.models import Artefact  # noqa: PLC0415
    from backend.settings import get_settings  # noqa: PLC0415
    from backend.storage import read_decrypted  # noqa: PLC0415

    artefact = await turn.session.get_one(Artefact, int(values["artefact_id"]))
    filename = str(values.get("filename") or "document")
    if "html_id" in values:  # a page to read on the phone, the file a download from it: no images
        url = public_url(get_settings().public_url,
                         signed_path(int(values["html_id"]), str(values.get("html_name") or "document.html")))
        return Outbound(kind="document", text=turn.t(message, url=url), filename=filename,
                        content_type=artefact.content_type, url=url, artefact_id=artefact.id)
    data = await read_decrypted(artefact.storage_path)
    pages = [await read_decrypted((await turn.session.get_one(Artefact, int(page))).storage_path)
             for page in values.get("page_ids", [])]
    url = public_url(get_settings().public_url, signed_path(artefact.id, filename))
    return Outbound(kind="document", text=turn.t(message, url=url), data=data, filename=filename,
                    content_type=artefact.content_type, url=url, pages=pages)


def _written_in_english(text: str | None) -> bool:
    """Two or more Latin words and no Chinese: "Hello, I'd like to book a nurse"."""
    if not text or any("\u3400" <= ch <= "\u9fff" for ch in text):
        return False
    return len([w for w in text.split() if w.isascii() and any(c.isalpha() for c in w)]) >= 2


def _asides(step: Step) -> bool:
    spec = getattr(step, "spec", None)
    return spec is None or spec.asides


def _kind(step: Step) -> str:
    spec = getattr(step, "spec", None)
    return spec.kind if spec is not None else ""


async def _option(turn: Turn, step: Step, value: Any) -> Option | None:
    """The option a stored value or a word stands for, at steps that offer options."""
    if _kind(step) not in ("choice", "yes_no"):
        return None
    options = (await step.prompt(turn)).options
    return next((o for o in options if o.id == str(value)), None) or match_option(str(value), options)


def _has(turn: Turn, key: str) -> bool:
    from flows.messages import catalogue  # noqa: PLC0415

    return key in catalogue(turn.lang)


def shown(turn: Turn, name: str, value: Any) -> str:
    """An answer as the family reads it back (ID numbers and phones masked)."""
    if isinstance(value, dict) and "number" in value:
        return mask(value["number"], 4)
    if isinstance(value, list):
        from backend.config import catalogue  # noqa: PLC0415

        items = catalogue()
        return join(turn.lang, (items.get(c).name(turn.lang) if items.get(c) else str(c)  # type: ignore[union-attr]
                                for c in value))
    if name in ("phone", "present_phone", "id_number") and isinstance(value, str):
        return mask(value, 4)
    if name in ("relation", "present_relation") and isinstance(value, str):
        from nlu.entities import relation_label  # noqa: PLC0415

        return relation_label(value, turn.lang)
    if isinstance(value, str) and _has(turn, f"value.{value}"):
        return turn.t(f"value.{value}")
    return str(value)


_FREE_TEXT_SAFE = {"patient_name", "applicant_name", "present_name", "consent", "complaint_text"}


def _context(state: ConversationState) -> str:
    return f"{state.flow}:{state.step}"


def _inbound_payload(inbound: Inbound) -> dict[str, Any] | None:
    payload: dict[str, Any] = {}
    if inbound.choice:
        payload["choice"] = inbound.choice
    if inbound.event:
        payload["event"] = inbound.event
    if inbound.media:
        payload["media"] = [{"content_type": m.content_type, "size": len(m.data),
                             "filename": m.filename} for m in inbound.media]
    if inbound.location:
        payload["location"] = {"lat": inbound.location.latitude, "lon": inbound.location.longitude,
                               "label": inbound.location.label}
    if inbound.is_tryout:
        payload["tryout"] = True
    return payload or None


def _stored_reply(entry: TranscriptEntry) -> Outbound:
    """A reply as recorded in the transcript (documents come back as their link)."""
    payload = entry.payload or {}
    file = payload.get("file") or {}
    return Outbound(kind=entry.kind if entry.kind in ("text", "choices") else "text",  # type: ignore[arg-type]
                    text=entry.text or (f"{file.get('filename')}: {file.get('url')}" if file else ""),
                    choices=[Choice(c["id"], c["label"]) for c in payload.get("choices", [])],
                    context=payload.get("context"), multiple=bool(payload.get("multiple")),
                    request_contact=bool(payload.get("request_contact")))


def _records(replies: list[Outbound]) -> list[conversations.OutboundRecord]:
    return [(reply.kind, reply.text, _outbound_payload(reply)) for reply in replies]


def _outbound_payload(reply: Outbound) -> dict[str, Any] | None:
    payload: dict[str, Any] = {}
    if reply.choices:
        payload["choices"] = [{"id": c.id, "label": c.label} for c in reply.choices]
    if reply.context:
        payload["context"] = reply.context
    if reply.multiple or reply.request_contact:
        payload["multiple"], payload["request_contact"] = reply.multiple, reply.request_contact
    if reply.filename:
        payload["file"] = {"filename": reply.filename, "content_type": reply.content_type, "url": reply.url}
        if reply.data is not None:
            payload["file"]["size"] = len(reply.data)
        if reply.artefact_id is not None:
            payload["file"]["artefact_id"] = reply.artefact_id
    return payload or None


def say_handed_off(turn: Turn) -> None:
    """The family is in the hotline's queue: when staff are on duty they answer here soon,
    otherwise the family hears when they will (hospital.yaml ``hotline.business_hours``)."""
    key = "handoff.queued" if hotline.on_duty() else "handoff.after_hours"
    turn.say(turn.t(key, hotline=hospital_config().hospital.hotline, hours=hotline.hours_text()))

"""After booking: status, cancellation and complaints (DOMAIN.md: complaints and evaluation)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from backend import bookings, complaints, conversations, privacy, series, visits
from backend.config import catalogue, hospital_config
from backend.models import Booking, Slot
from flows.engine import Turn
from flows.intake import slot_label, yes_no
from flows.kinds import Hooks, build_flow
from flows.messages import join
from flows.spec import load_flow_spec
from flows.steps import END, Answer, Flow, Option, Prompt, Reprompt


def booking_label(turn: Turn, booking: Booking, slot: Slot) -> str:
    return turn.t("booking.label", number=booking.number, slot=slot_label(turn, slot.day, slot.start, slot.end))


def services_text(turn: Turn, codes: list[str]) -> str:
    items = catalogue()
    return join(turn.lang, (items.get(c).name(turn.lang) if items.get(c) else c for c in codes))  # type: ignore[union-attr]


async def show_status(turn: Turn) -> None:
    """List the family's bookings with their state."""
    found = await bookings.bookings_of_user(turn.session, turn.user.id)
    if not found:
        turn.say(turn.t("status.none"))
        return
    lines = [turn.t("status.header")]
    for booking, slot in found:
        lines.append(turn.t("status.line", number=booking.number,
                            slot=slot_label(turn, slot.day, slot.start, slot.end),
                            services=services_text(turn, booking.service_codes),
                            status=turn.t(f"booking.status.{booking.status}")))
    turn.say("\n".join(lines))


# --- cancel (flows/data/cancel.yaml) -----------------------------------------------------

async def active_bookings(turn: Turn) -> list[Option]:
    return await _booking_options(turn, active_only=True)


async def has_no_active(turn: Turn) -> bool:
    return not await bookings.bookings_of_user(turn.session, turn.user.id, active_only=True)


async def cancel_confirm_prompt(turn: Turn) -> Prompt:
    booking = await turn.session.get_one(Booking, int(turn.answers["booking"]))
    slot = await turn.session.get_one(Slot, booking.slot_id)
    label = slot_label(turn, slot.day, slot.start, slot.end)
    later = len(await series.later_visits(turn.session, booking)) - 1
    if later > 0:  # one visit of a discharge order's series: this one, or the rest as well
        return Prompt(turn.t("cancel.confirm.series", number=booking.number, slot=label, later=later), [
            Option("one", turn.t("cancel.one"), ("这一次", "这次", "只取消这次", "只取消这一次", "only this", "this one")),
            Option("rest", turn.t("cancel.rest"), ("以后的", "以后的都取消", "后面的", "剩下的", "全部", "都取消",
                                                   "all", "the rest", "all later")),
            Option("no", turn.t("cancel.keep.option"), ("不取消", "保留", "算了", "keep"))])
    return Prompt(turn.t("cancel.confirm", number=booking.number, slot=label), yes_no(turn))


async def cancel_booking(turn: Turn, value: str) -> str | None:
    booking = await turn.session.get_one(Booking, int(turn.answers["booking"]))
    if value not in ("yes", "one", "rest"):
        turn.say(turn.t("cancel.keep"))
        return END
    if booking.channel_user_id != turn.user.id or booking.status not in bookings.ACTIVE_STATES:
        raise Reprompt(turn.t("cancel.none"))
    slot = await turn.session.get_one(Slot, booking.slot_id)
    config = hospital_config()
    hours = config.cancellation.chat_until_hours
    starts = datetime.combine(slot.day, slot.start, ZoneInfo(config.schedule.timezone))
    if turn.now() >= starts - timedelta(hours=hours):  # hospital.yaml: cancellation.chat_until_hours
        turn.say(turn.t("cancel.too_late", number=booking.number, slot=slot_label(turn, slot.day, slot.start, slot.end),
                        hours=hours, hotline=config.hospital.hotline))
        return END
    actor = f"family:{turn.user.channel}"
    if value == "rest":
        cancelled = await series.cancel_from(turn.session, booking, actor, tell_family=False)
        turn.say(turn.t("cancel.cancelled.rest", count=len(cancelled),
                        numbers=turn.t("list.separator").join(b.number for b in cancelled)))
        return END
    await bookings.change_status(turn.session, booking, "cancelled", actor=actor, tell_family=False)
    turn.say(turn.t("cancel.cancelled", number=booking.number))
    return END


async def _booking_options(turn: Turn, active_only: bool) -> list[Option]:
    found = await bookings.bookings_of_user(turn.session, turn.user.id, active_only=active_only)
    return [Option(str(b.id), booking_label(turn, b, s), (b.number,)) for b, s in found[:8]]


# --- complaint (flows/data/complaint.yaml) -----------------------------------------------

async def complaint_text(turn: Turn, value: str, answer: Answer) -> str:
    if len(value) < 2:
        raise Reprompt(turn.t("complaint.what"))
    return value


async def complaint_bookings(turn: Turn) -> list[Option]:
    options = await _booking_options(turn, active_only=False)
    return [*options, Option("none", turn.t("complaint.booking.none"), ("无关", "没有", "none"))]


async def file_complaint(turn: Turn) -> None:
    booking = turn.answers.get("complaint_booking")
    complaint = await complaints.file_complaint(
        turn.session, channel_user_id=turn.user.id, text=turn.answers["complaint_text"],
        booking_id=int(booking) if booking and booking != "none" else None,
        contact_preference=turn.answers["complaint_contact"])
    turn.say(turn.t("complaint.done", number=complaint.number))


def services_overview(turn: Turn) -> str:
    items, config = catalogue(), hospital_config()
    lines = [turn.t("services.list", fees=config.fees.total)]
    lines += [turn.t("services.item", name=s.name(turn.lang), price=s.price) for s in items.bookable]
    negative = [s.name(turn.lang) for s in items.services if s.listed == "negative"]
    if negative:
        lines.append(turn.t("services.negative", items=join(turn.lang, negative)))
    return "\n".join(lines)


# --- rating (flows/data/rating.yaml) ------------------------------------------------------

async def score_options(turn: Turn) -> list[Option]:
    return [Option(str(n), "★" * n + f" {n}", (f"{n}分", f"{n}星", str(n))) for n in (5, 4, 3, 2, 1)]


async def score(turn: Turn, value: str, answer: Answer) -> int:
    for n in range(1, 6):
        if answer.text.strip() in (str(n), f"{n}分", f"{n}星"):
            return n
    return int(value)


async def comment(turn: Turn, value: str, answer: Answer) -> str | None:
    said = value.strip()
    return None if said.lower() in ("无", "没有", "没了", "none", "no", turn.t("rating.none")) else said


async def rate_visit(turn: Turn) -> None:
    await visits.rate(turn.session, int(turn.meta["booking_id"]), turn.user.id,
                      int(turn.answers["score"]), turn.answers.get("comment"))
    turn.say(turn.t("rating.thanks"))


async def rate_handoff(turn: Turn) -> None:
    await conversations.rate_handoff(turn.session, turn.user.id, str(turn.answers["satisfaction"]))
    turn.say(turn.t("handoff_rating.thanks"))


# --- personal data (flows/data/data_request.yaml, PIPL) ----------------------------------

async def data_kind(turn: Turn, value: str) -> str | None:
    if value != "access":
        return None
    request = await privacy.open_request(turn.session, turn.user.id, "access")
    found = await privacy.summary(turn.session, turn.user.id)
    lines = [turn.t("data.summary", messages=found.messages, uploads=found.uploads,
                    bookings=join(turn.lang, found.bookings) or "-")]
    lines += [f"· {p}" for p in found.patients]
    turn.say("\n".join(lines))
    request.status, request.answered_by, request.answered_at = "done", "bot", request.created_at
    return END


async def data_confirm(turn: Turn, value: str) -> str | None:
    if value != "yes":
        turn.say(turn.t("cancel.keep_data"))
        return END
    request = await privacy.open_request(turn.session, turn.user.id, "delete")
    turn.say(turn.t("data.delete_received", id=request.id, due=request.due_at.date().isoformat()))
    return END


HOOKS = Hooks(
    prompts={"cancel_confirm": cancel_confirm_prompt},
    options={"active_bookings": active_bookings, "complaint_bookings": complaint_bookings,
             "scores": score_options},
    accepts={"complaint_text": complaint_text, "score": score, "comment": comment},
    afters={"cancel_booking": cancel_booking, "data_kind": data_kind, "data_confirm": data_confirm},
    finishes={"file_complaint": file_complaint, "rate_visit": rate_visit, "rate_handoff": rate_handoff},
)


def aftercare_flows() -> list[Flow]:
    """Cancel, complaint, ratings (of a visit, of a hand-off) and personal-data requests, as
    declared in flows/data/."""
    return [build_flow(load_flow_spec(name), HOOKS)
            for name in ("cancel", "complaint", "rating", "handoff_rating", "data_request")]

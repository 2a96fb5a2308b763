"""After booking: status, cancellation and complaints (DOMAIN.md: complaints and evaluation)."""
from __future__ import annotations

from backend import bookings, complaints, privacy, visits
from backend.config import catalogue, hospital_config
from backend.models import Booking, Slot
from flows.engine import Turn
from flows.intake import ask, require_option, slot_label, yes_no
from flows.steps import END, Answer, Flow, Option, Prompt, Reprompt, Step


def booking_label(turn: Turn, booking: Booking, slot: Slot) -> str:
    return f"{booking.number}｜{slot_label(turn, slot.day, slot.start, slot.end)}"


def services_text(turn: Turn, codes: list[str]) -> str:
    items = catalogue()
    return "、".join(items.get(c).name(turn.lang) if items.get(c) else c for c in codes)  # type: ignore[union-attr]


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


# --- cancel ------------------------------------------------------------------------------

async def choose_prompt(turn: Turn) -> Prompt:
    active = await bookings.bookings_of_user(turn.session, turn.user.id, active_only=True)
    return Prompt(turn.t("cancel.choose"), [Option(str(b.id), booking_label(turn, b, s), (b.number,))
                                            for b, s in active])


async def choose_accept(turn: Turn, answer: Answer) -> int:
    return int(require_option(turn, answer).id)


async def has_no_active(turn: Turn) -> bool:
    return not await bookings.bookings_of_user(turn.session, turn.user.id, active_only=True)


async def confirm_prompt(turn: Turn) -> Prompt:
    booking = await turn.session.get_one(Booking, turn.answers["booking"])
    slot = await turn.session.get_one(Slot, booking.slot_id)
    return Prompt(turn.t("cancel.confirm", number=booking.number,
                         slot=slot_label(turn, slot.day, slot.start, slot.end)), yes_no(turn))


async def confirm_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def confirm_after(turn: Turn, value: str) -> str | None:
    booking = await turn.session.get_one(Booking, turn.answers["booking"])
    if value != "yes":
        turn.say(turn.t("cancel.keep"))
        return END
    if booking.channel_user_id != turn.user.id or booking.status not in bookings.ACTIVE_STATES:
        raise Reprompt(turn.t("cancel.none"))
    await bookings.change_status(turn.session, booking, "cancelled", actor=f"family:{turn.user.channel}",
                                 tell_family=False)
    turn.say(turn.t("cancel.cancelled", number=booking.number))
    return END


async def _nothing(turn: Turn) -> None:
    return None


def cancel_flow() -> Flow:
    return Flow("cancel", [
        Step("booking", choose_prompt, choose_accept),
        Step("confirm", confirm_prompt, confirm_accept, after=confirm_after),
    ], _nothing)


# --- complaint ---------------------------------------------------------------------------

async def complaint_text_accept(turn: Turn, answer: Answer) -> str:
    if len(answer.text) < 2:
        raise Reprompt(turn.t("complaint.what"))
    return answer.text


async def complaint_booking_prompt(turn: Turn) -> Prompt:
    found = await bookings.bookings_of_user(turn.session, turn.user.id)
    options = [Option(str(b.id), booking_label(turn, b, s), (b.number,)) for b, s in found[:8]]
    return Prompt(turn.t("complaint.booking"),
                  [*options, Option("none", turn.t("complaint.booking.none"), ("无关", "没有", "none"))])


async def complaint_booking_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


def contact_options(turn: Turn) -> list[Option]:
    return [Option("phone", turn.t("complaint.contact.phone"), ("电话", "phone", "call")),
            Option("chat", turn.t("complaint.contact.chat"), ("这里", "微信", "chat", "here"))]


async def complaint_contact_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def complaint_finish(turn: Turn) -> None:
    booking = turn.answers.get("complaint_booking")
    complaint = await complaints.file_complaint(
        turn.session, channel_user_id=turn.user.id, text=turn.answers["complaint_text"],
        booking_id=int(booking) if booking and booking != "none" else None,
        contact_preference=turn.answers["complaint_contact"])
    turn.say(turn.t("complaint.done", number=complaint.number))


def complaint_flow() -> Flow:
    return Flow("complaint", [
        Step("complaint_text", ask("complaint.what"), complaint_text_accept),
        Step("complaint_booking", complaint_booking_prompt, complaint_booking_accept),
        Step("complaint_contact", ask("complaint.contact", contact_options), complaint_contact_accept),
    ], complaint_finish)


def services_overview(turn: Turn) -> str:
    items, config = catalogue(), hospital_config()
    lines = [turn.t("services.list", fees=config.fees.total)]
    lines += [turn.t("services.item", name=s.name(turn.lang), price=s.price) for s in items.bookable]
    negative = [s.name(turn.lang) for s in items.services if s.listed == "negative"]
    if negative:
        lines.append(turn.t("services.negative", items="、".join(negative)))
    return "\n".join(lines)


# --- rating (评议) -------------------------------------------------------------------------

def score_options(turn: Turn) -> list[Option]:
    return [Option(str(n), "★" * n + f" {n}", (f"{n}分", str(n))) for n in (5, 4, 3, 2, 1)]


async def score_accept(turn: Turn, answer: Answer) -> int:
    for n in range(1, 6):
        if answer.text.strip() in (str(n), f"{n}分", f"{n}星"):
            return n
    return int(require_option(turn, answer).id)


async def comment_accept(turn: Turn, answer: Answer) -> str | None:
    said = answer.text.strip()
    return None if said.lower() in ("无", "没有", "none", "no", turn.t("rating.none")) else said


async def rating_finish(turn: Turn) -> None:
    await visits.rate(turn.session, int(turn.meta["booking_id"]), turn.user.id,
                      int(turn.answers["score"]), turn.answers.get("comment"))
    turn.say(turn.t("rating.thanks"))


def rating_flow() -> Flow:
    return Flow("rating", [
        Step("score", ask("rating.score", score_options), score_accept),
        Step("comment", ask("rating.comment"), comment_accept),
    ], rating_finish)


# --- personal data (PIPL) ----------------------------------------------------------------

def data_options(turn: Turn) -> list[Option]:
    return [Option("access", turn.t("data.access"), ("查看", "see", "view")),
            Option("delete", turn.t("data.delete"), ("删除", "delete", "erase"))]


async def data_kind_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def data_kind_after(turn: Turn, value: str) -> str | None:
    if value != "access":
        return None
    request = await privacy.open_request(turn.session, turn.user.id, "access")
    found = await privacy.summary(turn.session, turn.user.id)
    lines = [turn.t("data.summary", messages=found.messages, uploads=found.uploads,
                    bookings="、".join(found.bookings) or "-")]
    lines += [f"· {p}" for p in found.patients]
    turn.say("\n".join(lines))
    request.status, request.answered_by, request.answered_at = "done", "bot", request.created_at
    return END


async def data_confirm_accept(turn: Turn, answer: Answer) -> str:
    return require_option(turn, answer).id


async def data_confirm_after(turn: Turn, value: str) -> str | None:
    if value != "yes":
        turn.say(turn.t("cancel.keep_data"))
        return END
    request = await privacy.open_request(turn.session, turn.user.id, "delete")
    turn.say(turn.t("data.delete_received", id=request.id, due=request.due_at.date().isoformat()))
    return END


def data_flow() -> Flow:
    return Flow("data_request", [
        Step("data_kind", ask("data.ask", data_options), data_kind_accept, after=data_kind_after),
        Step("data_confirm", ask("data.delete_confirm", yes_no), data_confirm_accept, after=data_confirm_after),
    ], _nothing)

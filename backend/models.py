"""The jiahu schema: one set of typed models for SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backend import clock
from backend.crypto import current_vault
from backend.types import EncryptedJSON, EncryptedText, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ChannelUser(Base):
    """A person talking to the bot on one channel (a WeChat openid, a Telegram chat, ...)."""

    __tablename__ = "channel_users"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    is_tryout: Mapped[bool] = mapped_column(Boolean, default=False)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Patient(Base):
    """The person served. ID number, phone and address are encrypted at rest."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    id_number: Mapped[str] = mapped_column(EncryptedText())
    id_number_index: Mapped[str] = mapped_column(String(64), index=True)
    id_tail_index: Mapped[str | None] = mapped_column(String(64), index=True)  # last 4 characters
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(EncryptedText())
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    address: Mapped[str | None] = mapped_column(EncryptedText())
    district: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class Intake(Base):
    """One application: who applies for whom, the privacy consent, the person present."""

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    privacy_notice_version: Mapped[str] = mapped_column(String(20))
    privacy_consented_at: Mapped[datetime] = mapped_column(default=clock.now)
    applicant_is_patient: Mapped[bool | None] = mapped_column(Boolean)
    applicant_relation: Mapped[str | None] = mapped_column(String(40))
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    present_name: Mapped[str | None] = mapped_column(String(100))
    present_relation: Mapped[str | None] = mapped_column(String(40))
    present_phone: Mapped[str | None] = mapped_column(EncryptedText())
    present_phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    service_codes: Mapped[list[str] | None] = mapped_column(JSON)
    retained_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class Upload(Base):
    """An uploaded file (ID card photo, medical record); the bytes live encrypted on disk."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int | None] = mapped_column(ForeignKey("intakes.id"), index=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Assessment(Base):
    """The pre-assessment questionnaire's answers, scores and verdict (首诊/评估)."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    questionnaire_version: Mapped[str] = mapped_column(String(20))
    answers: Mapped[Any] = mapped_column(EncryptedJSON())
    barthel_score: Mapped[int] = mapped_column(Integer)
    barthel_grade: Mapped[str] = mapped_column(String(20))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligible: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Consent(Base):
    """The signed agreement and informed consent (知情同意书) for one intake."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(String(40), unique=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    template_version: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8))
    summary_sha256: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str | None] = mapped_column(String(100))
    signed_at: Mapped[datetime | None] = mapped_column()
    channel: Mapped[str] = mapped_column(String(20))
    channel_external_id: Mapped[str] = mapped_column(String(128))
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="presented")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Service(Base):
    """A catalogue item, synchronised from the hospital's catalogue data file."""

    __tablename__ = "services"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40))
    price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    staff_role: Mapped[str] = mapped_column(String(20))
    listed: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Slot(Base):
    """A visit window in a district with a capacity; ``booked`` never exceeds ``capacity``."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("district", "day", "start"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[str] = mapped_column(String(50))
    day: Mapped[date] = mapped_column(Date, index=True)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """A home visit booked for a patient."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"), index=True)
    service_codes: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="requested", index=True)
    district: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(EncryptedText())
    present_name: Mapped[str] = mapped_column(String(100))
    present_relation: Mapped[str] = mapped_column(String(40))
    present_phone: Mapped[str] = mapped_column(EncryptedText())
    present_phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    total_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    nurse_id: Mapped[int | None] = mapped_column(ForeignKey("care_workers.id"), index=True)
    series: Mapped[str | None] = mapped_column(String(30), index=True)  # the first visit's number
    arrived_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    overdue_alerted_at: Mapped[datetime | None] = mapped_column()
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class BookingEvent(Base):
    """Every state change of a booking, with who made it and when (全程留痕)."""

    __tablename__ = "booking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Complaint(Base):
    """A complaint or suggestion from a family, answered by staff."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    text: Mapped[str] = mapped_column(EncryptedText())
    contact_preference: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    answer: Mapped[str | None] = mapped_column(EncryptedText())
    answered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class HandoffRequest(Base):
    """A family asking for a person (转人工); staff see these as a queue."""

    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    flow: Mapped[str | None] = mapped_column(String(30))
    step: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20), default="waiting", index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    satisfaction: Mapped[str | None] = mapped_column(String(20))  # good, fair or poor, asked at hand-back
    rated_at: Mapped[datetime | None] = mapped_column()


class ConversationNote(Base):
    """An internal note of the hotline on a conversation; the family never sees it."""

    __tablename__ = "conversation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class ConversationState(Base):
    """Where a conversation stands; saved after every turn, encrypted (it holds answers)."""

    __tablename__ = "conversation_states"

    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(String(30))
    step: Mapped[str | None] = mapped_column(String(60))
    data: Mapped[Any] = mapped_column(EncryptedJSON())
    taken_over_by: Mapped[str | None] = mapped_column(String(100))
    turn: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class TranscriptEntry(Base):
    """One message in or out, with its channel message id; inbound ids are unique per channel."""

    __tablename__ = "transcript"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "channel_message_id",
                         name="uq_transcript_channel_message"),
        Index("ix_transcript_user_time", "channel_user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(3))
    channel_message_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(EncryptedText())
    payload: Mapped[Any] = mapped_column(EncryptedJSON(), nullable=True)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    author: Mapped[str] = mapped_column(String(100), default="bot")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CacheEntry(Base):
    """Small shared values with an expiry (e.g. a channel's access token), for every process."""

    __tablename__ = "cache_entries"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(EncryptedText())
    expires_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class Artefact(Base):
    """A stored file made by the service (consent PDF, its page images), encrypted on disk."""

    __tablename__ = "artefacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(30))
    owner_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    __table_args__ = (Index("ix_artefacts_owner", "owner_kind", "owner_id"),)


class StaffAccount(Base):
    """A member of hospital staff using the console: hotline, nurse manager or admin."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class StaffSession(Base):
    """A console login. The cookie carries a random token, the table only its hash: logging out
    or the end of ``expires_at`` ends the session for good, whoever holds the cookie."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()


class ApiToken(Base):
    """A bearer token for a system (e.g. the hospital's HIS) with the scopes it may use."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()


class CareWorker(Base):
    """A nurse, doctor, therapist or pharmacist who visits homes (DOMAIN.md: qualifications)."""

    __tablename__ = "care_workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(40))
    years_of_practice: Mapped[int] = mapped_column(Integer)
    registration_no: Mapped[str] = mapped_column(String(60), unique=True)
    districts: Mapped[list[str]] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(EncryptedText())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class VisitReport(Base):
    """What the visiting staff report during a visit: arrived, finished, alarm (一键报警)."""

    __tablename__ = "visit_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(EncryptedText())
    reported_by: Mapped[str] = mapped_column(String(100))
    handled_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Notification(Base):
    """A message to a family waiting to be delivered through their channel (durable outbox)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),
                      Index("ix_notifications_held_for", "held_for", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str | None] = mapped_column(EncryptedText())
    payload: Mapped[Any] = mapped_column(EncryptedJSON(), nullable=True)
    author: Mapped[str] = mapped_column(String(100), default="system")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column()
    # A turn's replies held for the channel's passive reply (WeChat): the id of the message they
    # answer, while held; kept on a row the passive reply settled as sent (the mark that it went
    # out that way), cleared when the outbox takes the row over (bot/delivery.py).
    held_for: Mapped[str | None] = mapped_column(String(100))


class HospitalEvent(Base):
    """An event for the hospital's system, POSTed signed until acknowledged (outbox)."""

    __tablename__ = "hospital_events"
    __table_args__ = (Index("ix_hospital_events_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    delivered_at: Mapped[datetime | None] = mapped_column()


class AuditEntry(Base):
    """Append-only audit log; each entry carries the hash of the one before (全程留痕)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject: Mapped[str] = mapped_column(String(60), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)  # no fork in the chain
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditAnchor(Base):
    """The head of the audit chain (one row): position, hash and count of entries, signed with
    the audit key and updated with every append, so that removing the newest entries (or all of
    them) shows. Entries before ``keyed_from`` predate keyed hashing (plain SHA-256)."""

    __tablename__ = "audit_anchor"

    id: Mapped[int] = mapped_column(primary_key=True)
    entries: Mapped[int] = mapped_column(Integer)
    head_id: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class DataRequest(Base):
    """A family asking to see or delete their personal data (PIPL), answered within a set time."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_user_id: Mapped[int] = mapped_column(ForeignKey("channel_users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    due_at: Mapped[datetime] = mapped_column()
    answer: Mapped[str | None] = mapped_column(EncryptedText())
    answered_by: Mapped[str | None] = mapped_column(String(100))
    answered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


# --- blind indexes, kept beside the encrypted values they let staff search by -------------

ID_TAIL = 4  # an ID number is found by its last four characters (what a caller reads out)


def id_tail_index(value: str) -> str:
    """The blind index of an ID number's last four characters (a search term of that length)."""
    return current_vault().blind_index("id-tail:" + "".join(value.split())[-ID_TAIL:])


def phone_index(value: str | None) -> str | None:
    return current_vault().blind_index(value) if value else None


@event.listens_for(Patient.id_number, "set")
def _index_id_tail(target: Patient, value: str | None, _old: object, _initiator: object) -> None:
    target.id_tail_index = id_tail_index(value) if value else None


@event.listens_for(Intake.present_phone, "set")
def _index_intake_phone(target: Intake, value: str | None, _old: object, _initiator: object) -> None:
    target.present_phone_index = phone_index(value)


@event.listens_for(Booking.present_phone, "set")
def _index_booking_phone(target: Booking, value: str | None, _old: object, _initiator: object) -> None:
    target.present_phone_index = phone_index(value)

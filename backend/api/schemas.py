"""Request and response bodies of the API; the OpenAPI document is built from these models."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from backend.bookings import TRANSITIONS
from backend.care import ROLES as WORKER_ROLES

BookingStatus = Literal["requested", "confirmed", "assigned", "completed", "rejected", "cancelled"]
ComplaintStatus = Literal["open", "in_progress", "resolved", "closed"]
assert set(BookingStatus.__args__) == set(TRANSITIONS)  # type: ignore[attr-defined]


def text(max_length: int, min_length: int = 1) -> object:
    """A trimmed string without NUL characters (PostgreSQL refuses them in text)."""
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length,
                             pattern=r"^[^\x00]*$")


Reason = Annotated[str, text(500)]
Name = Annotated[str, text(100)]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


def _local(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time in the hospital's time zone, without an offset (e.g. 09:00)")
    return value


LocalTime = Annotated[time, AfterValidator(_local)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- requests --------------------------------------------------------------------------------

class ReasonBody(Body):
    """Why a booking is rejected or cancelled; the family is told."""

    reason: Reason


class CancelBody(ReasonBody):
    """Why a booking is cancelled; with ``rest``, the later visits of its series too."""

    rest: bool = Field(default=False, description="also cancel the later visits of the booking's series")


class AssignBody(Body):
    care_worker_id: RowId


class RescheduleBody(Body):
    slot_id: RowId


class ArrivedBody(Body):
    """Where the visiting staff are when they arrive (DOMAIN.md: 服务人员定位追踪)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class AlarmBody(Body):
    note: Annotated[str, text(1000)] | None = None


class NewCareWorker(Body):
    name: Name
    role: Literal["nurse", "doctor", "therapist", "pharmacist"]
    title: Annotated[str, text(40)]
    years_of_practice: int = Field(ge=0, le=70)
    registration_no: Annotated[str, text(60)]
    districts: list[Annotated[str, text(50)]] = Field(min_length=1, max_length=30)
    phone: Annotated[str, text(30)] | None = None


assert set(NewCareWorker.model_fields["role"].annotation.__args__) == set(WORKER_ROLES)  # type: ignore[union-attr]


class CareWorkerChanges(Body):
    """What changes; what is left out stays. ``active: false`` deactivates (never assigned again
    until reactivated); ``phone: ""`` removes the phone."""
    name: Name | None = None
    role: Literal["nurse", "doctor", "therapist", "pharmacist"] | None = None
    title: Annotated[str, text(40)] | None = None
    years_of_practice: int | None = Field(default=None, ge=0, le=70)
    registration_no: Annotated[str, text(60)] | None = None
    districts: list[Annotated[str, text(50)]] | None = Field(default=None, min_length=1, max_length=30)
    phone: Annotated[str, Field(max_length=30)] | None = None
    active: bool | None = None


class NewSlotBody(Body):
    """A visit window opened by hand."""
    district: Annotated[str, Field(min_length=2, max_length=50)]
    date: Day
    start: LocalTime
    end: LocalTime
    capacity: Annotated[int, Field(ge=1, le=100)]


class CapacityBody(Body):
    capacity: Annotated[int, Field(ge=0, le=100)]


class AlarmHandledBody(Body):
    note: Annotated[str | None, Field(max_length=500)] = None


class ComplaintAssignBody(Body):
    """Who handles the complaint; the caller when left out."""

    assignee: Name | None = None


class ComplaintAnswerBody(Body):
    answer: Annotated[str, text(2000)]


class ComplaintStatusBody(Body):
    status: Literal["in_progress", "resolved", "closed"]


class StaffMessageBody(Body):
    text: Annotated[str, text(2000)]


class BookingFilter(Query):
    status: BookingStatus | None = None
    district: Annotated[str, text(50)] | None = None
    date: Day | None = None


class SlotFilter(Query):
    district: Annotated[str, text(50)]
    from_: Day | None = Field(default=None, alias="from")


class ComplaintFilter(Query):
    status: ComplaintStatus | None = None


class ConversationFilter(Query):
    q: Annotated[str, text(100, min_length=0)] = ""
    channel: Annotated[str, text(20)] | None = None
    date: Day | None = None


class StatsRange(Query):
    since: Day | None = None
    until: Day | None = None


class FhirQuery(Query):
    """``identifiers=full`` shows ID numbers and phones unmasked (needs ``identifiers:read``)."""
    identifiers: Literal["masked", "full"] = "masked"


class ReportRange(StatsRange):
    """Visit dates (the last 30 days by default, at most a year); ``identifiers=full`` shows
    names, ID numbers, phones and addresses (needs ``identifiers:read``)."""
    identifiers: Literal["masked", "full"] = "masked"


# --- responses -------------------------------------------------------------------------------

class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorOut(BaseModel):
    """Every error: a clear message, with the fields or the reasons when there are some."""

    error: str
    problems: list[FieldProblem] | None = None
    reasons: list[str] | None = None


class WorkerRef(BaseModel):
    id: int
    name: str
    title: str


class BookingSummary(BaseModel):
    number: str
    status: BookingStatus
    district: str
    date: date
    start: time
    end: time
    services: list[str]
    patient_name: str
    present_name: str
    nurse: WorkerRef | None
    total_price: str
    series: str | None = Field(default=None, description="the first visit's number, for repeat visits")


class BookingList(BaseModel):
    bookings: list[BookingSummary]


class PatientOut(BaseModel):
    """The person served; the ID number is never shown in full."""

    name: str
    sex: str
    age: int
    id_number: str = Field(description="masked, last 4 characters shown")
    phone: str | None = Field(description="full for console sessions, last 4 for tokens")
    district: str | None


class BookingEventOut(BaseModel):
    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    at: datetime


class VisitReportOut(BaseModel):
    kind: str
    latitude: float | None
    longitude: float | None
    note: str | None
    reported_by: str
    at: datetime


class AssessmentAnswerOut(BaseModel):
    question_id: str
    question: str
    answer: str = Field(description="the option's label or the family's own words")
    points: int | None = Field(description="Barthel points of the chosen option, if any")
    red_flag: bool


class UploadRef(BaseModel):
    id: int
    kind: str
    filename: str | None
    content_type: str
    size: int


class AssessmentOut(BaseModel):
    """The pre-assessment (首诊评估) the reviewer confirms against."""

    barthel_score: int = Field(ge=0, le=100)
    barthel_grade: str
    grade_label: str
    eligible: bool
    red_flags: list[str] = Field(description="e.g. unstable condition, anticoagulants, 过敏：青霉素过敏")
    answers: list[AssessmentAnswerOut]
    questionnaire_version: str


class BookingDetail(BookingSummary):
    address: str
    present_relation: str
    present_phone: str = Field(description="full for console sessions, last 4 for tokens")
    patient: PatientOut
    created_at: datetime
    arrived_at: datetime | None
    finished_at: datetime | None
    rating: int | None
    events: list[BookingEventOut]
    visit_reports: list[VisitReportOut]
    assessment: AssessmentOut | None
    uploads: list[UploadRef] = Field(description="files of the intake; fetch with GET /api/uploads/{id}")


class SlotOut(BaseModel):
    id: int
    district: str
    date: date
    start: time
    end: time
    capacity: int
    booked: int


class SlotList(BaseModel):
    slots: list[SlotOut]


class DataRequestOut(BaseModel):
    id: int
    channel_user_id: int
    kind: str
    status: str
    due_at: datetime
    created_at: datetime
    answered_at: datetime | None
    answered_by: str | None


class DataRequestList(BaseModel):
    data_requests: list[DataRequestOut]


class ErasureOut(BaseModel):
    request: DataRequestOut
    deleted_uploads: int
    deleted_patients: int
    retained_intakes: list[int]


class AlarmHandled(BaseModel):
    id: int
    handled_at: datetime


class CareWorkerOut(BaseModel):
    id: int
    name: str
    role: str
    title: str
    years_of_practice: int
    registration_no: str
    districts: list[str]
    phone: str | None = Field(description="full for console sessions, last 4 for tokens")
    active: bool
    qualification_problems: list[str] = Field(
        description="what keeps the worker from home visits at all; empty when qualified")


class CareWorkerList(BaseModel):
    care_workers: list[CareWorkerOut]


class VisitReported(BaseModel):
    number: str
    kind: Literal["arrived", "finished", "alarm"]
    booking_status: BookingStatus
    at: datetime


class OverdueVisit(BaseModel):
    number: str
    district: str
    date: date
    end: time
    nurse: WorkerRef | None
    arrived_at: datetime | None


class AlarmOut(BaseModel):
    id: int
    number: str
    note: str | None
    reported_by: str
    at: datetime


class Alerts(BaseModel):
    overdue: list[OverdueVisit]
    alarms: list[AlarmOut]


class ComplaintOut(BaseModel):
    number: str
    status: ComplaintStatus
    text: str
    contact_preference: str
    booking_number: str | None
    assignee: str | None
    answer: str | None
    answered_at: datetime | None
    created_at: datetime
    age_hours: float


class ComplaintList(BaseModel):
    complaints: list[ComplaintOut]


class ConversationOut(BaseModel):
    user_id: int
    channel: str
    display_name: str | None
    last_message_at: datetime | None
    patient_names: list[str]
    booking_numbers: list[str]
    taken_over_by: str | None
    waiting_for_human: bool


class ConversationList(BaseModel):
    conversations: list[ConversationOut]


class TranscriptEntryOut(BaseModel):
    id: int
    at: datetime
    direction: Literal["in", "out"]
    kind: str
    text: str | None = Field(description="ID numbers masked; phones masked for tokens")
    author: str
    upload_id: int | None


class Transcript(BaseModel):
    user_id: int
    channel: str
    display_name: str | None
    taken_over_by: str | None
    patient: PatientOut | None
    entries: list[TranscriptEntryOut]


class ConversationControl(BaseModel):
    user_id: int
    taken_over_by: str | None


class MessageQueued(BaseModel):
    user_id: int
    queued: bool


class NoteBody(Body):
    """An internal note for colleagues; never sent to the family."""

    text: Annotated[str, text(2000)]


class NoteOut(BaseModel):
    id: int
    author: str
    text: str
    created_at: datetime


class NoteList(BaseModel):
    notes: list[NoteOut]


class HandoffOut(BaseModel):
    id: int
    user_id: int
    channel: str
    display_name: str | None
    flow: str | None
    step: str | None
    created_at: datetime
    waiting_minutes: int


class HandoffList(BaseModel):
    handoffs: list[HandoffOut]


class NurseDay(BaseModel):
    nurse: str
    day: date
    visits: int


class Stats(BaseModel):
    """Workload statistics (DOMAIN.md: 工作量统计分析)."""

    since: date
    until: date
    visits_per_nurse_per_day: list[NurseDay]
    bookings_per_district: dict[str, int]
    bookings_by_state: dict[str, int]
    bookings_per_service: dict[str, int]
    complaints_by_state: dict[str, int]
    rating_average: float | None
    ratings: int


class AuditVerdict(BaseModel):
    ok: bool
    entries: int
    problem: str


class FunnelWeek(BaseModel):
    """One week of the intake funnel (try-outs left out; a family counts in the week it began)."""

    week_start: date
    started: int
    privacy: int
    identity: int
    assessment: int
    signed: int
    booked: int
    drop_off: str | None = Field(description="the stage that lost the most families on the way to it")
    stopped_at: dict[str, int] = Field(description="intake steps where families without a booking stopped")
    handed_off: int = Field(description="families who asked for a person")
    handoff_rate: float | None
    handoff_requests: int
    median_first_response_minutes: float | None
    satisfaction: dict[str, int] = Field(description="answers to the question at hand-back: good, fair, poor")


class Funnel(BaseModel):
    since: date
    until: date
    weeks: list[FunnelWeek]

"""The hospital's data files (hospital, catalogue, questionnaire), validated with pydantic.

Each file is read from ``JIAHU_CONFIG_DIR`` when a copy is there, else from the packaged default.
"""
from __future__ import annotations

import string
from datetime import date, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, Field, PlainValidator, field_validator


def _money(value: object) -> Decimal:
    """Prices in yuan with two decimals, whatever way the YAML wrote them."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


Money = Annotated[Decimal, PlainValidator(_money)]

from backend.settings import get_settings

PACKAGED = Path(__file__).with_name("data")


class Hospital(BaseModel):
    name_zh: str
    name_en: str
    license_no: str = ""
    address_zh: str = ""
    hotline: str
    complaints_phone: str = ""
    data_retention_years: int = 30

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


class District(BaseModel):
    name: str
    en: str
    aliases: list[str] = Field(default_factory=list)

    def label(self, lang: str) -> str:
        return self.name if lang == "zh" else self.en


class ServiceArea(BaseModel):
    city_zh: str
    city_en: str
    districts: list[District]

    def district(self, name: str) -> District | None:
        return next((d for d in self.districts if d.name == name), None)


class Window(BaseModel):
    start: time
    end: time
    capacity: int = Field(gt=0)


class Schedule(BaseModel):
    days_ahead: int = 14
    first_day_offset: int = 1
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])
    timezone: str = "Asia/Shanghai"
    windows: list[Window]
    # The hospital's own closed days; public holidays and 调休 come from chinesecalendar.
    closed_days: list[date] = Field(default_factory=list)


class Fees(BaseModel):
    transport: Money = Decimal("0.00")
    it_service: Money = Decimal("0.00")
    labour: Money = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.transport + self.it_service + self.labour


class UploadRules(BaseModel):
    max_bytes: int = 10 * 1024 * 1024
    content_types: list[str]


class DataRequestRules(BaseModel):
    answer_within_days: int = 15


class BusinessHours(BaseModel):
    """When the hotline answers in the chat (staff on duty)."""

    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5, 6])  # Monday=0
    start: time = time(8, 0)
    end: time = time(20, 0)


class FirstResponse(BaseModel):
    """How long a family may wait for a person (business minutes) before the queue turns
    amber, then red."""

    amber_minutes: int = Field(default=5, gt=0)
    red_minutes: int = Field(default=15, gt=0)


class HotlineRules(BaseModel):
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    first_response: FirstResponse = Field(default_factory=FirstResponse)
class SeriesRules(BaseModel):
    """Repeat visits from a discharge order: how many weeks when the order names none, at most."""

    default_weeks: int = Field(default=4, gt=0)
    max_weeks: int = Field(default=12, gt=0)


class ReminderRules(BaseModel):
    """When the family is reminded of a visit: the evening before, and hours before it starts."""

    day_before_at: time = time(18, 0)
    hours_before: int = Field(default=2, ge=0)


FeeName = Literal["transport", "it_service", "labour"]


class CancellationRules(BaseModel):
    """Until when a family may cancel in the chat, and which fees a cancellation costs once the
    nurse has set out; shown before booking and in the consent."""

    chat_until_hours: int = Field(default=2, ge=0)
    fees_after_departure: list[FeeName] = Field(default_factory=lambda: list[FeeName](["transport"]))

    def fee(self, fees: Fees) -> Decimal:
        return sum((getattr(fees, name) for name in self.fees_after_departure), Decimal("0.00"))


class HospitalConfig(BaseModel):
    hospital: Hospital
    privacy_notice_version: str
    consent_template_version: str
    service_area: ServiceArea
    schedule: Schedule
    fees: Fees
    uploads: UploadRules
    data_requests: DataRequestRules = Field(default_factory=DataRequestRules)
    hotline: HotlineRules = Field(default_factory=HotlineRules)
    series: SeriesRules = Field(default_factory=SeriesRules)
    reminders: ReminderRules = Field(default_factory=ReminderRules)
    cancellation: CancellationRules = Field(default_factory=CancellationRules)


class CatalogueItem(BaseModel):
    code: str
    name_zh: str
    name_en: str
    category: str
    price: Money
    staff_role: Literal["nurse", "doctor", "therapist", "pharmacist"]
    listed: Literal["positive", "negative"]
    synonyms: list[str] = Field(default_factory=list)
    ruled_out_by: list[str] = Field(default_factory=list)
    reason_zh: str = ""
    reason_en: str = ""

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def reason(self, lang: str) -> str:
        return self.reason_zh if lang == "zh" else self.reason_en


class Catalogue(BaseModel):
    version: str
    services: list[CatalogueItem]

    def get(self, code: str) -> CatalogueItem | None:
        return next((s for s in self.services if s.code == code), None)

    @property
    def bookable(self) -> list[CatalogueItem]:
        return [s for s in self.services if s.listed == "positive"]


class Option(BaseModel):
    zh: str
    en: str
    points: int | None = None
    value: str | None = None
    flag: str | None = None
    aliases: list[str] = Field(default_factory=list)  # other words families use for this answer

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Question(BaseModel):
    id: str
    zh: str
    en: str
    instrument: str | None = None
    loinc: str | None = None  # the item's LOINC code, for the FHIR export
    free_text: bool = False
    alert: bool = False  # a free-text answer other than "none" is a red flag for the reviewer
    options: list[Option] = Field(default_factory=list)

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Grade(BaseModel):
    min: int
    zh: str
    en: str
    code: str


class StopReason(BaseModel):
    zh: str
    en: str


class Questionnaire(BaseModel):
    version: str
    questions: list[Question]
    stop_flags: dict[str, StopReason] = Field(default_factory=dict)
    barthel_grades: list[Grade]
    barthel_total_loinc: str = "96761-2"
    flag_labels: dict[str, StopReason] = Field(default_factory=dict)  # red flags in staff's words
    none_answers: list[str] = Field(default_factory=list)  # free-text answers meaning "none"


CANNED_VARIABLES = {"patient_name", "booking_time", "staff_name", "hotline"}


class CannedReply(BaseModel):
    """A prepared hotline answer; {patient_name}, {booking_time}, {staff_name} and {hotline}
    are filled in from the conversation."""

    title: str
    zh: str
    en: str

    @field_validator("zh", "en")
    @classmethod
    def _known_variables(cls, text: str) -> str:
        unknown = {name for _, name, _, _ in string.Formatter().parse(text) if name} - CANNED_VARIABLES
        if unknown:
            raise ValueError(f"unknown variables {sorted(unknown)}; use {sorted(CANNED_VARIABLES)}")
        return text

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class CannedReplies(BaseModel):
    replies: list[CannedReply]


def data_file(name: str) -> Path:
    """The path of a data file: the hospital's copy in ``JIAHU_CONFIG_DIR`` wins."""
    override = get_settings().config_dir
    if override and (override / name).exists():
        return override / name
    return PACKAGED / name


def _load(name: str) -> dict:  # type: ignore[type-arg]
    with data_file(name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def hospital_config() -> HospitalConfig:
    return HospitalConfig.model_validate(_load("hospital.yaml"))


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue.model_validate(_load("catalogue.yaml"))


@lru_cache(maxsize=1)
def questionnaire() -> Questionnaire:
    return Questionnaire.model_validate(_load("questionnaire.yaml"))


@lru_cache(maxsize=1)
def canned_replies() -> CannedReplies:
    return CannedReplies.model_validate(_load("canned_replies.yaml"))


def reload() -> None:
    """Forget cached data files (after a hospital edits them, and between tests)."""
    for loader in (hospital_config, catalogue, questionnaire, canned_replies):
        loader.cache_clear()

"""Scoring the pre-assessment (DOMAIN.md: first-visit assessment, Barthel Index)."""
from __future__ import annotations

from dataclasses import dataclass, field

from backend.config import Questionnaire


@dataclass(frozen=True)
class AssessmentResult:
    barthel_score: int
    barthel_grade: str
    flags: list[str] = field(default_factory=list)
    stop_reasons: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.stop_reasons


def assess(questionnaire: Questionnaire, answers: dict[str, object], lang: str = "zh") -> AssessmentResult:
    """Score the answers: Barthel total 0–100 graded per MZ/T 039-2013, flags and stop reasons.

    Choice answers are stored as the option index; free-text answers as text.
    """
    score = 0
    flags: list[str] = []
    for question in questionnaire.questions:
        answer = answers.get(question.id)
        if question.free_text or not isinstance(answer, int):
            continue
        option = question.options[answer]
        if question.instrument == "barthel" and option.points is not None:
            score += option.points
        if option.flag:
            flags.append(option.flag)
    grade = next(g for g in questionnaire.barthel_grades if score >= g.min)
    stops = [
        (reason.zh if lang == "zh" else reason.en)
        for flag, reason in questionnaire.stop_flags.items() if flag in flags
    ]
    return AssessmentResult(barthel_score=score, barthel_grade=grade.code, flags=flags, stop_reasons=stops)


def grade_label(questionnaire: Questionnaire, code: str, lang: str) -> str:
    grade = next(g for g in questionnaire.barthel_grades if g.code == code)
    return grade.zh if lang == "zh" else grade.en


@dataclass(frozen=True)
class AnswerLine:
    """One question of the pre-assessment with the family's answer in words."""

    question_id: str
    question: str
    answer: str
    points: int | None = None
    red_flag: bool = False


@dataclass(frozen=True)
class AssessmentCard:
    """What a reviewer reads before confirming: score, grade, every answer, the red flags."""

    barthel_score: int
    barthel_grade: str
    grade_label: str
    eligible: bool
    red_flags: list[str]
    answers: list[AnswerLine]
    questionnaire_version: str


def _means_none(questionnaire: Questionnaire, text: str) -> bool:
    cleaned = text.strip().strip("。.!！ ").lower()
    return not cleaned or cleaned in {word.lower() for word in questionnaire.none_answers}


def assessment_card(questionnaire: Questionnaire, answers: dict[str, object], *, barthel_score: int,
                    barthel_grade: str, flags: list[str], eligible: bool, version: str,
                    lang: str = "zh") -> AssessmentCard:
    """The stored assessment in words (DOMAIN.md: first-visit assessment before any service):
    an option's flag, or an alert question answered with anything but "none" (an allergy such
    as 青霉素过敏), is a red flag."""
    lines: list[AnswerLine] = []
    red: list[str] = []
    for question in questionnaire.questions:
        answer = answers.get(question.id)
        if isinstance(answer, int) and not question.free_text and 0 <= answer < len(question.options):
            option = question.options[answer]
            lines.append(AnswerLine(question.id, question.text(lang), option.label(lang), option.points,
                                    bool(option.flag)))
        elif isinstance(answer, str):
            alert = question.alert and not _means_none(questionnaire, answer)
            if alert:
                label = questionnaire.flag_labels.get(question.id)
                name = (label.zh if lang == "zh" else label.en) if label else question.text(lang)
                red.append(f"{name}：{answer}" if lang == "zh" else f"{name}: {answer}")
            lines.append(AnswerLine(question.id, question.text(lang), answer, red_flag=alert))
        else:
            lines.append(AnswerLine(question.id, question.text(lang), ""))
    named = [questionnaire.flag_labels.get(flag) for flag in flags]
    red = [(label.zh if lang == "zh" else label.en) if label else flag
           for flag, label in zip(flags, named, strict=True)] + red
    grade = next((g for g in questionnaire.barthel_grades if g.code == barthel_grade), None)
    return AssessmentCard(barthel_score=barthel_score, barthel_grade=barthel_grade,
                          grade_label=(grade.zh if lang == "zh" else grade.en) if grade else barthel_grade,
                          eligible=eligible, red_flags=red, answers=lines, questionnaire_version=version)

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

"""Flows declared as data (flows/data/*.yaml), validated with pydantic when the engine is built.

A flow file lists its steps; each step names its kind (how a value is found in a sentence:
flows/kinds.py), the message it asks, its options and their aliases, when it is skipped, which
words name it in a correction ("电话填错了"), which facts of a message it takes, and the actions
(Python hooks registered by the flow's module) it calls. A hospital renames options and adds
aliases without touching code: its own ``flows.<name>.yaml`` in the config folder replaces ours.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.config import data_file

DATA = Path(__file__).with_name("data")

Kind = Literal["choice", "multi_choice", "yes_no", "name", "relation", "phone", "id_number",
               "address", "upload", "uploads", "questionnaire", "services", "review", "signature",
               "slot", "free_text", "visits"]
# Facts one message can give (flows/facts.py) that a step may take without asking.
Fact = Literal["speaker_relation", "self_applicant", "speaker_name", "patient_name", "phone",
               "id_number", "address", "services", "speaker_present", "present_relation",
               "present_name", "frequency"]


class OptionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    label: str  # a message key (or the words themselves)
    aliases: list[str] = Field(default_factory=list)


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    kind: Kind
    ask: str | None = None           # the question's message key
    intro: str | None = None         # shown before the question the first time only
    options: list[OptionSpec] = Field(default_factory=list)
    options_from: str | None = None  # a hook that builds the options (districts, bookings…)
    prompt: str | None = None        # a hook that builds the whole question
    accept: str | None = None        # a hook that checks or completes the value read
    after: str | None = None         # a hook run once the value is stored
    skip_if: str | None = None       # a condition hook: the step does not apply
    called: list[str] = Field(default_factory=list)  # words that name this fact in a correction
    reads: list[Fact] = Field(default_factory=list)  # facts of any message this step takes
    reuse: str | None = None         # a step whose answer "就用我的电话" means
    review: str | None = None        # the review line's label key
    invalid: str | None = None       # the message key when no value is found
    asides: bool = True              # questions and small talk are answered here (not in a complaint)


class FlowSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    steps: list[StepSpec]
    finish: str | None = None
    review_step: str | None = None   # corrections after this point go back to the review

    @model_validator(mode="after")
    def _unique_steps(self) -> FlowSpec:
        ids = [s.id for s in self.steps]
        duplicates = {i for i in ids if ids.count(i) > 1}
        if duplicates:
            raise ValueError(f"step ids repeat: {sorted(duplicates)}")
        return self


@lru_cache(maxsize=16)
def load_flow_spec(name: str) -> FlowSpec:
    """``flows/data/<name>.yaml``, or the hospital's ``flows.<name>.yaml`` when it has one."""
    override = data_file(f"flows.{name}.yaml")
    path = override if override.exists() else DATA / f"{name}.yaml"
    try:
        return FlowSpec.model_validate(yaml.safe_load(path.read_text("utf-8")))
    except Exception as error:  # the message names the file: a hospital edits these
        raise ValueError(f"{path}: {error}") from error

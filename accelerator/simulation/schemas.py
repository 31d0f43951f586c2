"""The what-if simulation's inputs: arrivals, delays and their distributions (strict pydantic
models), read from a JSON or TOML file; and its answers.

Every amount is bounded (``MAX_AMOUNT`` of its unit: ten years of days), every list and
mapping too; an unknown key is refused, so that a misspelt ``meadian`` is an error instead of
a default silently kept. Errors are one French line naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import messages, t
from accelerator.shared.validation import STRICT_INPUT, Code, FiniteFloat, IsoDate, SingleLine

#: The largest amount of any unit (3,650 days, business days or hours).
MAX_AMOUNT = 3650.0
#: The most dossiers one run simulates (``accelerator simulate --dossiers N``).
MAX_DOSSIERS = 20_000
#: The most values of an empirical distribution.
MAX_VALUES = 10_000
#: The most dossiers a what-if queued from the managers' page simulates (a run of this size
#: takes minutes of both cores; the command line goes up to ``MAX_DOSSIERS``).
MAX_PAGE_DOSSIERS = 500
#: The largest seed (the command line's bound, a signed 64-bit integer).
MAX_SEED = 2**63 - 1


class Mode(StrEnum):
    """How a dossier's administrations are consulted."""

    #: All at once, as the accelerator sends them (one launch).
    PARALLEL = "parallel"
    #: One after another, each sent when the previous one answered (the practice before it).
    SERIAL = "serial"


Amount = Annotated[FiniteFloat, Field(ge=0, le=MAX_AMOUNT)]
Positive = Annotated[FiniteFloat, Field(gt=0, le=MAX_AMOUNT)]
Unit = Literal["hours", "days", "business_days"]
#: A demo project's name (``simulation.rules.PROJECTS``: ``hotel``, ``solaire``...).
ProjectName = Annotated[SingleLine, Field(min_length=1, max_length=40)]


class Fixed(BaseModel):
    """Always the same delay (no variance)."""

    model_config = STRICT_INPUT
    kind: Literal["fixed"]
    value: Amount
    unit: Unit = "business_days"


class LogNormal(BaseModel):
    """A lognormal delay given by its median and its 90th percentile (``p90 == median``: no
    variance)."""

    model_config = STRICT_INPUT
    kind: Literal["lognormal"]
    median: Positive
    p90: Positive
    unit: Unit = "business_days"

    @model_validator(mode="after")
    def _ordered(self) -> LogNormal:
        if self.p90 < self.median:
            raise ValueError(t("simulation.p90_below_median"))
        return self


class Gamma(BaseModel):
    """A gamma delay given by its mean and standard deviation."""

    model_config = STRICT_INPUT
    kind: Literal["gamma"]
    mean: Positive
    sd: Positive
    unit: Unit = "business_days"


class Empirical(BaseModel):
    """Delays drawn, with replacement, from a list of observed ones."""

    model_config = STRICT_INPUT
    kind: Literal["empirical"]
    values: list[Amount] = Field(min_length=1, max_length=MAX_VALUES)
    unit: Unit = "business_days"


class Legal(BaseModel):
    """The administration uses its whole legal delay: it answers at its consultation's
    deadline, as the engine's clock computes it (the fallback without history)."""

    model_config = STRICT_INPUT
    kind: Literal["legal"]


Distribution = Annotated[Fixed | LogNormal | Gamma | Empirical | Legal, Field(discriminator="kind")]


class AdministrationIn(BaseModel):
    """What one administration does, when the file says it (else: fitted from history)."""

    model_config = STRICT_INPUT
    #: The time it holds a consultation (waiting for the holder excluded).
    response: Distribution | None = None
    #: The chance that it asks the holder for information (through the référent).
    information_probability: Annotated[FiniteFloat, Field(ge=0, le=1)] | None = None


class ArrivalsIn(BaseModel):
    """How dossiers arrive: a Poisson stream, and which demo projects they look like."""

    model_config = STRICT_INPUT
    per_week: Annotated[FiniteFloat, Field(gt=0, le=10_000)] | None = None
    mean_interarrival_days: Annotated[FiniteFloat, Field(gt=0, le=365)] | None = None
    #: Weights of the demo projects (``simulation.rules.PROJECTS``); default: all alike.
    mix: dict[ProjectName, Annotated[FiniteFloat, Field(ge=0, le=1_000_000)]] | None = Field(
        default=None, max_length=50
    )
    #: The day the first dossier may be filed (09:00 Paris time).
    start: IsoDate = dt.date(2027, 1, 4)

    @model_validator(mode="after")
    def _one_rate(self) -> ArrivalsIn:
        if self.per_week is not None and self.mean_interarrival_days is not None:
            raise ValueError(t("simulation.arrivals_one_rate"))
        if self.mix is not None and not any(weight > 0 for weight in self.mix.values()):
            raise ValueError(t("simulation.mix_empty"))
        if not dt.date(2000, 1, 1) <= self.start <= dt.date(2100, 1, 1):
            raise ValueError(t("simulation.start_out_of_range"))
        return self

    def mean_gap_days(self) -> float:
        """The mean time between two filings, in days (default: 10 dossiers a week)."""
        if self.mean_interarrival_days is not None:
            return self.mean_interarrival_days
        return 7.0 / (self.per_week if self.per_week is not None else 10.0)


def _default_take_charge() -> LogNormal:
    return LogNormal(kind="lognormal", median=4, p90=20, unit="hours")


def _default_holder_answer() -> LogNormal:
    return LogNormal(kind="lognormal", median=5, p90=15, unit="business_days")


class TakeChargeIn(BaseModel):
    """How long a filed dossier waits for its référent."""

    model_config = STRICT_INPUT
    delay: Distribution = Field(default_factory=_default_take_charge)


class HolderIn(BaseModel):
    """How long a holder takes to answer a request for information."""

    model_config = STRICT_INPUT
    answer_delay: Distribution = Field(default_factory=_default_holder_answer)


class FitIn(BaseModel):
    """How distributions are fitted from the history."""

    model_config = STRICT_INPUT
    #: Fewer answered consultations than this: the legal delay is used instead.
    min_answered: Annotated[int, Field(ge=2, le=1_000_000)] = 20


class SimulationConfig(BaseModel):
    """A what-if scenario. Every part is optional: what it leaves out keeps its default, and
    an administration it does not name keeps its fitted distribution."""

    model_config = STRICT_INPUT
    arrivals: ArrivalsIn = Field(default_factory=ArrivalsIn)
    take_charge: TakeChargeIn = Field(default_factory=TakeChargeIn)
    holder: HolderIn = Field(default_factory=HolderIn)
    #: The chance of a request for information, for an administration that does not say.
    information_probability: Annotated[FiniteFloat, Field(ge=0, le=1)] = 0.0
    administrations: dict[Code, AdministrationIn] = Field(default_factory=dict, max_length=200)
    fit: FitIn = Field(default_factory=FitIn)


class WhatIfIn(BaseModel):
    """A what-if queued from the managers' page: how many dossiers, which seed, and the
    scenario, the same model a ``--config`` file is read into."""

    model_config = STRICT_INPUT
    dossiers: Annotated[int, Field(ge=1, le=MAX_PAGE_DOSSIERS)] = 100
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 1
    scenario: SimulationConfig = Field(default_factory=SimulationConfig)


def describe_error(error: ValidationError) -> tuple[str, str]:
    """The first error of ``error`` as (field, French message)."""
    first = error.errors()[0]
    # A discriminated union adds the chosen kind to the path (``response.lognormal.median``).
    kinds = {"fixed", "lognormal", "gamma", "empirical", "legal"}
    parts = [str(p) for p in first["loc"] if str(p) not in kinds]
    where = ".".join(parts) or t("simulation.field_root")
    kind = str(first["type"])
    if kind == "value_error":
        return where, str(first["msg"]).removeprefix("Value error, ")
    template = messages().get(f"field.{kind}")
    if template is None:
        return where, t("simulation.value_refused", kind=kind)
    # pydantic joins choices in English ("'a' or 'b'"): the same joints as the API's errors.
    context = {
        key: str(value).replace(" or ", t("field.joint_or")).replace(" and ", t("field.joint_and"))
        for key, value in (first.get("ctx") or {}).items()
    }
    try:
        return where, template.format(**context)
    except (KeyError, IndexError, ValueError):
        return where, template.split(" (")[0]


def parse_config(data: Any, *, source: str) -> SimulationConfig:
    """``data`` (a decoded JSON or TOML document) as a scenario; ``InvalidInput`` naming the
    field otherwise."""
    try:
        return SimulationConfig.model_validate(data)
    except ValidationError as error:
        where, message = describe_error(error)
        raise InvalidInput(
            t("simulation.config_invalid", file=source, field=where, message=message)
        ) from None


def read_config(path: Path) -> SimulationConfig:
    """The scenario of a ``.json`` or ``.toml`` file (chosen by its suffix)."""
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise InvalidInput(t("simulation.config_suffix", file=path))
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidInput(
            t("cli.file_unreadable", file=path, error=error.strerror or error)
        ) from None
    if len(raw) > 5_000_000:
        raise InvalidInput(t("simulation.config_too_large", file=path))
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(t("cli.file_not_utf8", file=path)) from None
    try:
        data: Any = json.loads(content) if suffix == ".json" else tomllib.loads(content)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            t("simulation.config_syntax", file=path, line=error.lineno, error=error.msg)
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidInput(
            t("simulation.config_syntax_toml", file=path, error=str(error))
        ) from None
    return parse_config(data, source=str(path))


@dataclass(frozen=True)
class Chosen:
    """One administration's response distribution and where it comes from."""

    code: str
    response: Fixed | LogNormal | Gamma | Empirical | Legal
    #: ``fitted`` (from the history), ``file`` (the scenario) or ``legal`` (the fallback).
    source: str
    #: The answered consultations it was fitted on (0 unless fitted, or fallen back).
    observed: int = 0


@dataclass(frozen=True)
class ModeResult:
    """Time-to-decision (filing → consolidation, days) of one mode, in the dossiers' order."""

    mode: Mode
    durations: tuple[float, ...]
    tacit: int
    information_requests: int

    @property
    def n(self) -> int:
        """How many dossiers were consolidated."""
        return len(self.durations)


@dataclass(frozen=True)
class SimulationResult:
    """A whole run: its inputs as chosen, each mode's figures, what it cost."""

    dossiers: int
    seed: int
    responses: tuple[Chosen, ...]
    modes: tuple[ModeResult, ...]
    seconds: float
    notes: tuple[str, ...] = field(default=())

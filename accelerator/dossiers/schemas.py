"""What a holder submits when creating a dossier, validated with readable French errors."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from accelerator.shared.text import t
from accelerator.shared.validation import (
    STRICT_INPUT,
    Code,
    FiniteFloat,
    InseeCode,
    MultiLine,
    SingleLine,
)


class DossierAttributes(BaseModel):
    """Facts about the project that decide which administrations are consulted."""

    model_config = STRICT_INPUT

    near_monument: bool = Field(False, description="Aux abords d'un monument historique.")
    protected_area: bool = Field(False, description="En espace protégé ou en site.")
    public_access_building: bool = Field(False, description="Établissement recevant du public.")
    high_rise: bool = Field(False, description="Immeuble de grande hauteur.")
    archaeological_zone: bool = Field(False, description="Zone de présomption archéologique.")
    site_area_ha: FiniteFloat | None = Field(
        None, ge=0, le=10**7, description="Surface du terrain (ha)."
    )
    environmental_assessment: bool = Field(
        False, description="Soumis à évaluation environnementale."
    )
    icpe: Literal["industrial", "agricultural"] | None = Field(
        None, description="Installation classée : industrielle ou agricole."
    )
    water_impact: bool = Field(False, description="Incidence sur l'eau.")
    protected_species: bool = Field(False, description="Incidence sur des espèces protégées.")
    farmland_consumption: bool = Field(
        False, description="Consomme des espaces agricoles ou naturels."
    )
    retail_area_m2: FiniteFloat | None = Field(
        None, ge=0, le=10**8, description="Surface commerciale créée (m²)."
    )
    water_catchment: bool = Field(False, description="Dans un périmètre de captage d'eau potable.")
    health_facility: bool = Field(False, description="Établissement thermal ou de santé.")
    hiring_aid: bool = Field(False, description="Demande d'aide à l'embauche ou à la formation.")
    public_grant: bool = Field(False, description="Demande de subvention DETR/DSIL.")


class DossierCreate(BaseModel):
    """A new dossier, as a holder submits it (still a draft)."""

    model_config = STRICT_INPUT

    title: SingleLine = Field(min_length=3, max_length=300)
    description: MultiLine = Field("", max_length=20_000)
    commune_insee: InseeCode = Field(
        description="Code INSEE d'une commune du catalogue (5 caractères ; Corse : 2A/2B)."
    )
    procedures: list[Annotated[Code, Field(max_length=32)]] = Field(
        default_factory=list, max_length=20
    )
    attributes: DossierAttributes = Field(
        default_factory=lambda: DossierAttributes.model_validate({})
    )
    investment_eur: int | None = Field(None, ge=0, le=10**13)
    jobs_created: int | None = Field(None, ge=0, le=10**6)

    @field_validator("procedures")
    @classmethod
    def _procedures(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(t("dossier.procedure_twice"))
        return value


class DossierDraftIn(BaseModel):
    """Changes to a draft, step by step (only the fields given change)."""

    model_config = STRICT_INPUT

    title: SingleLine | None = Field(None, min_length=3, max_length=300)
    description: MultiLine | None = Field(None, max_length=20_000)
    commune_insee: InseeCode | None = Field(
        None, description="Code INSEE d'une commune du catalogue (5 caractères ; Corse : 2A/2B)."
    )
    procedures: list[Annotated[Code, Field(max_length=32)]] | None = Field(None, max_length=20)
    attributes: DossierAttributes | None = None
    investment_eur: int | None = Field(None, ge=0, le=10**13)
    jobs_created: int | None = Field(None, ge=0, le=10**6)

    @field_validator("procedures")
    @classmethod
    def _procedures(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(t("dossier.procedure_twice"))
        return value


class LaunchIn(BaseModel):
    """The administrations to consult; omitted means the routing proposal."""

    model_config = STRICT_INPUT

    administrations: list[Annotated[Code, Field(max_length=32)]] | None = Field(None, max_length=50)


class CloseIn(BaseModel):
    """The final message to the holder."""

    model_config = STRICT_INPUT

    message: MultiLine = Field(min_length=1, max_length=50_000)


class WithdrawIn(BaseModel):
    """Why the holder withdraws the dossier."""

    model_config = STRICT_INPUT

    reason: MultiLine = Field(min_length=3, max_length=5_000)


class ReferentIn(BaseModel):
    """The référent who takes over the dossier, and why."""

    model_config = STRICT_INPUT

    email: SingleLine = Field(min_length=3, max_length=320)
    reason: MultiLine = Field(min_length=3, max_length=5_000)


class CycleIn(BaseModel):
    """A new review cycle: the administrations consulted again, and what the holder amended."""

    model_config = STRICT_INPUT

    administrations: list[Annotated[Code, Field(max_length=32)]] = Field(
        min_length=1, max_length=50
    )
    message: MultiLine = Field(min_length=3, max_length=20_000)

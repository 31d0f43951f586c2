"""Who reads the managers' figures, and the filters they take: one definition for the API's
routes (``routers/metrics.py``) and the managers' pages (``pages/pilotage.py``,
``pages/packs.py``), so that a page never imports a router."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from accelerator.metrics import queries
from accelerator.metrics.schemas import Filters
from api.policies import Scope, allow

#: Managers and administrators (holders, référents and agents: 403).
READERS = allow(manager=Scope.ANY, admin=Scope.ANY)
#: A catalogue code as a filter: ASCII letters, digits, ``-``, ``_``, ``.`` (upper-cased).
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: The longest codes the filters take, and the review cycles they name.
MAX_CODE, MAX_ARRONDISSEMENT = 32, 8
FIRST_CYCLE, LAST_CYCLE = 1, 99


class FilterForm(BaseModel):
    """The same filters as a form sends them (the pages' filter form): the same names, bounds
    and French errors as the API's query parameters (``routers.metrics.metric_filters``),
    then the same ``queries.filters_for``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    procedure: str | None = Field(None, max_length=MAX_CODE, pattern=CODE)
    administration: str | None = Field(None, max_length=MAX_CODE, pattern=CODE)
    arrondissement: str | None = Field(None, max_length=MAX_ARRONDISSEMENT, pattern=CODE)
    cycle: int | None = Field(None, ge=FIRST_CYCLE, le=LAST_CYCLE)

    def filters(self) -> Filters:
        """The figures' filters (``InvalidInput`` for a day out of range or a reversed
        period)."""
        return queries.filters_for(
            first_day=self.from_,
            last_day=self.to,
            procedure=self.procedure,
            administration=self.administration,
            arrondissement=self.arrondissement,
            cycle=self.cycle,
        )

"""A clock re-projection reaches the managers' figures: the consultations and dossiers whose
deadline moved are marked as changed, so the next refresh derives their facts again."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accelerator.consultations.actions import reproject_clocks
from accelerator.consultations.models import Consultation
from accelerator.metrics.actions import refresh_facts
from accelerator.metrics.models import ConsultationFact
from accelerator.shared.db import Database
from accelerator.sla.models import Clock, DeadlineDefinition
from tests.factories import filed, launched, paris


@pytest.mark.usefixtures("cog_communes")
def test_a_reprojected_deadline_reaches_the_facts(db: Database) -> None:
    dossier = filed(
        db, now=paris(2026, 3, 2, 10), procedures=["DP"], commune="68224",
        attributes={"farmland_consumption": True},
    )  # fmt: skip
    cdpenaf = launched(db, dossier, ["CDPENAF"], now=paris(2026, 3, 3, 10))["CDPENAF"]
    with db.transaction() as session:
        refresh_facts(session, now=paris(2026, 3, 4))
        fact = session.get_one(ConsultationFact, cdpenaf)
        assert fact.legal_due_at == paris(2026, 4, 4)
        clock = session.scalars(
            select(Clock).where(
                Clock.consultation_id == cdpenaf, Clock.kind == "consultation_deadline"
            )
        ).one()
        latest = session.scalars(
            select(DeadlineDefinition)
            .where(DeadlineDefinition.code == clock.definition_code)
            .order_by(DeadlineDefinition.version.desc())
        ).first()
        assert latest is not None
        session.add(
            DeadlineDefinition(
                code=latest.code, version=latest.version + 1, label=latest.label,
                budget_amount=2, budget_unit="months", prorogation=False,
                pause_effect=latest.pause_effect, request_window=None, rungs=latest.rungs,
                legal=True, source="test", created_at=paris(2026, 3, 6),
            )
        )  # fmt: skip
        version = session.get_one(Consultation, cdpenaf).version
    with db.transaction() as session:
        changed = reproject_clocks(
            session, actor_label="admin@f.test", now=paris(2026, 3, 7),
            definition_code=latest.code,
        )  # fmt: skip
        assert [after for _, _, after in changed] == [paris(2026, 5, 4)]
    with db.transaction() as session:
        assert session.get_one(Consultation, cdpenaf).version == version + 1
        assert refresh_facts(session, now=paris(2026, 3, 8)) == 1
        assert session.get_one(ConsultationFact, cdpenaf).legal_due_at == paris(2026, 5, 4)
    # A second re-projection with nothing to move marks nothing.
    with db.transaction() as session:
        assert reproject_clocks(
            session, actor_label="admin@f.test", now=paris(2026, 3, 9),
            definition_code=latest.code,
        ) == []  # fmt: skip
        assert refresh_facts(session, now=paris(2026, 3, 9)) == 0

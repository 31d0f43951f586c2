"""A clock and its timeline are shown only to who may see what it measures: every clock of a
dossier, through both routes, answers 404 to another organisation's holder and to an agent of
an administration that is not consulted (its existence is not revealed)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import Api, file_and_launch

pytestmark = pytest.mark.usefixtures("prefect_engine")


def test_a_clock_and_its_timeline_answer_404_to_those_who_may_not_see_them(
    api: Callable[[str], Api],
) -> None:
    dossier = file_and_launch(api, ["SDIS-65", "UDAP-65"])
    clocks = dossier["clocks"]
    sdis = next(c["id"] for c in dossier["consultations"] if c["administration"] == "SDIS-65")
    kinds = {c["kind"] for c in clocks}
    assert {"take_charge", "procedure_deadline", "consultation_deadline"} <= kinds
    outsiders = [api("holder2@test.fr"), api("agent.dreal-occ@test.fr")]
    holder, agent = api("holder@test.fr"), api("agent.sdis-65@test.fr")
    for clock in clocks:
        for route in (f"/api/v1/clocks/{clock['id']}", f"/api/v1/clocks/{clock['id']}/timeline"):
            for outsider in outsiders:
                refused = outsider.get(route, 404)
                assert refused["detail"] == "Délai introuvable."
            # Who may see it does (the refusals above are about access, not the route); the
            # platform's internal targets are not shown to holders (docs/domain.md).
            if clock["kind"] == "consultation_target":
                assert holder.get(route, 404)["detail"] == "Délai introuvable."
            else:
                holder.get(route)
            if clock["consultation_id"] == sdis:
                agent.get(route)
            else:
                # The SDIS agent sees its own consultation's clocks, not the dossier's nor
                # another administration's.
                assert agent.get(route, 404)["detail"] == "Délai introuvable."

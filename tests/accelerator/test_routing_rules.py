"""Routing with the SHIPPED rules: every row of the routing table of docs/domain.md, and merges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import accelerator
from accelerator.routing.rules import GRANT_AUTHORITY, Match, Rule, RuleTarget, evaluate, route

SEED = Path(accelerator.__file__).parent / "catalogue" / "seed"
DEFAULT_GRANT_AUTHORITY = "PREF-65"


def _load(name: str) -> Any:
    return json.loads((SEED / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    """The routing rules shipped in the seed catalogue, as domain objects."""
    return [
        Rule(
            code=row["code"],
            rank=row["rank"],
            label=row["label"],
            condition=row["condition"],
            targets=tuple(
                RuleTarget(t["administration"], t["consultation_type"]) for t in row["targets"]
            ),
        )
        for row in _load("routing_rules.json")
    ]


def _route(
    rules: list[Rule], attributes: dict[str, Any], grant_authority: str = DEFAULT_GRANT_AUTHORITY
) -> dict[str, Match]:
    matches = route(rules, attributes, grant_authority=grant_authority)
    codes = [m.administration for m in matches]
    assert len(codes) == len(set(codes)), f"an administration is consulted twice: {codes}"
    return {m.administration: m for m in matches}


# --- one case per row of docs/domain.md's routing table ------------------------------------------

ROUTING_TABLE = [
    pytest.param({"near_monument": True}, {"UDAP-65"}, id="near-monument"),
    pytest.param({"protected_area": True}, {"UDAP-65"}, id="protected-area"),
    pytest.param({"public_access_building": True}, {"SDIS-65", "DDT-65", "PREF-65"}, id="erp"),
    pytest.param({"high_rise": True}, {"SDIS-65", "DDT-65", "PREF-65"}, id="high-rise"),
    pytest.param({"archaeological_zone": True}, {"DRAC-SRA"}, id="archaeological-zone"),
    pytest.param({"site_area_ha": 3}, {"DRAC-SRA"}, id="site-3-ha"),
    pytest.param({"site_area_ha": 12.5}, {"DRAC-SRA"}, id="site-12.5-ha"),
    pytest.param({"site_area_ha": 2.9}, set(), id="site-2.9-ha"),
    pytest.param(
        {"environmental_assessment": True},
        {"DRAC-SRA", "MRAE-OCC"},
        id="environmental-assessment",
    ),
    pytest.param(
        {"icpe": "industrial"},
        {"DREAL-OCC", "PREF-65", "ARS-DD65", "SDIS-65"},
        id="icpe-industrial",
    ),
    pytest.param({"icpe": "agricultural"}, {"DDETSPP-65"}, id="icpe-agricultural"),
    pytest.param({"icpe": "none"}, set(), id="icpe-other-value"),
    pytest.param({"water_impact": True}, {"DDT-65", "OFB"}, id="water"),
    pytest.param({"protected_species": True}, {"DREAL-OCC"}, id="protected-species"),
    pytest.param({"farmland_consumption": True}, {"CDPENAF"}, id="farmland"),
    pytest.param({"retail_area_m2": 1001}, {"CDAC"}, id="retail-1001-m2"),
    pytest.param({"retail_area_m2": 1000}, set(), id="retail-1000-m2"),
    pytest.param({"water_catchment": True}, {"ARS-DD65"}, id="water-catchment"),
    pytest.param({"health_facility": True}, {"ARS-DD65"}, id="health-facility"),
    pytest.param({"hiring_aid": True}, {"DDETSPP-65"}, id="hiring-aid"),
    pytest.param({"public_grant": True}, {"PREF-65"}, id="grant-prefecture"),
    pytest.param({}, set(), id="no-attribute"),
    pytest.param(
        {"near_monument": False, "public_access_building": False, "water_impact": False},
        set(),
        id="all-false",
    ),
]


@pytest.mark.parametrize(("attributes", "expected"), ROUTING_TABLE)
def test_each_routing_table_row_consults_exactly_its_administrations(
    rules: list[Rule], attributes: dict[str, Any], expected: set[str]
) -> None:
    assert set(_route(rules, attributes)) == expected


def test_empty_attributes_route_to_an_empty_list(rules: list[Rule]) -> None:
    assert route(rules, {}, grant_authority=DEFAULT_GRANT_AUTHORITY) == []


def test_a_grant_goes_to_the_arrondissement_grant_authority(rules: list[Rule]) -> None:
    matches = route(rules, {"public_grant": True}, grant_authority="SP-ARG")
    assert [(m.administration, m.consultation_type, m.rule) for m in matches] == [
        ("SP-ARG", "grant_review", "public_grant")
    ]
    assert all(m.administration != GRANT_AUTHORITY for m in matches)


# --- all matching rules apply; merging ------------------------------------------------------


def test_demo_hotel_near_a_monument_consults_abf_fire_accessibility_and_prefect(
    rules: list[Rule],
) -> None:
    matches = route(
        rules,
        {"public_access_building": True, "near_monument": True},
        grant_authority=DEFAULT_GRANT_AUTHORITY,
    )
    # Ordered by the rank of the first rule, then by code.
    assert [m.administration for m in matches] == ["UDAP-65", "DDT-65", "PREF-65", "SDIS-65"]
    assert {m.administration: m.consultation_type for m in matches} == {
        "UDAP-65": "abf_accord",
        "DDT-65": "generic_opinion",
        "PREF-65": "erp_decision",
        "SDIS-65": "generic_opinion",
    }


def test_demo_solar_farm_consults_every_matching_rule(rules: list[Rule]) -> None:
    attributes = {
        "environmental_assessment": True,
        "archaeological_zone": True,
        "site_area_ha": 8,
        "farmland_consumption": True,
        "protected_species": True,
        "water_impact": True,
    }
    assert set(_route(rules, attributes)) == {
        "DRAC-SRA",
        "MRAE-OCC",
        "CDPENAF",
        "DREAL-OCC",
        "DDT-65",
        "OFB",
    }


def test_demo_aeronautics_extension(rules: list[Rule]) -> None:
    attributes = {"icpe": "industrial", "archaeological_zone": True, "hiring_aid": True}
    assert set(_route(rules, attributes)) == {
        "DREAL-OCC",
        "PREF-65",
        "ARS-DD65",
        "SDIS-65",
        "DRAC-SRA",
        "DDETSPP-65",
    }


def test_demo_spa_with_grant_in_bagneres(rules: list[Rule]) -> None:
    attributes = {"public_grant": True, "health_facility": True, "near_monument": True}
    found = _route(rules, attributes, grant_authority="SP-BAG")
    assert set(found) == {"SP-BAG", "ARS-DD65", "UDAP-65"}
    assert found["SP-BAG"].consultation_type == "grant_review"


def test_prefecture_named_by_erp_and_industrial_icpe_is_consulted_once_as_erp_decision(
    rules: list[Rule],
) -> None:
    found = _route(rules, {"public_access_building": True, "icpe": "industrial"})
    prefecture = found["PREF-65"]
    assert prefecture.consultation_type == "erp_decision"
    assert prefecture.rule == "erp"
    assert prefecture.rules == ("erp", "icpe_industrial")
    assert prefecture.rank == 20
    sdis = found["SDIS-65"]
    assert (sdis.rule, sdis.rules) == ("erp", ("erp", "icpe_industrial"))


def test_archaeology_with_an_assessment_takes_the_longer_consultation_type(
    rules: list[Rule],
) -> None:
    found = _route(rules, {"environmental_assessment": True, "archaeological_zone": True})
    drac = found["DRAC-SRA"]
    assert drac.consultation_type == "archaeology_with_assessment"
    assert drac.rule == "archaeology_assessment"
    assert drac.rules == ("archaeology_assessment", "archaeology")


def test_archaeology_without_assessment_uses_the_plain_type(rules: list[Rule]) -> None:
    assert _route(rules, {"site_area_ha": 3})["DRAC-SRA"].consultation_type == "archaeology"


def test_a_rule_matching_on_two_of_its_branches_is_listed_once(rules: list[Rule]) -> None:
    udap = _route(rules, {"near_monument": True, "protected_area": True})["UDAP-65"]
    assert udap.rules == ("abf",)


def test_the_rule_order_in_the_input_does_not_matter(rules: list[Rule]) -> None:
    attributes = {
        "public_access_building": True,
        "icpe": "industrial",
        "environmental_assessment": True,
        "archaeological_zone": True,
        "water_catchment": True,
    }
    forward = route(rules, attributes, grant_authority=DEFAULT_GRANT_AUTHORITY)
    backward = route(list(reversed(rules)), attributes, grant_authority=DEFAULT_GRANT_AUTHORITY)
    assert forward == backward


def test_the_grant_authority_merges_with_a_rule_naming_the_same_administration(
    rules: list[Rule],
) -> None:
    found = _route(rules, {"public_access_building": True, "public_grant": True})
    assert found["PREF-65"].consultation_type == "erp_decision"
    assert found["PREF-65"].rules == ("erp", "public_grant")


# --- consultation types match docs/domain.md's deadlines -----------------------------------------


@pytest.mark.parametrize(
    ("attributes", "administration", "consultation_type"),
    [
        pytest.param({"near_monument": True}, "UDAP-65", "abf_accord", id="abf"),
        pytest.param({"public_access_building": True}, "PREF-65", "erp_decision", id="erp"),
        pytest.param(
            {"environmental_assessment": True}, "MRAE-OCC", "environmental_authority", id="mrae"
        ),
        pytest.param({"farmland_consumption": True}, "CDPENAF", "cdpenaf_opinion", id="cdpenaf"),
        pytest.param({"public_grant": True}, "PREF-65", "grant_review", id="grant"),
        pytest.param({"icpe": "industrial"}, "PREF-65", "generic_opinion", id="icpe-prefect"),
    ],
)
def test_consultation_type_per_domain_deadlines(
    rules: list[Rule], attributes: dict[str, Any], administration: str, consultation_type: str
) -> None:
    assert _route(rules, attributes)[administration].consultation_type == consultation_type


@pytest.mark.parametrize(
    ("code", "duration", "silence"),
    [
        ("generic_opinion", "1 months", "favourable"),
        ("abf_accord", "2 months", "favourable"),
        ("archaeology", "1 months", "no_opinion"),
        ("archaeology_with_assessment", "2 months", "no_opinion"),
        ("environmental_authority", "2 months", "no_opinion"),
        ("erp_decision", "4 months", "favourable"),
        ("cdpenaf_opinion", "1 months", "favourable"),
    ],
)
def test_seeded_consultation_deadlines_match_domain(code: str, duration: str, silence: str) -> None:
    types = {row["code"]: row for row in _load("consultation_types.json")}
    assert (types[code]["duration"], types[code]["silence_nature"]) == (duration, silence)


def test_only_the_abf_accord_is_binding() -> None:
    binding = {row["code"] for row in _load("consultation_types.json") if row["binding"]}
    assert binding == {"abf_accord"}


# --- seed consistency -----------------------------------------------------------------------


def test_every_routed_consultation_type_exists_in_the_catalogue() -> None:
    known = {row["code"] for row in _load("consultation_types.json")}
    used = {t["consultation_type"] for row in _load("routing_rules.json") for t in row["targets"]}
    assert used - known == set()


def test_every_routed_administration_exists_in_the_catalogue() -> None:
    known = {row["code"] for row in _load("administrations.json")}
    used = {t["administration"] for row in _load("routing_rules.json") for t in row["targets"]}
    assert GRANT_AUTHORITY in used
    assert used - known - {GRANT_AUTHORITY} == set()


def test_every_arrondissement_grant_authority_is_an_administration() -> None:
    known = {row["code"] for row in _load("administrations.json")}
    authorities = {row["grant_authority"] for row in _load("arrondissements.json")}
    assert authorities
    assert authorities - known == set()


def test_routing_rule_codes_and_ranks_are_unique() -> None:
    rows = _load("routing_rules.json")
    assert len({row["code"] for row in rows}) == len(rows)
    assert len({row["rank"] for row in rows}) == len(rows)


# --- evaluate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [
        # bare attribute: truthiness
        ({"attr": "x"}, {"x": True}, True),
        ({"attr": "x"}, {"x": False}, False),
        ({"attr": "x"}, {}, False),
        ({"attr": "x"}, {"x": None}, False),
        # eq
        ({"attr": "x", "eq": "a"}, {"x": "a"}, True),
        ({"attr": "x", "eq": "a"}, {"x": "b"}, False),
        ({"attr": "x", "eq": "a"}, {}, False),
        ({"attr": "x", "eq": 0}, {"x": 0}, True),
        # gt
        ({"attr": "x", "gt": 5}, {"x": 6}, True),
        ({"attr": "x", "gt": 5}, {"x": 5}, False),
        ({"attr": "x", "gt": 5}, {"x": 4}, False),
        # gte
        ({"attr": "x", "gte": 5}, {"x": 5}, True),
        ({"attr": "x", "gte": 5}, {"x": 5.5}, True),
        ({"attr": "x", "gte": 5}, {"x": 4.99}, False),
        # lt
        ({"attr": "x", "lt": 5}, {"x": 4}, True),
        ({"attr": "x", "lt": 5}, {"x": 5}, False),
        ({"attr": "x", "lt": 5}, {"x": 6}, False),
        # lte
        ({"attr": "x", "lte": 5}, {"x": 5}, True),
        ({"attr": "x", "lte": 5}, {"x": 4}, True),
        ({"attr": "x", "lte": 5}, {"x": 6}, False),
        # zero is a real value for comparisons
        ({"attr": "x", "lt": 1}, {"x": 0}, True),
        ({"attr": "x", "gte": 0}, {"x": 0}, True),
        # any
        ({"any": [{"attr": "a"}, {"attr": "b"}]}, {"b": True}, True),
        ({"any": [{"attr": "a"}, {"attr": "b"}]}, {"a": False}, False),
        ({"any": []}, {"a": True}, False),
        # all
        ({"all": [{"attr": "a"}, {"attr": "b"}]}, {"a": True, "b": True}, True),
        ({"all": [{"attr": "a"}, {"attr": "b"}]}, {"a": True}, False),
        ({"all": []}, {}, True),
        # not
        ({"not": {"attr": "a"}}, {}, True),
        ({"not": {"attr": "a"}}, {"a": True}, False),
        # nesting
        (
            {"all": [{"attr": "a"}, {"not": {"any": [{"attr": "b"}, {"attr": "n", "gt": 2}]}}]},
            {"a": True, "n": 1},
            True,
        ),
        (
            {"all": [{"attr": "a"}, {"not": {"any": [{"attr": "b"}, {"attr": "n", "gt": 2}]}}]},
            {"a": True, "n": 3},
            False,
        ),
    ],
)
def test_evaluate(condition: dict[str, Any], attributes: dict[str, Any], expected: bool) -> None:
    assert evaluate(condition, attributes) is expected


@pytest.mark.parametrize("operator_name", ["gt", "gte", "lt", "lte"])
@pytest.mark.parametrize("attributes", [{}, {"x": None}], ids=["missing", "none"])
def test_a_missing_attribute_never_satisfies_a_comparison(
    operator_name: str, attributes: dict[str, Any]
) -> None:
    assert evaluate({"attr": "x", operator_name: 0}, attributes) is False


def test_a_missing_attribute_satisfies_its_negated_comparison() -> None:
    assert evaluate({"not": {"attr": "x", "gte": 3}}, {}) is True

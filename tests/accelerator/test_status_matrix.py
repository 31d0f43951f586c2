"""Every action against every status and every role, on SQLite and PostgreSQL.

Each state is reached by driving the real actions (``SCENARIOS``). In it, every action is run
by every role, each in its own transaction rolled back afterwards, and its outcome must be
what ``expected`` (an independent statement of the lifecycle and of who may do what, written
here, not read from the code) says: either a refusal (a 4xx domain error) that changed NOTHING
(every row of every table compared before and after, inside the action's own transaction, so a
write made before a late check is caught even though the caller would roll it back), or
exactly the expected status moves, each one a move of the tables of ``test_dossier_status``
and ``test_consultation_status``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.assignment.actions import (
    hand_over,
    propose_referent,
    start_procedure_clocks,
    start_take_charge_clock,
)
from accelerator.consultations.actions import (
    acknowledge,
    apply_tacit_opinion,
    complete_launch,
    consolidate_dossier,
    create_consultation,
    give_opinion,
    launch_consultations,
    open_cycle,
    withdraw_dossier,
)
from accelerator.consultations.models import Consultation
from accelerator.consultations.status import OpinionNature
from accelerator.dossiers.actions import close_dossier, create_dossier, file_dossier, take_charge
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.schemas import DossierCreate
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.information.actions import answer_information, request_information
from accelerator.information.models import InformationRequest
from accelerator.information.schemas import InformationRequestIn
from accelerator.outbox.models import OutboxMessage
from accelerator.outbox.topics import Topic
from accelerator.routing.actions import route_dossier
from accelerator.shared.db import Base, Database
from accelerator.shared.errors import (
    AcceleratorError,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from accelerator.sla.models import Clock
from accelerator.sweep.actions import sweep_batch
from tests.accelerator.test_consultation_status import ALLOWED as CONSULTATION_MOVES
from tests.accelerator.test_dossier_status import ALLOWED as DOSSIER_MOVES
from tests.factories import paris
from tests.writes import writes

TARGET, OTHER = "SDIS-65", "UDAP-65"
#: When the actions of the matrix run: after every step of every scenario, before deadlines.
NOW = paris(2026, 3, 10, 10)

#: The roles of the matrix and their accounts. The référent covers Tarbes (arrondissement 653),
#: so routing proposes them; the other référent does not.
ROLES: dict[str, tuple[Role, dict[str, Any]]] = {
    "holder_own": (Role.HOLDER, {"organisation": "Fabrique"}),
    "holder_other": (Role.HOLDER, {"organisation": "Concurrent"}),
    "referent": (Role.REFERENT, {"arrondissements": ["653"]}),
    "referent_other": (Role.REFERENT, {"arrondissements": ["651"]}),
    "agent_consulted": (Role.AGENT, {"administration": TARGET}),
    "agent_other": (Role.AGENT, {"administration": "DREAL-OCC"}),
    "manager": (Role.MANAGER, {}),
    "admin": (Role.ADMIN, {}),
}
HOLDERS = {"holder_own", "holder_other"}
REFERENTS = {"referent", "referent_other"}

#: Who may do each action (independent of ``access.py``): anyone else is refused with 403/404.
PERMITTED: dict[str, set[str]] = {
    "create": HOLDERS,
    "file": {"holder_own"},
    "take_charge": REFERENTS,
    "launch": {"referent"},
    "close": {"referent"},
    "request_dossier": {"referent"},
    "request_consultation": {"referent"},
    "answer": {"holder_own"},
    "acknowledge": {"agent_consulted"},
    "opinion": {"agent_consulted"},
    "withdraw": {"holder_own"},
    "hand_over": {"referent", "manager"},
    "new_cycle": {"referent"},
}
FLOW_ACTIONS = ("tacit", "consolidate", "sweep")


# --- The scenarios: states reached by driving the real actions --------------------------------


@dataclass
class World:
    """One scenario's dossier, its consultations and the accounts of every role."""

    users: dict[str, User]
    dossier_id: uuid.UUID | None = None
    consultations: dict[str, uuid.UUID] = field(default_factory=dict)
    #: Where the open request (if any) will send the dossier or the target consultation back.
    dossier_back_to: str | None = None
    target_back_to: str | None = None
    open_request: uuid.UUID | None = None
    answered_request: uuid.UUID | None = None


def _ask(session: Session, w: World, at: dt.datetime, consultation: str | None) -> None:
    data = InformationRequestIn.model_validate(
        {
            "message": "Plan de masse manquant",
            "pieces": ["PC2"],
            "consultation_id": str(w.consultations[consultation]) if consultation else None,
        }
    )
    assert w.dossier_id is not None
    request = request_information(
        session, dossier_id=w.dossier_id, data=data, user=w.users["referent"], now=at
    )
    w.open_request = request.id


def _step_create(session: Session, w: World) -> None:
    data = DossierCreate.model_validate(
        {"title": "Atelier de découpe", "commune_insee": "65440", "procedures": ["PC"]}
    )
    w.dossier_id = create_dossier(
        session, data=data, user=w.users["holder_own"], now=paris(2026, 3, 2, 9)
    ).id


def _step_file(session: Session, w: World) -> None:
    assert w.dossier_id is not None
    at = paris(2026, 3, 2, 10)
    file_dossier(session, dossier_id=w.dossier_id, user=w.users["holder_own"], now=at)
    # The intake flow's steps.
    route_dossier(session, dossier_id=w.dossier_id, now=at)
    propose_referent(session, dossier_id=w.dossier_id, now=at)
    start_take_charge_clock(session, dossier_id=w.dossier_id)
    start_procedure_clocks(session, dossier_id=w.dossier_id)


def _step_take(session: Session, w: World) -> None:
    assert w.dossier_id is not None
    take_charge(
        session, dossier_id=w.dossier_id, user=w.users["referent"], now=paris(2026, 3, 3, 9)
    )


def _step_launch(session: Session, w: World) -> None:
    assert w.dossier_id is not None
    at = paris(2026, 3, 3, 10)
    launch = launch_consultations(
        session, dossier_id=w.dossier_id, administrations=[TARGET, OTHER],
        user=w.users["referent"], now=at,
    )  # fmt: skip
    for code in (TARGET, OTHER):
        consultation, _ = create_consultation(session, launch_id=launch.id, administration=code)
        w.consultations[code] = consultation.id
    complete_launch(session, launch_id=launch.id, now=at)


def _step_ask_dossier(session: Session, w: World) -> None:
    with session.no_autoflush:
        dossier = session.get_one(Dossier, w.dossier_id)
    w.dossier_back_to = dossier.status
    _ask(session, w, paris(2026, 3, 4, 10), None)


def _step_ack_target(session: Session, w: World) -> None:
    acknowledge(
        session, consultation_id=w.consultations[TARGET], user=w.users["agent_consulted"],
        now=paris(2026, 3, 4, 11),
    )  # fmt: skip


def _step_ask_target(session: Session, w: World) -> None:
    w.target_back_to = session.get_one(Consultation, w.consultations[TARGET]).status
    _ask(session, w, paris(2026, 3, 5, 10), TARGET)


def _step_answer(session: Session, w: World) -> None:
    assert w.open_request is not None
    answer_information(
        session, request_id=w.open_request, message="Voici le plan.",
        user=w.users["holder_own"], now=paris(2026, 3, 6, 10),
    )  # fmt: skip
    w.answered_request, w.open_request = w.open_request, None
    w.dossier_back_to = w.target_back_to = None


def _opinion(code: str, agent: str) -> Callable[[Session, World], None]:
    def step(session: Session, w: World) -> None:
        give_opinion(
            session, consultation_id=w.consultations[code], nature=OpinionNature.FAVOURABLE,
            text="", user=w.users[agent], now=paris(2026, 3, 7, 10),
        )  # fmt: skip

    return step


def _step_tacit_target(session: Session, w: World) -> None:
    apply_tacit_opinion(session, consultation_id=w.consultations[TARGET], at=paris(2026, 3, 7, 11))


def _step_consolidate(session: Session, w: World) -> None:
    assert w.dossier_id is not None
    consolidate_dossier(session, dossier_id=w.dossier_id, now=paris(2026, 3, 8, 10))


def _step_close(session: Session, w: World) -> None:
    assert w.dossier_id is not None
    close_dossier(
        session, dossier_id=w.dossier_id, message="Avis favorable.", user=w.users["referent"],
        now=paris(2026, 3, 9, 10),
    )  # fmt: skip


STEPS: dict[str, Callable[[Session, World], None]] = {
    "create": _step_create,
    "file": _step_file,
    "take": _step_take,
    "launch": _step_launch,
    "ask_dossier": _step_ask_dossier,
    "ack_target": _step_ack_target,
    "ask_target": _step_ask_target,
    "answer": _step_answer,
    "opinion_target": _opinion(TARGET, "agent_consulted"),
    "opinion_other": _opinion(OTHER, "agent_other_admin"),
    "tacit_target": _step_tacit_target,
    "consolidate": _step_consolidate,
    "close": _step_close,
}

FILED = ["create", "file"]
TAKEN = [*FILED, "take"]
CONSULTING = [*TAKEN, "launch"]
ALL_IN = [*CONSULTING, "opinion_target", "opinion_other"]

#: name → (steps, dossier status, target consultation status) once the steps have run.
SCENARIOS: dict[str, tuple[list[str], str, str | None]] = {
    "draft": (["create"], "draft", None),
    "filed": (FILED, "filed", None),
    "filed_awaiting_holder": ([*FILED, "ask_dossier"], "awaiting_holder", None),
    "taken": (TAKEN, "taken_in_charge", None),
    "taken_awaiting_holder": ([*TAKEN, "ask_dossier"], "awaiting_holder", None),
    "taken_after_answer": ([*TAKEN, "ask_dossier", "answer"], "taken_in_charge", None),
    "consulting_sent": (CONSULTING, "consulting", "sent"),
    "consulting_acknowledged": ([*CONSULTING, "ack_target"], "consulting", "acknowledged"),
    "consulting_waiting_from_sent": (
        [*CONSULTING, "ask_target"], "consulting", "awaiting_information",
    ),
    "consulting_waiting_from_acknowledged": (
        [*CONSULTING, "ack_target", "ask_target"], "consulting", "awaiting_information",
    ),
    "consulting_answered_while_waiting": (
        [*CONSULTING, "ask_target", "opinion_target"], "consulting", "answered",
    ),
    "consulting_back_from_waiting": (
        [*CONSULTING, "ack_target", "ask_target", "answer"], "consulting", "acknowledged",
    ),
    "consulting_answered": ([*CONSULTING, "opinion_target"], "consulting", "answered"),
    "consulting_tacit": ([*CONSULTING, "tacit_target"], "consulting", "tacit"),
    "consulting_awaiting_holder": ([*CONSULTING, "ask_dossier"], "awaiting_holder", "sent"),
    "consulting_all_in": (ALL_IN, "consulting", "answered"),
    "awaiting_holder_all_in": (
        [*CONSULTING, "ask_dossier", "opinion_target", "opinion_other"],
        "awaiting_holder",
        "answered",
    ),
    "consolidated": ([*ALL_IN, "consolidate"], "consolidated", "answered"),
    "closed": ([*ALL_IN, "consolidate", "close"], "closed", "answered"),
}  # fmt: skip


def build(db: Database, steps: list[str], monkeypatch: pytest.MonkeyPatch) -> World:
    """Create the accounts, then run ``steps``, each in its own committed transaction."""
    # These accounts never sign in: no argon2 hash (half a second each on a loaded machine).
    monkeypatch.setattr(
        "accelerator.identity.actions.hash_password", lambda _password: "not-a-hash"
    )
    with db.transaction() as session:
        users = {
            name: create_user(
                session, email=f"{name}@matrix.test", role=role, password="password",
                now=paris(2026, 3, 1), **extra,
            )
            for name, (role, extra) in {
                **ROLES,
                "agent_other_admin": (Role.AGENT, {"administration": OTHER}),
            }.items()
        }  # fmt: skip
        session.flush()
        for account in users.values():
            session.expunge(account)
    world = World(users=users)
    for step in steps:
        with db.transaction() as session:
            STEPS[step](session, world)
    return world


# --- The independent statement ----------------------------------------------------------------

#: ``entity → (from, to)``; the entities are "dossier", "target" and "other".
Moves = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class State:
    """What the expectation looks at: the statuses and what the scenario left open."""

    dossier: str
    target: str | None
    other: str | None
    dossier_back_to: str | None
    target_back_to: str | None
    open_request_on_target: bool
    open_request_on_dossier: bool
    answered_request: bool


def expected(action: str, role: str, s: State) -> Moves | set[int] | None:
    """The moves an action must make, the HTTP statuses it may be refused with, or None for
    a flow action that must do nothing."""
    finished = {"answered", "tacit", "cancelled"}
    if action in FLOW_ACTIONS:
        if action == "tacit":
            return {"target": (s.target, "tacit")} if s.target in ("sent", "acknowledged") else None
        if action == "consolidate":
            all_in = s.target in finished and s.other in finished
            return {"dossier": ("consulting", "consolidated")} if (
                s.dossier == "consulting" and all_in
            ) else None  # fmt: skip
        raise AssertionError(action)
    if role not in PERMITTED[action]:
        return {403, 404}
    if s.dossier == "draft" and role in REFERENTS | {"manager"}:
        return {404}  # the platform does not see drafts
    moves: Moves | None = None
    if action == "create":
        moves = {}
    elif action == "file" and s.dossier == "draft":
        moves = {"dossier": ("draft", "filed")}
    elif action == "take_charge" and s.dossier == "filed":
        moves = {"dossier": ("filed", "taken_in_charge")}
    elif action == "launch" and s.dossier == "taken_in_charge":
        moves = {"dossier": (s.dossier, "consulting")}
    elif action == "new_cycle" and s.dossier == "consolidated":
        moves = {"dossier": ("consolidated", "consulting")}
    elif action == "withdraw" and s.dossier in (
        "draft",
        "filed",
        "taken_in_charge",
        "consulting",
        "awaiting_holder",
    ):
        moves = {"dossier": (s.dossier, "withdrawn")}
        for entity, status in (("target", s.target), ("other", s.other)):
            if status is not None and status not in finished:
                moves[entity] = (status, "cancelled")
    elif action == "hand_over" and s.dossier in (
        "filed",
        "taken_in_charge",
        "consulting",
        "awaiting_holder",
        "consolidated",
    ):
        moves = {}  # the référent changes, not the status
    elif action == "close" and s.dossier == "consolidated":
        moves = {"dossier": ("consolidated", "closed")}
    elif action == "request_dossier" and s.dossier in ("filed", "taken_in_charge", "consulting"):
        moves = {"dossier": (s.dossier, "awaiting_holder")}
    elif action == "request_dossier" and s.dossier == "awaiting_holder":
        moves = {}  # one more request: the dossier keeps waiting
    elif action == "request_consultation":
        if s.target is None:
            return {404, 422}
        if s.target in ("sent", "acknowledged"):
            moves = {"target": (s.target, "awaiting_information")}
    elif action == "answer":
        if s.open_request_on_dossier:
            assert s.dossier_back_to is not None
            moves = {"dossier": ("awaiting_holder", s.dossier_back_to)}
        elif s.open_request_on_target:
            assert s.target is not None
            moves = (
                {"target": ("awaiting_information", s.target_back_to)}  # type: ignore[dict-item]
                if s.target == "awaiting_information"
                else {}  # answered while it waited: it keeps its opinion
            )
        elif not s.answered_request:
            return {404}
    elif action in ("acknowledge", "opinion"):
        if s.target is None:
            return {404}
        if action == "acknowledge" and s.target == "sent":
            moves = {"target": ("sent", "acknowledged")}
        if action == "opinion" and s.target not in finished:
            moves = {"target": (s.target, "answered")}
    return {409} if moves is None else moves


# --- Running one case -------------------------------------------------------------------------

SNAPSHOT_TABLES = sorted(
    set(Base.metadata.tables) - {"users", "organisations", "idempotent_requests"}
)


def snapshot(session: Session) -> dict[str, list[str]]:
    """Every row of every table an action may touch, as seen inside the session."""
    session.flush()
    return {
        name: sorted(
            repr(tuple(row)) for row in session.execute(select(Base.metadata.tables[name])).all()
        )
        for name in SNAPSHOT_TABLES
    }


def statuses(session: Session, w: World) -> dict[str, str | None]:
    """The dossier's and both consultations' statuses."""
    found: dict[str, str | None] = {"dossier": None, "target": None, "other": None}
    if w.dossier_id is not None:
        found["dossier"] = session.scalar(select(Dossier.status).where(Dossier.id == w.dossier_id))
    for entity, code in (("target", TARGET), ("other", OTHER)):
        if code in w.consultations:
            found[entity] = session.scalar(
                select(Consultation.status).where(Consultation.id == w.consultations[code])
            )
    return found


def state_of(session: Session, w: World) -> State:
    """The ``State`` the expectation reads."""
    now = statuses(session, w)
    assert now["dossier"] is not None
    return State(
        dossier=now["dossier"], target=now["target"], other=now["other"],
        dossier_back_to=w.dossier_back_to, target_back_to=w.target_back_to,
        open_request_on_target=w.open_request is not None and w.target_back_to is not None,
        open_request_on_dossier=w.open_request is not None and w.dossier_back_to is not None,
        answered_request=w.answered_request is not None,
    )  # fmt: skip


def run(session: Session, w: World, action: str, role: str) -> Any:
    """Run ``action`` as ``role`` (flow actions: as the platform)."""
    user = w.users.get(role)
    dossier_id = w.dossier_id or uuid.uuid4()
    target = w.consultations.get(TARGET, uuid.uuid4())
    request_id = w.open_request or w.answered_request or uuid.uuid4()
    ask = InformationRequestIn.model_validate(
        {"message": "Encore une pièce", "consultation_id": str(target)}
    )
    calls: dict[str, Callable[[], Any]] = {
        "create": lambda: create_dossier(
            session, user=user, now=NOW,
            data=DossierCreate.model_validate(
                {"title": "Autre projet", "commune_insee": "65440", "procedures": ["PC"]}
            ),
        ),
        "file": lambda: file_dossier(session, dossier_id=dossier_id, user=user, now=NOW),
        "take_charge": lambda: take_charge(session, dossier_id=dossier_id, user=user, now=NOW),
        "launch": lambda: launch_consultations(
            session, dossier_id=dossier_id, administrations=[TARGET, OTHER], user=user, now=NOW
        ),
        "close": lambda: close_dossier(
            session, dossier_id=dossier_id, message="Réponse.", user=user, now=NOW
        ),
        "request_dossier": lambda: request_information(
            session, dossier_id=dossier_id, user=user, now=NOW,
            data=InformationRequestIn.model_validate({"message": "Encore une pièce"}),
        ),
        "request_consultation": lambda: request_information(
            session, dossier_id=dossier_id, data=ask, user=user, now=NOW
        ),
        "answer": lambda: answer_information(
            session, request_id=request_id, message="Voici.", user=user, now=NOW
        ),
        "acknowledge": lambda: acknowledge(session, consultation_id=target, user=user, now=NOW),
        "opinion": lambda: give_opinion(
            session, consultation_id=target, nature=OpinionNature.FAVOURABLE, text="",
            user=user, now=NOW,
        ),
        "withdraw": lambda: withdraw_dossier(
            session, dossier_id=dossier_id, reason="Projet abandonné.", user=user, now=NOW
        ),
        "hand_over": lambda: hand_over(
            session, dossier_id=dossier_id, email=w.users["referent_other"].email,
            reason="Congés.", user=user, now=NOW,
        ),
        "new_cycle": lambda: open_cycle(
            session, dossier_id=dossier_id, administrations=[TARGET], user=user, now=NOW,
            message="Projet modifié par le porteur.",
        ),
        "tacit": lambda: apply_tacit_opinion(session, consultation_id=target, at=NOW),
        "consolidate": lambda: consolidate_dossier(session, dossier_id=dossier_id, now=NOW),
        "sweep": lambda: sweep_batch(session, now=paris(2027, 1, 1)),
    }  # fmt: skip
    return calls[action]()


REFUSALS = (NotFound, Forbidden, InvalidTransition, Conflict, InvalidInput)


def check_case(db: Database, w: World, action: str, role: str) -> str | None:
    """Run one case in a transaction rolled back afterwards; a description of what went
    wrong, or None."""
    session = db.sessions()
    try:
        state = state_of(session, w)
        was = statuses(session, w)
        want = expected(action, role, state) if action != "sweep" else {}
        try:
            with writes(db.engine, SNAPSHOT_TABLES) as changed:
                result = run(session, w, action, role)
                session.flush()
        except AcceleratorError as error:
            if not isinstance(want, set):
                return f"refused ({type(error).__name__}: {error.message}), expected {want}"
            if not isinstance(error, REFUSALS) or error.status_code not in want:
                return f"refused with {error.status_code} ({error.message}), expected {want}"
            if not error.message.strip():
                return "refused without a message"
            return f"refused but changed {sorted(changed)}" if changed else None
        if isinstance(want, set):
            return f"succeeded, expected a refusal {sorted(want)}"
        now = statuses(session, w)
        moves = {k: (was[k], now[k]) for k in was if was[k] != now[k]}
        for entity, (old, new) in moves.items():
            table = DOSSIER_MOVES if entity == "dossier" else CONSULTATION_MOVES
            if (old, new) not in table:
                return f"moved {entity} {old} → {new}: not a move of the lifecycle"
        if action == "sweep":
            bad = {k: m for k, m in moves.items() if k == "dossier" or m[1] != "tacit"}
            return f"the sweep moved {bad}" if bad else None
        if want is None:
            if result is not None or changed:
                wrote = sorted(changed)
                return f"a flow did something ({result!r}, {wrote}) where nothing applies"
            return None
        if moves != want:
            return f"moved {moves}, expected {want}"
        return _check_side_facts(session, w, action, role, state, result)
    finally:
        session.rollback()
        session.close()


def _check_side_facts(
    session: Session, w: World, action: str, role: str, state: State, result: Any
) -> str | None:
    """What else a successful move must leave true."""
    dossier = session.get(Dossier, w.dossier_id) if w.dossier_id else None
    if action == "create" and (result.status != "draft" or result.id == w.dossier_id):
        return "create did not make a new draft"
    if action == "take_charge" and dossier is not None and dossier.referent_id != w.users[role].id:
        return "taken in charge, but not by the actor"
    if action in ("launch", "new_cycle") and dossier is not None:
        # A consolidated dossier consulted again opens a new review cycle.
        cycle = 2 if action == "new_cycle" else 1
        if dossier.cycle != cycle:
            return f"launched in cycle {dossier.cycle}, expected {cycle}"
    if (
        action == "hand_over"
        and dossier is not None
        and dossier.referent_id != w.users["referent_other"].id
    ):
        return "handed over, but the dossier is not the other référent's"
    if action == "withdraw" and dossier is not None:
        running = session.scalars(
            select(Clock).where(Clock.dossier_id == dossier.id, Clock.state != "stopped")
        ).all()
        if running:
            return f"withdrawn, but {len(running)} clock(s) still run"
    if action == "answer":
        request = session.get_one(InformationRequest, w.open_request)
        if request.answered_at is None:
            return "answered, but the request is still open"
        finished = {"answered", "tacit", "cancelled"}
        if (
            dossier is not None
            and dossier.status == "consulting"
            and {state.target, state.other} <= finished
        ):
            # Every opinion came in while the dossier waited: the consolidation queued then
            # found it not consulting; back to consulting, it must be queued again.
            queued = session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.topic == Topic.CONSOLIDATE.value,
                    OutboxMessage.created_at == NOW,
                )
            ).all()
            if [m.payload["dossier_id"] for m in queued] != [str(dossier.id)]:
                return "back to consulting with every opinion in, but no consolidation queued"
    return None


#: The exact example of the issue, kept as a named case of the matrix.
def test_the_issue_example_is_a_case_of_the_matrix() -> None:
    waiting = State("awaiting_holder", "sent", "sent", "consulting", None, False, True, False)
    assert expected("take_charge", "referent_other", waiting) == {409}
    assert expected("take_charge", "referent", waiting) == {409}
    paused = State("consulting", "awaiting_information", "sent", None, "sent", True, False, False)
    assert expected("acknowledge", "agent_consulted", paused) == {409}
    assert expected("answer", "holder_own", paused) == {"target": ("awaiting_information", "sent")}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_action_by_every_role_is_refused_cleanly_or_makes_a_move_of_the_table(
    db: Database, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps, dossier_status, target_status = SCENARIOS[scenario]
    world = build(db, steps, monkeypatch)
    with db.transaction() as session:
        reached = statuses(session, world)
        assert (reached["dossier"], reached["target"]) == (dossier_status, target_status)
        before = snapshot(session)
    failures = [
        f"{action} as {role}: {problem}"
        for action in [*PERMITTED, *FLOW_ACTIONS]
        for role in (ROLES if action in PERMITTED else ["flow"])
        if (problem := check_case(db, world, action, role)) is not None
    ]
    assert not failures, f"{scenario}:\n" + "\n".join(failures)
    with db.transaction() as session:
        assert snapshot(session) == before  # every case was rolled back

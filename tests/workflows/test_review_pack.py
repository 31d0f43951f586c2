"""The weekly-pack flow on a real Prefect engine: one e-mail per active manager through the
outbox, nothing new on a re-run, and the PDF attached when the relay's deliverer sends it
over a real SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import pytest
from prefect.server.schemas.schedules import CronSchedule
from pypdf import PdfReader
from sqlalchemy import select, update

from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.metrics.pack import due_week
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.db import Database
from tests.factories import PARIS, paris
from tests.metrics_dataset import build
from tests.workflows.test_mail import Inbox, body, inbox  # noqa: F401 - the SMTP fixture
from workflows import deployments, notifications
from workflows.deployments import DEPLOYMENTS
from workflows.review_pack import WeeklyPackClock, weekly_pack_flow

pytestmark = pytest.mark.usefixtures("prefect_engine")

MANAGERS = ("pilote.a@f.test", "pilote.b@f.test")


def people(db: Database, *emails: str, role: Role = Role.MANAGER, active: bool = True) -> None:
    with db.transaction() as session:
        for email in emails:
            create_user(session, email=email, role=role, password="password", now=paris(2026, 1, 5))
        if not active:
            session.flush()
            session.execute(update(User).where(User.email.in_(emails)).values(active=False))


def pack_messages(db: Database) -> list[tuple[str, OutboxMessage]]:
    with db.transaction() as session:
        found = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.like("weekly-pack:%"))
        ).all()
        for message in found:
            session.expunge(message)
    return sorted(((m.dedupe_key or "", m) for m in found), key=lambda pair: pair[0])


def test_the_flow_queues_one_mail_per_active_manager_once(db: Database) -> None:
    build(db)
    people(db, *MANAGERS)
    people(db, "ancien.pilote@f.test", active=False)
    assert weekly_pack_flow(week="2026-W24") == 2
    messages = pack_messages(db)
    assert len(messages) == 2
    assert all(key.startswith("weekly-pack:2026-W24:") for key, _ in messages)
    assert {m.payload["template"] for _, m in messages} == {"weekly_pack"}
    assert {m.payload["attachments"][0]["week"] for _, m in messages} == {"2026-W24"}
    # A re-run for the same week queues nothing new; a manager added since gets theirs.
    assert weekly_pack_flow(week="2026-W24") == 0
    assert len(pack_messages(db)) == 2
    people(db, "pilote.c@f.test")
    assert weekly_pack_flow(week="2026-W24") == 1
    assert len(pack_messages(db)) == 3
    # Another week is another pack.
    assert weekly_pack_flow(week="2026-W29") == 3


def test_each_manager_gets_the_pdf_attached(db: Database, inbox: Inbox) -> None:  # noqa: F811
    build(db)
    people(db, *MANAGERS)
    with db.transaction() as session:
        # The pack is not kept for a digest: it is the week's digest already.
        session.execute(
            update(User).where(User.email == MANAGERS[1]).values(notification_mode="digest")
        )
    assert weekly_pack_flow(week="2026-W24") == 2
    for _, message in pack_messages(db):
        notifications.deliver(message.id, dict(message.payload))
        notifications.deliver(message.id, dict(message.payload))  # at least once: sent once
    for address in MANAGERS:
        [mail] = inbox.to(address)
        assert mail["Subject"] == "Revue hebdomadaire de pilotage : semaine 2026-W24"
        assert "/pilotage/revues/2026-W24.pdf" in body(mail, "html")
        [attachment] = [part for part in mail.walk() if part.get_filename()]
        assert attachment.get_filename() == "revue-2026-W24.pdf"
        assert attachment.get_content_type() == "application/pdf"
        content = attachment.get_payload(decode=True)
        assert isinstance(content, bytes) and content.startswith(b"%PDF-")
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split()
        )
        assert "Revue hebdomadaire de la semaine 2026-W24" in text
        assert "× 2,13" in text  # the week's parallel gain, 34 / 16


def test_the_schedule_is_monday_seven_in_paris() -> None:
    spec = DEPLOYMENTS["weekly-pack"]
    assert (spec.cron, spec.timezone) == ("0 7 * * 1", "Europe/Paris")
    # Prefect's own scheduler, across the October clock change: 07:00 in Paris each time, and
    # at each run the default week is the one that has just ended.
    schedule = CronSchedule(cron=spec.cron, timezone=spec.timezone)
    runs = asyncio.run(schedule.get_dates(n=3, start=dt.datetime(2026, 10, 12, tzinfo=dt.UTC)))
    local = [run.astimezone(PARIS) for run in runs]
    assert [(r.date(), r.hour, r.minute) for r in local] == [
        (dt.date(2026, 10, 12), 7, 0),
        (dt.date(2026, 10, 19), 7, 0),
        (dt.date(2026, 10, 26), 7, 0),
    ]
    assert [r.utcoffset() for r in local] == [dt.timedelta(hours=h) for h in (2, 2, 1)]
    assert [str(due_week(r)) for r in local] == ["2026-W41", "2026-W42", "2026-W43"]
    # The week the flow picks by default follows the same hour, in winter and in summer.
    assert str(due_week(paris(2026, 11, 30, 6, 59))) == "2026-W47"
    assert str(due_week(paris(2026, 11, 30, 7, 0))) == "2026-W48"
    assert str(due_week(paris(2026, 6, 29, 7, 0))) == "2026-W26"
    assert str(due_week(paris(2026, 12, 2, 15))) == "2026-W48"


def test_the_relay_runs_the_flow_once_a_week_from_monday_seven() -> None:
    clock = WeeklyPackClock()
    # Started on a Monday before 07:00: the week before last is the one due (again).
    assert clock.due(paris(2026, 11, 30, 6, 50)) == "2026-W47"
    clock.ran("2026-W47")
    assert clock.due(paris(2026, 11, 30, 6, 59)) is None
    assert clock.due(paris(2026, 11, 30, 7, 0)) == "2026-W48"
    # A failed run is not recorded: the next check tries the same week again.
    assert clock.due(paris(2026, 11, 30, 7, 10)) == "2026-W48"
    clock.ran("2026-W48")
    assert clock.due(paris(2026, 12, 6, 23, 59)) is None
    assert clock.due(paris(2026, 12, 7, 7, 0)) == "2026-W49"


def test_deploy_registers_the_monday_schedule_in_paris() -> None:
    from prefect.client.orchestration import get_client

    names = deployments.deploy(concurrency_limit=2)

    async def schedules() -> dict[str, list[tuple[str, str | None]]]:
        async with get_client() as client:
            found = {}
            for name in names:
                deployment = await client.read_deployment_by_name(name)
                found[name] = [
                    (s.schedule.cron, s.schedule.timezone)  # type: ignore[union-attr]
                    for s in deployment.schedules
                ]
                # Leave the session's Prefect server as it was: no scheduled runs piling up.
                await client.delete_deployment(deployment.id)
            await client.delete_work_pool(deployments.POOL)
            return found

    found = asyncio.run(schedules())
    assert found["weekly-pack/accelerator"] == [("0 7 * * 1", "Europe/Paris")]
    assert found["sweep/accelerator"] == [("* * * * *", None)]  # UTC, as before
    assert found["intake/accelerator"] == []
    assert found["what-if/accelerator"] == []  # run on demand, from the managers' page

"""``accelerator`` command line: serve, relay, demo, run, db upgrade, catalogue load, users
create, report weekly, metrics refresh, simulate."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from accelerator.shared.config import get_settings
from accelerator.shared.errors import AcceleratorError
from accelerator.shared.text import t
from accelerator.sla.calendars import WorkingCalendar

if TYPE_CHECKING:
    from accelerator.simulation.queries import HeldTimes

#: Dossiers of generated history the demo loads (``accelerator demo --history N``).
DEMO_HISTORY_DOSSIERS = 800

app = typer.Typer(
    help=t("cli.help"),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help=t("cli.db.help"), no_args_is_help=True)
catalogue_app = typer.Typer(help=t("cli.catalogue.help"), no_args_is_help=True)
users_app = typer.Typer(help=t("cli.users.help"), no_args_is_help=True)
documents_app = typer.Typer(help=t("cli.documents.help"), no_args_is_help=True)
report_app = typer.Typer(help=t("cli.report.help"), no_args_is_help=True)
metrics_app = typer.Typer(help=t("cli.metrics.help"), no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(documents_app, name="documents")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(users_app, name="users")
app.add_typer(report_app, name="report")
app.add_typer(metrics_app, name="metrics")


def _fail(message: str) -> NoReturn:
    typer.echo(t("cli.error", message=message), err=True)
    raise typer.Exit(code=2)


def _logging() -> None:
    # Prefect (re)configures logging when flows run; naming our loggers as its "extra loggers"
    # keeps them enabled and formatted like its own. Must be set before prefect is imported.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "accelerator")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    from accelerator.shared import logs

    logs.configure(get_settings().log_format, ui_level=get_settings().flow_ui_log_level)


@db_app.command("upgrade", help=t("cli.db.upgrade.command_help"))
def db_upgrade() -> None:
    """Apply the migrations to the configured database."""
    from accelerator.migrations.commands import upgrade

    upgrade(get_settings().database_url)
    typer.echo(t("cli.db.upgraded"))


@catalogue_app.command("load", help=t("cli.catalogue.load.command_help"))
def catalogue_load(
    path: Annotated[Path | None, typer.Option(help=t("cli.catalogue.load.directory_help"))] = None,
) -> None:
    """Load (upsert) the catalogue from JSON files."""
    from accelerator.catalogue.actions import SEED_DIR, load_catalogue
    from accelerator.shared.config import get_settings
    from accelerator.shared.db import get_database

    try:
        with get_database().transaction() as session:
            report = load_catalogue(
                session,
                path or SEED_DIR,
                take_charge_reoffer=get_settings().take_charge_reoffer,
            )
    except AcceleratorError as error:
        _fail(error.message)
    typer.echo(t("cli.catalogue.loaded", report=report))


@documents_app.command("sweep", help=t("cli.documents.sweep.command_help"))
def documents_sweep(
    older_than_minutes: Annotated[
        int, typer.Option(min=0, help=t("cli.documents.sweep.older_than_help"))
    ] = 60,
) -> None:
    """Delete stored files no document names (an API process killed mid-upload left them)."""
    import datetime as dt
    import itertools

    from accelerator.documents.actions import orphan_keys
    from accelerator.documents.storage import open_store
    from accelerator.shared.db import get_database, utcnow

    store = open_store(get_settings())
    cutoff = utcnow() - dt.timedelta(minutes=older_than_minutes)
    stale = (key for key, written in store.listing() if written < cutoff)
    removed = 0
    while batch := list(itertools.islice(stale, 500)):
        with get_database().transaction(read_only=True) as session:
            orphans = orphan_keys(session, batch)
        for key in orphans:
            store.delete(key)
        removed += len(orphans)
    typer.echo(t("cli.documents.swept", removed=removed, store=store.description))


@metrics_app.command("refresh", help=t("cli.metrics.refresh.command_help"))
def metrics_refresh() -> None:
    """Derive every stale fact of the managers' figures and rebuild the rollups if they are
    missing or pending (after an upgrade that empties them, a bulk load), as the sweep does,
    until nothing is stale."""
    import time

    from accelerator.metrics import rollups
    from accelerator.metrics.actions import refresh_batch
    from accelerator.shared.db import get_database, utcnow

    started = time.perf_counter()
    rows = 0
    while True:
        # One transaction per batch, like the sweep: a long refresh keeps what it has done.
        with get_database().transaction() as session:
            done = refresh_batch(session, now=utcnow())
        rows += done
        if not done:
            break
    with get_database().transaction(read_only=True) as session:
        cells = rollups.count(session)
    seconds = f"{time.perf_counter() - started:.1f}"
    typer.echo(t("cli.metrics.refreshed", rows=rows, cells=cells, seconds=seconds))


@catalogue_app.command("communes", help=t("cli.catalogue.communes.command_help"))
def catalogue_communes(
    file: Annotated[
        Path,
        typer.Option("--file", help=t("cli.catalogue.communes.file_help")),
    ],
) -> None:
    """Load (upsert) the official commune list: dossiers may then name those communes."""
    from accelerator.catalogue.actions import load_communes
    from accelerator.shared.db import get_database

    try:
        content = file.read_text(encoding="utf-8-sig")
    except OSError as error:
        _fail(t("cli.file_unreadable", file=file, error=error.strerror or error))
    except UnicodeDecodeError:
        _fail(t("cli.file_not_utf8", file=file))
    try:
        with get_database().transaction() as session:
            report = load_communes(session, content)
    except AcceleratorError as error:
        _fail(error.message)
    typer.echo(t("cli.catalogue.communes_loaded", report=report))


@users_app.command("create", help=t("cli.users.create.command_help"))
def users_create(
    email: Annotated[str, typer.Option(help=t("cli.users.email_help"))],
    role: Annotated[str, typer.Option(help=t("cli.users.role_help"))],
    administration: Annotated[
        str | None, typer.Option(help=t("cli.users.administration_help"))
    ] = None,
    organisation: Annotated[str | None, typer.Option(help=t("cli.users.organisation_help"))] = None,
    arrondissement: Annotated[
        list[str] | None, typer.Option(help=t("cli.users.arrondissement_help"))
    ] = None,
    name: Annotated[str | None, typer.Option(help=t("cli.users.name_help"))] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help=t("cli.users.password_stdin_help"))
    ] = False,
) -> None:
    """Create an account; the password is read from standard input. Written in the
    configuration journal (by ``cli:users create``) as an account opened on the pages."""
    from accelerator.configuration.actions import open_account
    from accelerator.history.actor import Actor
    from accelerator.identity.roles import Role
    from accelerator.shared.db import get_database, utcnow

    if not password_stdin:
        _fail(t("cli.users.password_on_stdin"))
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        chosen = Role(role)
    except ValueError:
        _fail(t("cli.users.role_unknown", role=role))
    codes = [c.strip() for item in arrondissement or [] for c in item.split(",") if c.strip()]
    try:
        with get_database().transaction() as session:
            user = open_account(
                session,
                email=email,
                role=chosen,
                password=password,
                name=name,
                administration=administration.upper() if administration else None,
                organisation=organisation,
                arrondissements=codes,
                by=Actor.command("users create"),
                now=utcnow(),
            )
            summary = t("cli.users.created", email=user.email, role=user.role)
    except AcceleratorError as error:
        _fail(error.message)
    typer.echo(summary)


#: What ``report weekly --out`` writes, by the file name's suffix.
REPORT_FORMATS = (".pdf", ".html")


@report_app.command("weekly", help=t("cli.report.weekly.command_help"))
def report_weekly(
    out: Annotated[Path, typer.Option("--out", help=t("cli.report.weekly.out_help"))],
    week: Annotated[str | None, typer.Option(help=t("cli.report.weekly.week_help"))] = None,
) -> None:
    """Write one week's review pack as PDF or HTML (by ``--out``'s suffix)."""
    from accelerator.metrics.pack import build_pack, last_complete_week, parse_week
    from accelerator.shared.db import get_database, utcnow
    from reports.weekly import render_html, render_pdf

    suffix = out.suffix.lower()
    if suffix not in REPORT_FORMATS:
        _fail(t("cli.report.weekly.suffix_unknown", file=out, known=", ".join(REPORT_FORMATS)))
    now = utcnow()
    try:
        chosen = parse_week(week) if week is not None else last_complete_week(now)
        with get_database().transaction(read_only=True) as session:
            pack = build_pack(session, chosen, now=now)
    except AcceleratorError as error:
        _fail(error.message)
    base_url = get_settings().public_url
    try:
        if suffix == ".pdf":
            out.write_bytes(render_pdf(pack, base_url=base_url))
        else:
            out.write_text(render_html(pack, base_url=base_url), encoding="utf-8")
    except OSError as error:
        _fail(t("cli.file_unwritable", file=out, error=error.strerror or error))
    typer.echo(t("cli.report.weekly.written", week=str(chosen), file=out))


def _calendars() -> dict[str, WorkingCalendar]:
    """Calendars of the configured database when it has them, else the built-in ones."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from accelerator.catalogue.queries import seed_calendars
    from accelerator.shared.db import get_database
    from accelerator.sla.models import Calendar

    calendars = seed_calendars()
    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return calendars
    try:
        database = get_database()
        if not inspect(database.engine).has_table("calendars"):
            return calendars
        with database.transaction(read_only=True) as session:
            for row in session.query(Calendar):
                calendars[row.code] = WorkingCalendar.from_spec(row.code, row.timezone, row.spec)
    except Exception as error:  # an unreachable database must not block a calculation
        typer.echo(t("cli.calendars.database_unreachable", error=error), err=True)
    return calendars


calendars_app = typer.Typer(help=t("cli.calendars.help"), invoke_without_command=True)
app.add_typer(calendars_app, name="calendars")
clocks_app = typer.Typer(help=t("cli.clocks.help"), no_args_is_help=True)
app.add_typer(clocks_app, name="clocks")


@calendars_app.callback(help=t("cli.calendars.command_help"))
def calendars(context: typer.Context) -> None:
    """List the calendar codes with their time zone."""
    if context.invoked_subcommand is None:
        for code, calendar in sorted(_calendars().items()):
            typer.echo(f"{code}\t{calendar.timezone}")


@calendars_app.command("override", help=t("cli.calendars.override.command_help"))
def calendars_override(
    calendar: Annotated[str, typer.Option(help=t("cli.calendar_code_help"))],
    date: Annotated[str, typer.Option(help=t("cli.calendars.override.day_help"))],
    name: Annotated[str, typer.Option(help=t("cli.calendars.override.name_help"))],
    hours: Annotated[
        list[str] | None,
        typer.Option(help=t("cli.calendars.override.hours_help")),
    ] = None,
) -> None:
    """Close, exceptionally open or shorten one day: a new calendar version, written in the
    configuration journal (by ``cli:calendars override``) as the admin pages write it."""
    import datetime as dt

    from accelerator.configuration.actions import set_day
    from accelerator.history.actor import Actor
    from accelerator.shared.db import get_database, utcnow

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        _fail(t("cli.calendars.override.date_unreadable", date=date))
    intervals = []
    for item in hours or []:
        start, _, end = item.partition("-")
        intervals.append((start.strip(), end.strip()))
    try:
        with get_database().transaction() as session:
            result = set_day(
                session,
                calendar=calendar.upper(),
                day=day,
                name=name,
                intervals=intervals,
                by=Actor.command("calendars override"),
                now=utcnow(),
            )
            summary = t("cli.calendars.override.done", code=result.code, version=result.version)
    except AcceleratorError as error:
        _fail(error.message)
    typer.echo(summary + t("cli.calendars.override.clocks_keep_version"))


@clocks_app.command("reproject", help=t("cli.clocks.reproject.command_help"))
def clocks_reproject(
    calendar: Annotated[
        str | None, typer.Option(help=t("cli.clocks.reproject.calendar_help"))
    ] = None,
    definition: Annotated[
        str | None, typer.Option(help=t("cli.clocks.reproject.definition_help"))
    ] = None,
) -> None:
    """Apply the versions now in force to open clocks (recorded in each dossier's history)."""
    from accelerator.consultations.actions import reproject_clocks
    from accelerator.shared.db import get_database, utcnow

    try:
        with get_database().transaction() as session:
            changed = reproject_clocks(
                session,
                actor_label="cli:clocks reproject",
                now=utcnow(),
                calendar_code=calendar.upper() if calendar else None,
                definition_code=definition,
            )
            lines = [
                f"{clock.key}\t{before.isoformat() if before else '-'}"
                f"\t{after.isoformat() if after else '-'}"
                for clock, before, after in changed
            ]
    except AcceleratorError as error:
        _fail(error.message)
    for line in lines:
        typer.echo(line)
    typer.echo(t("cli.clocks.reprojected", count=len(lines)))


@app.command(help=t("cli.deadline.command_help"))
def deadline(
    calendar: Annotated[str, typer.Option(help=t("cli.deadline.calendar_help"))],
    start: Annotated[str | None, typer.Option(help=t("cli.deadline.start_help"))] = None,
    add: Annotated[str | None, typer.Option(help=t("cli.deadline.add_help"))] = None,
    prorogation: Annotated[bool, typer.Option(help=t("cli.deadline.prorogation_help"))] = False,
    between: Annotated[
        tuple[str, str] | None,
        typer.Option(help=t("cli.deadline.between_help"), show_default=False),
    ] = None,
    unit: Annotated[str | None, typer.Option(help=t("cli.deadline.unit_help"))] = None,
    explain: Annotated[bool, typer.Option(help=t("cli.deadline.explain_help"))] = False,
) -> None:
    """Print a deadline (--start --add) or the amount of a unit (--between A B --unit U)."""
    from accelerator.sla.queries import compute_between, compute_deadline

    known = _calendars()
    chosen = known.get(calendar.upper())
    if chosen is None:
        _fail(t("cli.deadline.calendar_unknown", calendar=calendar, known=", ".join(sorted(known))))
    assert chosen is not None
    try:
        if between is not None:
            if unit is None or start is not None or add is not None:
                _fail(t("cli.deadline.between_needs_unit"))
            result = compute_between(chosen, start=between[0], end=between[1], unit=unit)
            typer.echo(result.amount)
            return
        if start is None or add is None:
            _fail(t("cli.deadline.usage"))
        assert start is not None and add is not None
        answer = compute_deadline(chosen, start=start, amount_and_unit=add, prorogation=prorogation)
    except AcceleratorError as error:
        _fail(error.message)
    if explain:
        for line in answer.explanation:
            typer.echo(line)
    typer.echo(answer.deadline)


def _history() -> tuple[dict[str, HeldTimes], list[str]]:
    """Answered consultations' held times of the configured database, and notes on it."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from accelerator.shared.db import get_database
    from accelerator.simulation.queries import held_times

    url = make_url(get_settings().database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return {}, [t("cli.simulate.no_history")]
    try:
        database = get_database()
        if not inspect(database.engine).has_table("consultation_facts"):
            return {}, [t("cli.simulate.no_history")]
        with database.transaction(read_only=True) as session:
            return held_times(session), []
    except Exception as error:  # no history is no reason to refuse a what-if
        return {}, [t("cli.simulate.history_unreadable", error=error)]


@app.command(help=t("cli.simulate.command_help"))
def simulate(
    dossiers: Annotated[int, typer.Option(help=t("cli.simulate.dossiers_help"))] = 1000,
    seed: Annotated[int, typer.Option(help=t("cli.simulate.seed_help"))] = 1,
    serial: Annotated[bool, typer.Option("--serial", help=t("cli.simulate.serial_help"))] = False,
    parallel: Annotated[
        bool, typer.Option("--parallel", help=t("cli.simulate.parallel_help"))
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help=t("cli.simulate.config_help"))
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=t("cli.simulate.json_help"))] = False,
) -> None:
    """What if: the engine run on a virtual clock, parallel and serial consultation compared."""
    import json

    from accelerator.simulation.actions import answer, check_dossiers
    from accelerator.simulation.rules import as_json as result_json
    from accelerator.simulation.rules import describe, table
    from accelerator.simulation.schemas import Mode, SimulationConfig, read_config

    modes = [Mode.PARALLEL, Mode.SERIAL]
    if serial != parallel:
        modes = [Mode.SERIAL] if serial else [Mode.PARALLEL]
    if not 0 <= seed < 2**63:
        _fail(t("cli.simulate.seed_out_of_range"))
    try:
        check_dossiers(dossiers)
        scenario = read_config(config) if config is not None else SimulationConfig()
        history, notes = _history()
        result = answer(
            scenario, dossiers=dossiers, seed=seed, history=history, modes=modes, notes=notes
        )
    except AcceleratorError as error:
        _fail(error.message)
    if as_json:
        typer.echo(json.dumps(result_json(result), ensure_ascii=False, indent=2))
        return
    for note in result.notes:
        typer.echo(t("cli.simulate.note", note=note))
    typer.echo(t("cli.simulate.distributions"))
    for chosen in result.responses:
        if chosen.source != "legal":
            typer.echo(f"  {describe(chosen)}")
    for line in table(result):
        typer.echo(line)
    typer.echo(t("cli.simulate.took", seconds=f"{result.seconds:.1f}".replace(".", ",")))


@app.command(help=t("cli.serve.command_help"))
def serve(
    host: Annotated[str, typer.Option(help=t("cli.serve.host_help"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=t("cli.serve.port_help"))] = 8000,
    workers: Annotated[int, typer.Option(help=t("cli.serve.workers_help"))] = 1,
) -> None:
    """Serve the HTTP API."""
    import uvicorn

    from accelerator.shared.config import ConfigurationError

    try:
        get_settings().signing_key  # noqa: B018 - fail before binding the port
    except ConfigurationError as error:
        _fail(str(error))
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
        access_log=False,  # the application logs each request itself, with its dossier
    )


@app.command(help=t("cli.relay.command_help"))
def relay() -> None:
    """Deliver the outbox and run the flows (embedded Prefect or the server at PREFECT_API_URL)."""
    import signal
    import threading

    _logging()
    from workflows.engine import flow_settings
    from workflows.relay import run

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    settings = get_settings()
    distributed = settings.flow_mode == "deployments"
    with flow_settings():
        run(
            stop,
            poll_seconds=settings.relay_poll_seconds,
            batch_size=settings.relay_batch_size,
            # In distributed mode the sweep is a scheduled deployment. The reconciliation runs
            # here in both modes: it frees the work pool from runs whose worker died, so it
            # must not wait for a slot of that pool.
            sweep_every_seconds=None if distributed else settings.sweep_interval_seconds,
            reconcile_every_seconds=settings.reconcile_interval_seconds,
            # In distributed mode the weekly pack is a deployment with its own cron.
            weekly_pack=not distributed,
        )


@app.command(help=t("cli.deploy.command_help"))
def deploy(
    concurrency: Annotated[int, typer.Option(help=t("cli.deploy.concurrency_help"))] = 4,
) -> None:
    """Create the work pool and register the flows as deployments (distributed mode)."""
    if not os.environ.get("PREFECT_API_URL"):
        _fail(t("cli.prefect_api_url_required"))
    from workflows.deployments import deploy as register

    for name in register(concurrency_limit=concurrency):
        typer.echo(t("cli.deploy.registered", name=name))


@app.command(help=t("cli.worker.command_help"))
def worker(
    limit: Annotated[int, typer.Option(help=t("cli.worker.limit_help"))] = 4,
) -> None:
    """Run a Prefect process worker on the accelerator's work pool (distributed mode)."""
    if not os.environ.get("PREFECT_API_URL"):
        _fail(t("cli.prefect_api_url_required"))
    from workflows.deployments import POOL

    os.environ.setdefault("ACCELERATOR_FLOW_MODE", "deployments")
    argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL,
            "--type", "process", "--limit", str(limit)]  # fmt: skip
    os.execv(sys.executable, argv)


@app.command(help=t("cli.demo.command_help"))
def demo(
    port: Annotated[int, typer.Option(help=t("cli.api_port_help"))] = 8000,
    prefect_port: Annotated[int, typer.Option(help=t("cli.prefect_port_help"))] = 4200,
    history: Annotated[int, typer.Option(help=t("cli.demo.history_help"))] = (
        DEMO_HISTORY_DOSSIERS
    ),
) -> None:
    """Migrate, load catalogue and demo data (with a generated history for the managers'
    figures), then run Prefect's server, the relay and the API."""
    import dataclasses
    import time

    from accelerator.catalogue.actions import load_catalogue
    from accelerator.demo.actions import DEMO_PASSWORD, load_demo
    from accelerator.demo.history import DEMO_HISTORY, load_history
    from accelerator.metrics.actions import refresh_facts
    from accelerator.migrations.commands import upgrade
    from accelerator.shared.db import get_database, utcnow

    os.environ["ACCELERATOR_DEMO"] = "1"
    get_settings.cache_clear()
    settings = get_settings()
    upgrade(settings.database_url)
    with get_database().transaction() as session:
        load_catalogue(session, take_charge_reoffer=settings.take_charge_reoffer)
        accounts = load_demo(session, now=utcnow())
    if history > 0:
        # Once (a later start finds it and adds nothing); its facts derived as the sweep does.
        started = time.perf_counter()
        config = dataclasses.replace(DEMO_HISTORY, dossiers=history)
        with get_database().transaction() as session:
            loaded = load_history(session, config, now=utcnow())
        if loaded:
            with get_database().transaction() as session:
                refresh_facts(session, now=utcnow())
            seconds = f"{time.perf_counter() - started:.1f}"
            typer.echo(t("cli.demo.history_loaded", dossiers=loaded, seconds=seconds))
    typer.echo(t("cli.demo.accounts", password=DEMO_PASSWORD))
    for account in accounts:
        typer.echo(f"  {account.role.value:9} {account.email}")
    _run_embedded(host="127.0.0.1", port=port, prefect_port=prefect_port)


@app.command(help=t("cli.run.command_help"))
def run(
    host: Annotated[str, typer.Option(help=t("cli.run.host_help"))] = "127.0.0.1",
    port: Annotated[int, typer.Option(help=t("cli.api_port_help"))] = 8000,
    prefect_port: Annotated[int, typer.Option(help=t("cli.prefect_port_help"))] = 4200,
) -> None:
    """Run the product on one machine, without demo data: migrate, then supervise Prefect's
    server, the relay and the API (a child that dies is restarted)."""
    from accelerator.migrations.commands import upgrade
    from accelerator.shared.config import ConfigurationError

    settings = get_settings()
    if settings.demo:
        _fail(t("cli.run.not_in_demo"))
    try:
        settings.signing_key  # noqa: B018 - refuse before anything starts
    except ConfigurationError as error:
        _fail(str(error))
    upgrade(settings.database_url)
    _run_embedded(host=host, port=port, prefect_port=prefect_port)


def _run_embedded(*, host: str, port: int, prefect_port: int) -> None:
    """Supervise the embedded product's children until Ctrl-C or repeated failures."""
    from workflows.engine import demo_children, restart_policy
    from workflows.supervisor import Supervisor, SupervisorError

    settings = get_settings()
    children = demo_children(
        settings.var_dir, api_port=port, prefect_port=prefect_port, api_host=host
    )
    try:
        with Supervisor(restart=restart_policy(settings)) as supervisor:
            for child in children:
                supervisor.start(child)
            typer.echo(t("cli.run.started", host=host, port=port, prefect_port=prefect_port))
            supervisor.wait()
    except KeyboardInterrupt:
        pass
    except SupervisorError as error:
        _fail(str(error))
    typer.echo("Arrêté.")


def main() -> None:
    """Entry point of the ``accelerator`` command."""
    app()


if __name__ == "__main__":
    main()

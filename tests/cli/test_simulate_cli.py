"""``accelerator simulate``: the table a manager reads, the JSON a program reads, one French
line and exit code 2 for every refusal, the history fitted from the configured database."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests import metrics_dataset
from tests.accelerator.test_simulation import censored_maximum
from tests.cli.test_cli import accelerator

HOTEL = {
    "arrivals": {"per_week": 5, "mix": {"hotel": 1}},
    "take_charge": {"delay": {"kind": "fixed", "value": 1, "unit": "days"}},
    "administrations": {
        "UDAP-65": {"response": {"kind": "fixed", "value": 10, "unit": "days"}},
        "SDIS-65": {"response": {"kind": "fixed", "value": 20, "unit": "days"}},
        "DDT-65": {"response": {"kind": "fixed", "value": 5, "unit": "days"}},
        "PREF-65": {"response": {"kind": "fixed", "value": 5, "unit": "days"}},
    },
}

#: The same scenario as TOML: UDAP 10 days, SDIS 20, DDT 5, PREF 5; take-in-charge 1 day.
HOTEL_TOML = """
[arrivals]
per_week = 5
mix = { hotel = 1 }

[take_charge.delay]
kind = "fixed"
value = 1
unit = "days"

[administrations.UDAP-65.response]
kind = "fixed"
value = 10
unit = "days"

[administrations.SDIS-65.response]
kind = "fixed"
value = 20
unit = "days"

[administrations.DDT-65.response]
kind = "fixed"
value = 5
unit = "days"

[administrations.PREF-65.response]
kind = "fixed"
value = 5
unit = "days"
"""


def _no_history(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'absent.db'}"


def test_the_table_compares_both_modes_with_their_ratio(tmp_path: Path) -> None:
    scenario = tmp_path / "hotel.toml"
    scenario.write_text(HOTEL_TOML, encoding="utf-8")
    done = accelerator(
        "simulate", "--dossiers", "3", "--seed", "5", "--config", str(scenario),
        database_url=_no_history(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    parallel = next(line for line in lines if line.startswith("parallèle"))
    serial = next(line for line in lines if line.startswith("série"))
    # n, p50, p85, p95, tacit: the slowest administration, then the sum (+ 1 day each).
    assert parallel.split()[1:] == ["3", "21,0", "21,0", "21,0", "0"]
    assert serial.split()[1:] == ["3", "41,0", "41,0", "41,0", "0"]
    ratio = next(line for line in lines if "ratio" in line)
    assert ratio == "ratio parallèle / série : p50 0,51 ; p85 0,51 ; p95 0,51"
    assert "pas d'historique" in done.stdout
    assert "UDAP-65 : toujours 10,0 j (donnée par le scénario)" in done.stdout


def test_one_mode_alone_says_the_ratio_needs_both(tmp_path: Path) -> None:
    scenario = tmp_path / "hotel.json"
    scenario.write_text(json.dumps(HOTEL), encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(
        app, ["simulate", "--dossiers", "2", "--serial", "--config", str(scenario), "--json"]
    )
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    assert list(answer["modes"]) == ["serial"]
    assert answer["modes"]["serial"]["p50"] == pytest.approx(41.0)
    assert answer["ratio"] is None
    done = runner.invoke(app, ["simulate", "--dossiers", "2", "--parallel", "--config",
                               str(scenario)])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "série" not in done.output.split("ratio")[0].split("mode")[-1]
    ratio = next(line for line in done.output.splitlines() if "ratio" in line)
    assert "il faut les deux modes" in ratio


@pytest.mark.parametrize(
    ("arguments", "content", "expected"),
    [
        (["--dossiers", "0"], None, "entre 1 et 20000"),
        (["--dossiers", "20001"], None, "entre 1 et 20000"),
        (["--seed", "-1"], None, "graine"),
        ([], ("s.json", '{"administrations": {"XYZ-65": {}}}'), "Administration inconnue"),
        ([], ("s.json", '{"fit": {"min_answered": 5}, "colour": 1}'), "colour : champ inconnu"),
        ([], ("s.toml", "[administrations.DDT-65.response]\nkind = 'fixed'\nvalue = -2\n"),
         "administrations.DDT-65.response.value : valeur trop petite"),
        ([], ("s.toml", "[arrivals\n"), "TOML illisible"),
        ([], ("s.json", "{"), "JSON illisible"),
        ([], ("s.yaml", "a: 1"), "suffixe .json ou .toml"),
        ([], ("absent.json", None), "lecture impossible"),
    ],
)  # fmt: skip
def test_a_refusal_is_one_french_line_and_exit_code_2(
    tmp_path: Path, arguments: list[str], content: tuple[str, str | None] | None, expected: str
) -> None:
    if content is not None:
        name, text = content
        path = tmp_path / name
        if text is not None:
            path.write_text(text, encoding="utf-8")
        arguments = [*arguments, "--config", str(path)]
    done = CliRunner().invoke(app, ["simulate", "--dossiers", "1", *arguments])
    assert done.exit_code == 2, done.output
    assert isinstance(done.exception, SystemExit)
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Erreur : "), done.output
    assert expected in lines[0]
    assert "Traceback" not in done.output


def test_distributions_are_fitted_from_the_configured_database(db: Any, tmp_path: Path) -> None:
    metrics_dataset.build(db)
    scenario = tmp_path / "fit.json"
    scenario.write_text(json.dumps({"fit": {"min_answered": 2}}), encoding="utf-8")
    done = CliRunner().invoke(
        app, ["simulate", "--dossiers", "1", "--parallel", "--json", "--config", str(scenario)]
    )
    assert done.exit_code == 0, done.output
    responses = json.loads(done.output)["responses"]
    assert responses["UDAP-65"]["source"] == "fitted"
    assert responses["UDAP-65"]["observed"] == 2
    assert responses["UDAP-65"]["median"] == pytest.approx(20**0.5, abs=1e-3)
    # SDIS: two answers of 5 days and its tacit opinion censored at 21.625 business days.
    mu, _sigma = censored_maximum([5.0, 5.0], [21.625])
    sdis = responses["SDIS-65"]
    assert (sdis["source"], sdis["observed"], sdis["kind"]) == ("fitted", 2, "lognormal")
    assert sdis["median"] == pytest.approx(math.exp(mu), rel=1e-3)
    assert responses["DDT-65"]["source"] == "legal"
    notes = json.loads(done.output)["notes"]
    assert any("DDT-65" in note for note in notes)

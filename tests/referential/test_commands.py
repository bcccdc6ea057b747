"""`flask referential load|export`: messages, exit codes and what reaches the database."""

from __future__ import annotations

import json

import yaml

from ntc_jury.referential import loader
from ntc_jury.referential.export import export_referential, find_certification
from ntc_jury.referential.loader import load_referential
from tests.conftest import MINI_YAML, NTC_YAML

from . import mini_data, row_counts


def write_yaml(path, data: dict):
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_load_prints_a_summary_and_commits(runner, db):
    result = runner.invoke(args=["referential", "load", str(NTC_YAML)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Référentiel TP-00338 v07 chargé : 2 CCP, 9 compétences, 51 critères, 3 formats.\n"
    )
    db.session.rollback()  # a commit survives a rollback; a mere flush would not
    assert find_certification("TP-00338", "07") is not None
    assert row_counts()["criterion"] == 51


def test_load_summary_counts_in_the_singular(runner, db):
    result = runner.invoke(args=["referential", "load", str(MINI_YAML)])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "Référentiel TP-99999 v01 chargé : 1 CCP, 2 compétences, 5 critères, 2 formats.\n"
    )


def test_loading_twice_says_nothing_changed(runner, db):
    runner.invoke(args=["referential", "load", str(NTC_YAML)])
    before = row_counts()
    result = runner.invoke(args=["referential", "load", str(NTC_YAML)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Référentiel TP-00338 v07 déjà chargé, rien n'a changé.\n"
    assert row_counts() == before


def test_load_refuses_a_bad_file_and_writes_nothing(runner, db, tmp_path):
    data = mini_data()
    data["ccps"][0]["competencies"][1]["modalities"][1] = "XX"
    path = write_yaml(tmp_path / "bad.yaml", data)
    result = runner.invoke(args=["referential", "load", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Référentiel refusé — ccps[0].competencies[1].modalities[1] : modalité inconnue « XX »\n"
    )
    assert not any(row_counts().values())


def test_load_refuses_a_missing_file(runner, db, tmp_path):
    result = runner.invoke(args=["referential", "load", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 1
    assert "fichier introuvable" in result.stderr


def test_load_refuses_a_changed_millesime(runner, db, tmp_path):
    runner.invoke(args=["referential", "load", str(MINI_YAML)])
    before = row_counts()
    data = mini_data()
    data["title"] = "Agent fictif de test, revu"
    result = runner.invoke(args=["referential", "load", str(write_yaml(tmp_path / "v.yaml", data))])
    assert result.exit_code == 1
    assert "TP-99999 v01 est déjà chargé avec un contenu différent" in result.stderr
    assert row_counts() == before


def test_a_failure_midway_leaves_nothing_behind(runner, db, monkeypatch):
    def broken_build_format(*args, **kwargs):
        raise RuntimeError("disk full")

    # Fails after the certification, modalities, CCPs and competencies were flushed.
    monkeypatch.setattr(loader, "_build_format", broken_build_format)
    result = runner.invoke(args=["referential", "load", str(NTC_YAML)])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert not any(row_counts().values())


def test_export_prints_the_referential_as_json(runner, ntc):
    result = runner.invoke(args=["referential", "export", "TP-00338"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('{\n  "code": "TP-00338",\n  "version": "07",')
    assert "Négociateur technico-commercial" in result.stdout  # not \u-escaped
    assert json.loads(result.stdout) == export_referential(ntc)


def test_export_takes_the_latest_version_unless_told(runner, db):
    for version in ("9", "10", "01"):
        data = mini_data()
        data["version"] = version
        load_referential(data)
    latest = runner.invoke(args=["referential", "export", "TP-99999"])
    assert json.loads(latest.stdout)["version"] == "10"
    chosen = runner.invoke(args=["referential", "export", "TP-99999", "--version", "9"])
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout)["version"] == "9"


def test_export_refuses_an_unknown_code_or_version(runner, ntc):
    unknown_code = runner.invoke(args=["referential", "export", "TP-12345"])
    assert unknown_code.exit_code == 1
    assert unknown_code.stderr == "Aucun référentiel TP-12345 n'est chargé.\n"
    unknown_version = runner.invoke(args=["referential", "export", "TP-00338", "--version", "99"])
    assert unknown_version.exit_code == 1
    assert unknown_version.stderr == "Le référentiel TP-00338 n'est pas chargé en version 99.\n"
    assert unknown_version.stdout == ""

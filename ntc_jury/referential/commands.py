"""`flask --app wsgi referential load|export`: the referential files in and out of the database."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from .export import export_referential, find_certification
from .loader import ReferentialError, load_referential, read_referential_file

referential_cli = AppGroup("referential", help="Load and export referentials (RE).")


@referential_cli.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def load_command(path: Path) -> None:
    """Load a referential YAML file (a file already loaded changes nothing)."""
    try:
        data = read_referential_file(path)
        already_loaded = find_certification(data["code"], data["version"]) is not None
        load_referential(data)
        db.session.commit()
    except ReferentialError as error:
        db.session.rollback()
        _fail(f"Référentiel refusé — {error}")
    except Exception:
        db.session.rollback()
        raise
    name = f"Référentiel {data['code']} v{data['version']}"
    if already_loaded:
        click.echo(f"{name} déjà chargé, rien n'a changé.")
    else:
        click.echo(f"{name} chargé : {_summary(data)}.")


@referential_cli.command("export")
@click.argument("code")
@click.option("--version", "version", default=None, help="Millésime (the latest by default).")
def export_command(code: str, version: str | None) -> None:
    """Print a loaded referential as JSON."""
    certification = find_certification(code, version)
    if certification is None:
        if version is None or find_certification(code) is None:
            _fail(f"Aucun référentiel {code} n'est chargé.")
        _fail(f"Le référentiel {code} n'est pas chargé en version {version}.")
    click.echo(json.dumps(export_referential(certification), ensure_ascii=False, indent=2))


def _summary(data: dict) -> str:
    competencies = [c for ccp in data["ccps"] for c in ccp["competencies"]]
    criteria = sum(len(c["criteria"]) for c in competencies)
    return ", ".join(
        (
            f"{len(data['ccps'])} CCP",
            _count(len(competencies), "compétence"),
            _count(criteria, "critère"),
            _count(len(data["formats"]), "format"),
        )
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number > 1 else ''}"


def _fail(message: str) -> None:
    click.echo(message, err=True)
    raise click.exceptions.Exit(1)

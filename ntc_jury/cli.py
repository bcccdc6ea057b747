"""`flask --app wsgi …` commands; each feature contributes its own group."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .core.vocabulary import StaffRole
from .extensions import db
from .models import utcnow

staff_cli = AppGroup("staff", help="Comptes du personnel du centre.")


@staff_cli.command("create")
@click.option("--email", prompt="Adresse e-mail")
@click.option("--name", prompt="Nom")
@click.option(
    "--role",
    type=click.Choice([r.value for r in StaffRole]),
    default=StaffRole.ADMIN.value,
    show_default=True,
)
@click.password_option("--password", prompt="Mot de passe", confirmation_prompt=True)
def create_staff_command(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account (the first one is usually an admin)."""
    from .auth.forms import PASSWORD_MIN
    from .auth.operations import create_staff

    if len(password) < PASSWORD_MIN:
        raise click.ClickException(
            f"Le mot de passe doit compter au moins {PASSWORD_MIN} caractères."
        )
    try:
        user = create_staff(email=email, name=name, password=password, role=StaffRole(role))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Compte créé : {user.email} ({user.role.value}).")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Create (or refresh) the demo session dated today and print how to sign in."""
    from .centre.access_cards import access_link
    from .demo import seed_demo

    try:
        logins = seed_demo(today=utcnow().date())
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    base = current_app.config["PUBLIC_URL"]
    with current_app.test_request_context(base_url=base):
        links = [(issued, access_link(base, issued.token)) for issued in logins.jurors]
    session = logins.session
    click.echo("")
    click.echo(f"Session de démonstration : {session.format.title}, {session.starts_on:%d/%m/%Y}")
    click.echo(f"Application : {base}/")
    click.echo("")
    click.echo("Personnel du centre (administrateur) :")
    click.echo(
        f"  {base}/connexion  e-mail {logins.staff_email}  mot de passe {logins.staff_password}"
    )
    click.echo("")
    click.echo("Membres du jury (lien personnel + code PIN) :")
    for issued, link in links:
        role = "président" if issued.member.is_chair else "membre"
        click.echo(f"  {issued.member.full_name} ({role})")
        click.echo(f"    lien {link}")
        click.echo(f"    PIN  {issued.pin}")
    click.echo("")


def init_app(app: Flask) -> None:
    from .minutes.commands import audit_cli, purge_command
    from .referential.commands import referential_cli

    app.cli.add_command(referential_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(purge_command)
    app.cli.add_command(staff_cli)
    app.cli.add_command(demo_command)

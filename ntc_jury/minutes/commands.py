"""`flask audit verify SESSION_ID` and `flask purge --older-than DURATION [--apply]`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..deliberation import queries as deliberation_queries
from ..extensions import db
from ..models import ExamSession, utcnow
from . import integrity, operations, queries, retention

audit_cli = AppGroup("audit", help="Journal d'audit et documents archivés.")

FIELD_LABELS = {
    "names": _l("nom et prénom remplacés par « Candidat n° … »"),
    "birth_date": _l("date de naissance"),
    "birth_place": _l("lieu de naissance"),
    "email": _l("adresse e-mail"),
    "disability_arrangements": _l("aménagements liés au handicap"),
    "company_context": _l("contexte de l'entreprise"),
    "presence_note": _l("circonstances d'absence ou d'abandon"),
}


def _reason(difference: integrity.Difference) -> str:
    detail = difference.detail
    return {
        "unchained": _(
            "ne s'enchaîne pas sur l'événement %(previous)s : une ligne a été supprimée, "
            "insérée ou réécrite avant elle",
            previous=detail or _("(début de la chaîne)"),
        ),
        "content_changed": _(
            "son contenu (%(action)s) ne correspond plus à son empreinte : un champ a été modifié",
            action=detail,
        ),
        "purged_row_changed": _(
            "ligne expurgée (%(action)s) modifiée après la purge (empreinte / empreinte des "
            "champs conservés)",
            action=detail,
        ),
        "file_changed": _("le fichier stocké ne correspond plus à l'empreinte enregistrée"),
        "size_changed": _("la taille du fichier stocké a changé"),
        "not_recorded": _("aucun événement d'audit intact n'enregistre ce document"),
        "recorded_differs": _(
            "l'empreinte diffère de celle enregistrée par l'événement d'audit %(event)s",
            event=detail,
        ),
        "version_missing": _("cette version a disparu des documents stockés"),
        "document_missing": _(
            "enregistré par l'événement d'audit %(event)s mais plus stocké", event=detail
        ),
    }[difference.reason]


def describe(difference: integrity.Difference) -> str:
    if difference.subject == "audit":
        scope = _("cette session") if difference.in_session else _("autre session")
        where = _("événement %(id)s (%(scope)s)", id=difference.where, scope=scope)
    else:
        where = _("document %(name)s", name=difference.where)
    line = _("ÉCART %(where)s — %(reason)s.", where=where, reason=_reason(difference))
    if difference.expected or difference.found:
        line += "\n    " + _(
            "%(field)s attendu : %(expected)s\n    %(field)s trouvé : %(found)s",
            field=difference.what,
            expected=difference.expected or "—",
            found=difference.found or "—",
        )
    return line


@audit_cli.command("verify")
@click.argument("session_id", type=int)
def verify_command(session_id: int) -> None:
    """Re-check the audit log's hash chain and the session's stored PDFs (exit 1 if not intact)."""
    session = db.session.get(ExamSession, session_id)
    if session is None:
        raise click.ClickException(_("Session %(id)s inconnue.", id=session_id))
    report = integrity.verify_session(session)
    click.echo(
        _(
            "Journal d'audit : %(rows)s événements vérifiés (toute la chaîne), dont "
            "%(mine)s de la session %(id)s (%(redacted)s expurgés par la purge).",
            rows=report.rows,
            mine=report.session_rows,
            id=session.id,
            redacted=report.redacted,
        )
    )
    click.echo(_("Documents stockés de la session : %(n)s vérifiés.", n=report.documents))
    for difference in report.differences:
        click.echo(describe(difference))
    if report.ok:
        click.echo(_("Intégrité vérifiée : aucun écart."))
        return
    click.echo(
        ngettext("%(num)s écart trouvé.", "%(num)s écarts trouvés.", len(report.differences))
    )
    raise click.exceptions.Exit(1)


@click.command("purge")
@click.option(
    "--older-than",
    "older_than",
    default=None,
    metavar="DURÉE",
    help="5y, 18m, 30d… (par défaut RETENTION_YEARS années).",
)
@click.option("--apply", "apply_", is_flag=True, help="Purger vraiment (sinon : simulation).")
@with_appcontext
def purge_command(older_than: str | None, apply_: bool) -> None:
    """Purge candidates' personal data of sessions closed longer than the retention period."""
    text = older_than or f"{current_app.config['RETENTION_YEARS']}y"
    try:
        amount, unit = retention.parse_duration(text)
    except retention.DurationError as error:
        raise click.ClickException(str(error)) from error
    limit = retention.cutoff(utcnow(), amount, unit)
    sessions = retention.due_sessions(limit)
    if not sessions:
        click.echo(
            _("Aucune session close avant le %(date)s à purger.", date=format_date(limit.date()))
        )
        return
    for session in sessions:
        _describe_plan(session, retention.plan_purge(session))
        if apply_:
            operations.purge_session(session=session)
    if apply_:
        db.session.commit()
        click.echo(
            ngettext(
                "%(num)s session purgée ; procès-verbaux et résultats conservés.",
                "%(num)s sessions purgées ; procès-verbaux et résultats conservés.",
                len(sessions),
            )
        )
    else:
        db.session.rollback()
        click.echo(_("Simulation : rien n'a été modifié. Relancez avec --apply pour purger."))


def _describe_plan(session: ExamSession, plan: retention.PurgePlan) -> None:
    click.echo(
        _(
            "Session %(id)s du %(date)s (CERES %(ceres)s, %(centre)s), close le %(closed)s :",
            id=session.id,
            date=format_date(session.starts_on),
            ceres=session.ceres_number or "—",
            centre=session.centre,
            closed=format_date(session.closed_at.date()),
        )
    )
    fields = ", ".join(
        f"{FIELD_LABELS[name]} ({n})" for name, n in plan.personal_fields.items() if n
    )
    click.echo(
        "  - "
        + ngettext("%(num)s candidat", "%(num)s candidats", len(plan.candidates))
        + (f" : {fields}" if fields else "")
    )
    click.echo(
        "  - "
        + ngettext(
            "%(num)s observation supprimée",
            "%(num)s observations supprimées",
            len(plan.observations),
        )
    )
    click.echo(
        "  - "
        + ngettext(
            "%(num)s motif de conflit d'intérêts effacé",
            "%(num)s motifs de conflit d'intérêts effacés",
            len(plan.conflict_reasons),
        )
    )
    click.echo(
        "  - "
        + _(
            "%(audit)s événements d'audit et %(ops)s opérations de juré expurgés",
            audit=len(plan.audit_rows),
            ops=len(plan.operations),
        )
    )
    stored = queries.latest_document(session.id, queries.MINUTES)
    current = deliberation_queries.current_round(session)
    if stored is None or current is None or stored.deliberation_id != current.id:
        click.echo("  - " + _("le procès-verbal, pas encore produit, sera généré avant la purge"))
    else:
        click.echo(
            "  - "
            + _(
                "conservés : le procès-verbal (version %(v)s), les fiches, les "
                "décisions et leurs motifs, les grilles",
                v=stored.version,
            )
        )

"""The juror's pages through the test client, signed in with a link and a PIN.

Views are asserted on their HTML (parsed, see markup.py) and on the database they changed.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from ntc_jury.core.referential import plan_for
from ntc_jury.core.vocabulary import Presence, Route, SessionState
from ntc_jury.jury import operations
from ntc_jury.models import (
    AppliedOperation,
    AuditEvent,
    ConflictDeclaration,
    GridCompletion,
    Mark,
    Observation,
    ScheduleSlot,
    TransversalMark,
    utcnow,
)
from ntc_jury.referential.loader import read_referential_file
from tests.conftest import NTC_YAML
from tests.factories import add_candidate, make_session

from .conftest import count, new_op
from .markup import Node, fragment_root, parse

HTMX = {"HX-Request": "true"}


def post_op(client, candidate_id: int, *, htmx: bool = True, op_id: str | None = None, **fields):
    data = {"op_id": op_id or new_op(), **{k: str(v) for k, v in fields.items()}}
    return client.post(
        f"/jury/candidats/{candidate_id}/operation", data=data, headers=HTMX if htmx else {}
    )


def clear(client, candidate_id: int) -> None:
    response = post_op(client, candidate_id, kind="conflict", has_conflict="0")
    assert response.status_code == 200


def page(client, url: str, status: int = 200) -> Node:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return parse(response.get_data(as_text=True))


def phase_url(candidate, phase) -> str:
    return f"/jury/candidats/{candidate.id}/phases/{phase.id}"


def verbatim_referential() -> dict:
    """The RE as transcribed in the seed file: competency code → (title, criteria texts)."""
    data = read_referential_file(NTC_YAML)
    return {
        comp["code"]: (comp["title"], comp["criteria"])
        for ccp in data["ccps"]
        for comp in ccp["competencies"]
    }


@pytest.fixture
def juror(scene, sign_in):
    return sign_in(scene.juror)


# ----------------------------------------------------------------------------- session home


def test_session_home_lists_the_day_in_schedule_order_with_progress_and_states(db, scene, sign_in):
    session = scene.session
    late, early = session.candidates  # created in that order
    absent = add_candidate(session, last_name="Absente")
    withdrawn = add_candidate(session, last_name="Partie")
    conflicted = add_candidate(session, last_name="Cousin")
    # The timetable, not the enrolment or the alphabet, gives the order.
    for position, candidate in enumerate([early, conflicted, late, withdrawn, absent]):
        candidate.schedule_position = position
    absent.presence = Presence.ABSENT
    withdrawn.presence = Presence.WITHDRAWN
    db.session.commit()
    juror, other = sign_in(scene.juror), sign_in(scene.other)

    clear(juror, late.id)
    post_op(juror, late.id, kind="grid", modality="QP", completed="1")
    post_op(juror, late.id, kind="grid", modality="ET", completed="1")
    post_op(juror, conflicted.id, kind="conflict", has_conflict="1", reason="Mon cousin")
    # Another juror's progress is theirs alone.
    clear(other, early.id)
    post_op(other, early.id, kind="grid", modality="MSP", completed="1")

    home = page(juror, "/jury/")
    rows = home.by_id("candidate-list").select("li", cls="candidate-row")
    assert [row.id for row in rows] == [
        f"candidate-{c.id}" for c in (early, conflicted, late, withdrawn, absent)
    ]
    # The badges shown (the outbox unhides the conflict ones from what the phone recorded).
    badges = {
        row.id: [b.text() for b in row.select("span", cls="badge") if "hidden" not in b.attrs]
        for row in rows
    }
    assert badges == {
        f"candidate-{early.id}": ["Absence de lien à confirmer", "Grilles 0/3"],
        f"candidate-{conflicted.id}": ["Conflit déclaré", "Grilles 0/3"],
        f"candidate-{late.id}": ["Grilles 2/3"],
        f"candidate-{withdrawn.id}": ["Abandon", "Absence de lien à confirmer", "Grilles 0/3"],
        f"candidate-{absent.id}": ["Absent", "Absence de lien à confirmer", "Grilles 0/3"],
    }
    row = home.by_id(f"candidate-{late.id}")
    assert row.select("a")[0].attrs["href"] == f"/jury/candidats/{late.id}"
    assert late.full_name in row.text() and late.candidate_number in row.text()
    other_home = page(other, "/jury/")
    assert "Grilles 1/3" in other_home.by_id(f"candidate-{early.id}").text()


def test_a_finished_day_shows_every_grid_done(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    for modality in ("MSP", "ET", "QP"):
        response = post_op(juror, candidate.id, kind="grid", modality=modality, completed="1")
        assert response.status_code == 200

    row = page(juror, "/jury/").by_id(f"candidate-{candidate.id}")
    [progress] = [b for b in row.select("span", cls="badge") if "Grilles" in b.text()]
    assert progress.text() == "Grilles 3/3"
    assert "badge-ok" in progress.classes


# ----------------------------------------------------------------------------- candidate page


def test_a_phase_page_before_the_no_link_confirmation_is_shown_disabled(db, scene, juror):
    """Cached for offline use before the juror confirms: every control is there, disabled and
    marked for the outbox, which enables them once the juror says "no link" (offline too)."""
    candidate = scene.candidate
    url = phase_url(candidate, scene.phase("MSP-NEGOCIATION"))
    before = page(juror, url)
    buttons = before.select("button", cls="tick")
    assert buttons and all(
        "disabled" in b.attrs and "data-needs-clearance" in b.attrs for b in buttons
    )
    notes = before.select("textarea")
    assert notes and all(
        "readonly" in t.attrs
        and "data-needs-clearance" in t.attrs
        and "data-observation" not in t.attrs
        for t in notes
    )
    [warning] = [p for p in before.select("p") if "data-before-clearance" in p.attrs]
    assert "Confirmez d'abord l'absence de lien" in warning.text()
    assert "data-prefetch-deep" in page(juror, "/jury/").select("body")[0].attrs

    clear(juror, candidate.id)
    after = page(juror, url)
    buttons = after.select("button", cls="tick")
    assert buttons and not any("disabled" in b.attrs for b in buttons)
    assert not [n for n in after.select("*") if "data-needs-clearance" in n.attrs]
    assert all("data-observation" in t.attrs for t in after.select("textarea"))


def test_the_candidate_page_shows_every_phase_of_the_format(db, scene, juror):
    candidate = scene.candidate
    fmt = scene.ref.format(scene.session.format_id)
    negotiation = scene.phase("MSP-NEGOCIATION")
    db.session.add(
        ScheduleSlot(
            candidate_id=candidate.id,
            phase_id=negotiation.id,
            starts_at=dt.datetime(2026, 6, 1, 7, 30, tzinfo=dt.UTC),
            ends_at=dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC),
        )
    )
    db.session.commit()

    before = page(juror, f"/jury/candidats/{candidate.id}")
    # Nothing is scorable before the juror confirms having no link with the candidate: the
    # phase links are there for the offline cache, hidden until the juror confirms.
    assert before.by_id("confirm-no-link") is not None
    hidden_links = before.by_id("phases").select("a")
    assert len(hidden_links) == sum(1 for p in fmt.phases if p.jury_present)
    assert all("hidden" in a.attrs and "data-needs-clearance" in a.attrs for a in hidden_links)

    clear(juror, candidate.id)
    html = page(juror, f"/jury/candidats/{candidate.id}")
    assert html.by_id("confirm-no-link") is None
    rows = html.by_id("phases").select("li", cls="phase-row")
    assert [row.id for row in rows] == [f"phase-{p.id}" for p in fmt.phases]
    assert len(rows) == 13
    for phase, row in zip(fmt.phases, rows, strict=True):
        text = row.text()
        assert phase.title in text
        assert f"{phase.minutes} min · {phase.modality}" in text
        links = row.select("a")
        if phase.jury_present:
            assert "Jury présent" in text and "with-jury" in row.classes
            assert [a.attrs["href"] for a in links] == [phase_url(candidate, phase)]
        else:
            assert "Sans le jury" in text and "without-jury" in row.classes
            assert links == []
            # The written case study's works are read by the jury before the oral (RE).
            read_later = "Le jury lit ces travaux avant l'oral, sans les annoter"
            assert (read_later in text) == bool(phase.competency_ids), phase.code
        shown = [span.text().split()[0] for span in row.select("span") if span.text()[:2] == "CP"]
        assert shown == [c.code for c in scene.ref.competencies if c.id in phase.competency_ids], (
            phase.code
        )
    assert "09:30" in html.by_id(f"phase-{negotiation.id}").text()  # 07:30 UTC, Paris in June
    assert "Surveillée" in html.by_id(f"phase-{scene.phase('MSP-ECRIT').id}").text()
    grids = html.by_id("grids").select("li", cls="grid-status")
    assert [g.id for g in grids] == ["grid-MSP", "grid-ET", "grid-QP"]
    assert html.by_id("notes-disclaimer") is not None


def test_a_capitalisation_candidate_gets_the_final_interview(db, ntc, sign_in):
    """RE: capitalisation candidates have an entretien final at the end of their last CCP."""
    session = make_session(ntc, format_code="CCP2", jurors=2, candidates=1)
    holder = add_candidate(session, route=Route.CAPITALISATION, held_ccp_codes=("CCP1",))
    db.session.commit()
    client = sign_in(session.jury_members[1])
    trained = session.candidates[0]
    final = next(p for p in session.format.phases if p.capitalisation_only)

    for candidate in (trained, holder):
        clear(client, candidate.id)
    trained_page = page(client, f"/jury/candidats/{trained.id}")
    holder_page = page(client, f"/jury/candidats/{holder.id}")

    holder_rows = holder_page.by_id("phases").select("li", cls="phase-row")
    assert holder_rows[-1].id == f"phase-{final.id}"  # at the end of the session
    assert "Entretien final" in holder_rows[-1].text()
    assert "Capitalisation" in holder_rows[-1].text()
    assert trained_page.by_id(f"phase-{final.id}") is None
    assert len(holder_rows) == len(trained_page.by_id("phases").select("li", cls="phase-row")) + 1
    assert "CCP déjà acquis : CCP1 — non réévalué." in holder_page.text()
    page(client, phase_url(trained, final), status=404)
    assert page(client, phase_url(holder, final)).by_id("timer").attrs["data-minutes"] == "10"


def test_a_recused_juror_sees_the_phases_but_no_grid(db, scene, juror):
    candidate = scene.candidate
    post_op(juror, candidate.id, kind="conflict", has_conflict="1", reason="Ancien collègue")

    html = page(juror, f"/jury/candidats/{candidate.id}")

    assert "Vous avez déclaré un lien : Ancien collègue." in html.by_id("conflict").text()
    assert html.by_id("grids") is None and html.by_id("transversal-summary") is None
    assert html.by_id("phases").select("a") == []
    phase = page(juror, phase_url(candidate, scene.phase("MSP-PROSPECTION")))
    assert phase.select("li", cls="criterion") == [] and phase.select("textarea") == []


def test_an_absent_candidate_is_shown_with_nothing_to_evaluate(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    candidate.presence = Presence.ABSENT
    candidate.presence_note = "Prévenu par téléphone."
    db.session.commit()

    html = page(juror, f"/jury/candidats/{candidate.id}")
    assert "Candidat absent : rien n'est à évaluer." in html.by_id("candidate-absent").text()
    assert html.by_id("conflict") is None

    phase = page(juror, phase_url(candidate, scene.phase("MSP-PROSPECTION")))
    assert phase.by_id("candidate-absent") is not None
    assert phase.select("li", cls="criterion") == [] and phase.select("button", cls="tick") == []


# ----------------------------------------------------------------------------- phase page


def test_every_phase_page_shows_its_criteria_verbatim(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    re_text = verbatim_referential()
    fmt = scene.ref.format(scene.session.format_id)
    plan = plan_for(scene.ref, fmt, capitalisation=False)
    transversal_titles = [t.title for t in scene.ref.transversals]
    checked, shown = 0, set()

    for phase in (p for p in fmt.phases if p.jury_present):
        html = page(juror, phase_url(candidate, phase))
        assert html.select("h1")[0].text() == phase.title
        timer = html.by_id("timer")
        assert timer.attrs["data-minutes"] == str(phase.minutes)
        assert timer.select("output")[0].text() == f"{phase.minutes:02d}:00"
        competencies = plan.phase_competencies(phase)
        sections = html.select("section", cls="competency")
        assert [s.id for s in sections if s.id.startswith("comp-")] == [
            f"comp-{c.id}" for c in competencies
        ]
        for competency in competencies:
            title, criteria = re_text[competency.code]
            section = html.by_id(f"comp-{competency.id}")
            assert section.select("h2")[0].text() == f"{competency.code} {title}"
            items = section.select("ul", cls="criteria")[0].elements()
            assert [li.id for li in items] == [
                f"crit-{phase.modality}-{k.id}" for k in competency.criteria
            ]
            assert [li.select("span", cls="tick-text")[0].text() for li in items] == [
                f"{n}. {text}" for n, text in enumerate(criteria, start=1)
            ]
            assert [b.attrs["aria-pressed"] for li in items for b in li.select("button")] == [
                "false"
            ] * len(criteria)
            assert [t.text() for t in section.select("span", cls="tag")] == transversal_titles
            assert [li.id for li in section.select("li", cls="transversal")] == [
                f"tr-{t.id}-{competency.id}" for t in scene.ref.transversals
            ]
            assert section.by_id(f"obs-competency-{competency.id}") is not None
            checked += len(criteria)
            shown |= {(phase.modality, k.id) for k in competency.criteria}
        assert html.by_id(f"obs-phase-{phase.id}").tag == "textarea"
        if competencies:
            assert html.by_id(f"grid-{phase.modality}") is not None
    # MSP 12 + 12 + 9 + 18 + 20, ET 36 + 36, QP 15 + 15: a criterion can be in several phases…
    assert checked == 173
    # …and every criterion of every grid is shown in at least one phase of its modality.
    assert shown == {
        (modality, k.id)
        for modality, competencies in plan.grids.items()
        for c in competencies
        for k in c.criteria
    }
    assert len(shown) == 36 + 36 + 15


def test_a_phase_without_the_jury_has_nothing_to_score(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    written = scene.phase("MSP-ECRIT")  # evaluates CP4 and CP6, but the jury is absent

    html = page(juror, phase_url(candidate, written))

    assert (
        "Le jury n'est pas présent pendant cette phase. Il prend connaissance des travaux écrits "
        "avant l'oral, sans les annoter : les critères de CP4, CP6 se cochent dans la grille MSP, "
        "depuis les phases où le jury est présent."
    ) in html.text()
    assert html.select("li", cls="criterion") == []
    assert html.by_id("grid-MSP") is None
    assert html.by_id("timer").attrs["data-minutes"] == "240"


def test_a_phase_shows_this_jurors_own_state(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    criterion = scene.criterion("CP5", 2)
    post_op(juror, candidate.id, kind="mark", modality="MSP", criterion_id=criterion, observed=1)
    post_op(
        juror,
        candidate.id,
        kind="observation",
        phase_id=scene.phase("MSP-PROSPECTION").id,
        text="Ton <posé> & clair",
    )

    # CP5 is evaluated in two MSP phases: they share the MSP grid.
    for code in ("MSP-PROSPECTION", "MSP-NEGOCIATION"):
        html = page(juror, phase_url(candidate, scene.phase(code)))
        item = html.by_id(f"crit-MSP-{criterion}")
        assert item.select("button")[0].attrs["aria-pressed"] == "true"
        assert item.field("observed") == "0"
    prospection = page(juror, phase_url(candidate, scene.phase("MSP-PROSPECTION")))
    note = prospection.by_id(f"obs-phase-{scene.phase('MSP-PROSPECTION').id}")
    assert note.text() == "Ton <posé> & clair"
    assert "1/36 critères observés" in prospection.by_id("grid-MSP").text()
    # The ET grid has its own tick for the same criterion.
    et = page(juror, phase_url(candidate, scene.phase("ET-ECHANGE")))
    assert et.by_id(f"crit-ET-{criterion}").select("button")[0].attrs["aria-pressed"] == "false"


# ----------------------------------------------------------------------------- htmx fragments


def test_an_htmx_tick_returns_only_the_criterion(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    criterion = scene.criterion("CP3", 4)
    op_id = new_op()
    next_url = phase_url(candidate, scene.phase("MSP-PROSPECTION"))

    response = post_op(
        juror,
        candidate.id,
        op_id=op_id,
        kind="mark",
        modality="MSP",
        criterion_id=criterion,
        observed="1",
        next=next_url,
    )

    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    item = fragment_root(response.get_data(as_text=True))
    assert (item.tag, item.id, item.attrs["data-state"]) == ("li", f"crit-MSP-{criterion}", "saved")
    assert item.select("button")[0].attrs["aria-pressed"] == "true"
    # The next tap is a new operation that removes the tick, back to the same page.
    assert item.field("observed") == "0"
    assert item.field("op_id") != op_id and uuid.UUID(item.field("op_id"))
    assert item.field("next") == next_url
    assert db.session.execute(select(Mark.observed)).scalar_one() is True
    assert count(db, AppliedOperation, op_id=op_id) == 1

    untick = post_op(
        juror, candidate.id, kind="mark", modality="MSP", criterion_id=criterion, observed="0"
    )
    assert untick.status_code == 200
    assert (
        fragment_root(untick.get_data(as_text=True)).select("button")[0].attrs["aria-pressed"]
        == "false"
    )
    db.session.expire_all()
    assert db.session.execute(select(Mark.observed)).scalar_one() is False

    replay = post_op(
        juror,
        candidate.id,
        op_id=op_id,
        kind="mark",
        modality="MSP",
        criterion_id=criterion,
        observed="1",
    )
    assert replay.status_code == 200  # acknowledged, not applied again
    db.session.expire_all()
    assert db.session.execute(select(Mark.observed)).scalar_one() is False


def test_a_refused_htmx_tick_is_422_with_the_reason_in_the_fragment(db, scene, juror):
    candidate = scene.candidate
    criterion = scene.criterion("CP3")

    response = post_op(
        juror, candidate.id, kind="mark", modality="MSP", criterion_id=criterion, observed="1"
    )

    assert response.status_code == 422
    item = fragment_root(response.get_data(as_text=True))
    assert (item.id, item.attrs["data-state"]) == (f"crit-MSP-{criterion}", "error")
    [alert] = item.select("p", role="alert")
    assert alert.text() == "Confirmez d'abord que vous n'avez aucun lien avec ce candidat."
    assert item.select("button")[0].attrs["aria-pressed"] == "false"
    assert count(db, Mark) == 0


def test_a_tick_in_a_completed_grid_is_refused(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    done = post_op(juror, candidate.id, kind="grid", modality="MSP", completed="1")
    assert done.status_code == 200

    criterion = scene.criterion("CP7")
    response = post_op(
        juror, candidate.id, kind="mark", modality="MSP", criterion_id=criterion, observed="1"
    )

    assert response.status_code == 422
    item = fragment_root(response.get_data(as_text=True))
    assert "Grille terminée : rouvrez-la pour la modifier." in item.text()
    assert "disabled" in item.select("button")[0].attrs
    assert count(db, Mark) == 0


def test_a_refused_tick_tells_the_phone_the_grid_is_complete_also_on_replay(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    post_op(juror, candidate.id, kind="grid", modality="MSP", completed="1")
    tick = {
        "op_id": new_op(),
        "kind": "mark",
        "payload": {
            "candidate_id": candidate.id,
            "modality": "MSP",
            "criterion_id": scene.criterion("CP7"),
            "observed": True,
        },
    }
    expected = {
        "op_id": tick["op_id"],
        "status": "refused",
        "message": "Grille terminée : rouvrez-la pour la modifier.",
        "result": {"grid": {"modality": "MSP", "completed": True}},
    }

    for _attempt in range(2):  # the second time, the stored answer is replayed
        answer = juror.post("/jury/operations", json={"operations": [tick]}).get_json()
        assert answer["results"] == [expected]
    assert count(db, Mark) == 0


def test_a_locked_session_answers_409(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    scene.session.locked_at = utcnow()
    scene.session.state = SessionState.CLOSED
    db.session.commit()
    criterion = scene.criterion("CP3")
    phase = scene.phase("MSP-PROSPECTION")

    tick = post_op(
        juror, candidate.id, kind="mark", modality="MSP", criterion_id=criterion, observed="1"
    )
    note = post_op(juror, candidate.id, kind="observation", phase_id=phase.id, text="Après")
    grid = post_op(juror, candidate.id, kind="grid", modality="MSP", completed="1")

    assert [r.status_code for r in (tick, note, grid)] == [409, 409, 409]
    assert fragment_root(tick.get_data(as_text=True)).id == f"crit-MSP-{criterion}"
    status = fragment_root(note.get_data(as_text=True))
    assert (status.id, status.attrs["data-state"]) == (f"obs-phase-{phase.id}-status", "error")
    assert "verrouillée" in status.text()
    assert fragment_root(grid.get_data(as_text=True)).id == "grid-MSP"
    assert count(db, Mark) == count(db, Observation) == count(db, GridCompletion) == 0
    # The pages stay readable, with nothing left to press.
    html = page(juror, phase_url(candidate, phase))
    assert all("disabled" in b.attrs for b in html.select("button", cls="tick"))
    assert "readonly" in html.by_id(f"obs-phase-{phase.id}").attrs


LOCKED_NOTICE = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)
NOT_EVALUATED = (
    "Vous n'avez pas confirmé l'absence de lien avec ce candidat : vous ne l'avez pas évalué."
)


def lock(db, session) -> None:
    """What the last signature does to the session (deliberation/operations.py `_lock`)."""
    session.locked_at = utcnow()
    session.state = SessionState.CLOSED
    db.session.commit()


def operation_forms(html: Node) -> list[Node]:
    return [f for f in html.select("form") if "data-operation" in f.attrs]


def assert_says_locked(html: Node) -> None:
    assert "data-session-locked" in html.select("body")[0].attrs
    notice = html.by_id("session-locked")
    assert "hidden" not in notice.attrs
    assert LOCKED_NOTICE in notice.text()
    # Nothing on the page polls: no htmx trigger, and nothing left to send.
    assert [n for n in html.walk() if "hx-trigger" in n.attrs] == []
    assert operation_forms(html) == []
    assert html.select("button", cls="tick") == []


def test_before_the_lock_the_locked_notice_is_hidden(db, scene, juror):
    html = page(juror, phase_url(scene.candidate, scene.phase("MSP-PROSPECTION")))

    assert "data-session-locked" not in html.select("body")[0].attrs
    assert "hidden" in html.by_id("session-locked").attrs
    assert html.by_id("timer") is not None


def test_a_locked_sessions_phase_page_says_so_and_shows_the_ticks_read_only(db, scene, juror):
    candidate = scene.candidate
    phase = scene.phase("MSP-PROSPECTION")
    clear(juror, candidate.id)
    ticked, unticked = scene.criterion("CP3", 1), scene.criterion("CP3", 2)
    cp3 = scene.competency("CP3")
    transversal = cp3.transversal_ids[0]
    post_op(juror, candidate.id, kind="mark", modality="MSP", criterion_id=ticked, observed=1)
    post_op(
        juror,
        candidate.id,
        kind="transversal",
        transversal_id=transversal,
        competency_id=cp3.id,
        observed=1,
    )
    post_op(juror, candidate.id, kind="observation", phase_id=phase.id, text="Écoute active")
    post_op(juror, candidate.id, kind="grid", modality="MSP", completed="1")
    lock(db, scene.session)

    html = page(juror, phase_url(candidate, phase))

    assert_says_locked(html)
    shown = {
        criterion: html.by_id(f"crit-MSP-{criterion}").select("p", cls="tick-readonly")[0]
        for criterion in (ticked, unticked)
    }
    assert shown[ticked].attrs["data-observed"] == "true"
    assert shown[ticked].text().endswith("— observé")
    assert shown[unticked].attrs["data-observed"] == "false"
    assert shown[unticked].text().endswith("— non observé")
    carried = html.by_id(f"tr-{transversal}-{cp3.id}").select("p", cls="tick-readonly")[0]
    assert carried.attrs["data-observed"] == "true"
    note = html.by_id(f"obs-phase-{phase.id}")
    assert (note.tag, note.text()) == ("textarea", "Écoute active")
    assert "readonly" in note.attrs and "name" not in note.attrs
    # The grid is shown done, with nothing to reopen; no timer is left to run.
    grid = html.by_id("grid-MSP")
    assert "finished" in grid.classes and grid.select("button") == []
    assert html.by_id("grid-MSP-done") is None
    assert html.by_id("timer") is None
    assert not any("timer.js" in (s.attrs.get("src") or "") for s in html.select("script"))
    # Signing out is still possible.
    assert html.by_id("sign-out-form") is not None


def test_a_locked_sessions_candidate_page_and_home_say_so(db, scene, juror):
    candidate, unseen = scene.session.candidates
    clear(juror, candidate.id)
    post_op(juror, candidate.id, kind="grid", modality="MSP", completed="1")
    lock(db, scene.session)

    for url in ("/jury/", f"/jury/candidats/{candidate.id}"):
        assert_says_locked(page(juror, url))
    html = page(juror, f"/jury/candidats/{candidate.id}")
    declared = html.by_id("conflict").text()
    assert "Vous avez confirmé n'avoir aucun lien avec ce candidat." in declared
    assert html.by_id("grid-MSP").select("form") == []
    assert "Grille terminée" in html.by_id("grid-MSP").text()
    # A candidate this juror never cleared: nothing invites to confirm any more.
    never = page(juror, f"/jury/candidats/{unseen.id}")
    assert_says_locked(never)
    conflict = never.by_id("conflict")
    assert conflict.text() == f"Lien avec le candidat {NOT_EVALUATED}"
    assert conflict.select("button") == []
    phase = page(juror, phase_url(unseen, scene.phase("MSP-PROSPECTION")))
    assert_says_locked(phase)
    assert phase.by_id("not-evaluated").text() == NOT_EVALUATED
    assert "Confirmez d'abord" not in phase.text()


def test_the_batch_answer_tells_a_phone_whether_the_session_is_locked(db, scene, juror):
    heartbeat = {"operations": [], "pending": 0}
    assert juror.post("/jury/operations", json=heartbeat).get_json()["locked"] is False

    lock(db, scene.session)
    answer = juror.post("/jury/operations", json=heartbeat)

    assert answer.status_code == 200
    assert answer.get_json() == {"results": [], "locked": True}


def test_a_juror_asks_whether_the_session_is_still_locked_without_writing(db, scene, juror):
    assert juror.get("/jury/session/etat").get_json() == {"locked": False}
    lock(db, scene.session)
    events, sync = count(db, AuditEvent), scene.juror.last_sync_at

    answer = juror.get("/jury/session/etat")

    assert answer.status_code == 200 and answer.get_json() == {"locked": True}
    db.session.expire_all()
    assert (count(db, AuditEvent), scene.juror.last_sync_at) == (events, sync)


def test_only_a_signed_in_juror_asks_for_the_session_state(app):
    answer = app.test_client().get("/jury/session/etat")
    assert answer.status_code in (302, 401)


def test_an_htmx_grid_completion_and_its_undo(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)

    done = post_op(juror, candidate.id, kind="grid", modality="QP", completed="1")
    assert done.status_code == 200
    item = fragment_root(done.get_data(as_text=True))
    assert item.id == "grid-QP" and "finished" in item.classes
    assert "Grille terminée" in item.text()
    assert item.field("completed") == "0"
    assert item.select("button")[0].text() == "Rouvrir la grille QP"
    assert count(db, GridCompletion) == 1

    undone = post_op(juror, candidate.id, kind="grid", modality="QP", completed="0")
    assert undone.status_code == 200
    item = fragment_root(undone.get_data(as_text=True))
    assert item.id == "grid-QP" and "finished" not in item.classes
    assert item.select("button")[0].text() == "Terminer la grille QP"
    assert count(db, GridCompletion) == 0


def test_an_htmx_observation_answers_with_its_status_line(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    phase = scene.phase("ET-ECHANGE")

    saved = post_op(juror, candidate.id, kind="observation", phase_id=phase.id, text="Clair")
    assert saved.status_code == 200
    status = fragment_root(saved.get_data(as_text=True))
    assert (status.tag, status.id, status.attrs["role"]) == (
        "p",
        f"obs-phase-{phase.id}-status",
        "status",
    )
    assert (status.attrs["data-state"], status.text()) == ("saved", "Observation enregistrée")
    post_op(juror, candidate.id, kind="observation", phase_id=phase.id, text="Clair et précis")
    assert db.session.execute(select(Observation.text)).scalar_one() == "Clair et précis"

    too_long = post_op(
        juror,
        candidate.id,
        kind="observation",
        phase_id=phase.id,
        text="x" * (operations.OBSERVATION_MAX + 1),
    )
    assert too_long.status_code == 422
    status = fragment_root(too_long.get_data(as_text=True))
    assert status.attrs["data-state"] == "error"
    assert status.text() == "Observation trop longue (10000 caractères au plus)."
    db.session.expire_all()
    assert db.session.execute(select(Observation.text)).scalar_one() == "Clair et précis"

    cp7 = scene.competency("CP7").id
    by_competency = post_op(
        juror, candidate.id, kind="observation", competency_id=cp7, text="Bon argumentaire"
    )
    assert fragment_root(by_competency.get_data(as_text=True)).id == f"obs-competency-{cp7}-status"


def test_an_htmx_transversal_tick_returns_its_toggle(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    ct4, cp8 = scene.transversal("CT4"), scene.competency("CP8").id

    response = post_op(
        juror,
        candidate.id,
        kind="transversal",
        transversal_id=ct4,
        competency_id=cp8,
        observed="1",
    )

    assert response.status_code == 200
    item = fragment_root(response.get_data(as_text=True))
    assert item.id == f"tr-{ct4}-{cp8}"
    assert item.select("button")[0].attrs["aria-pressed"] == "true"
    assert db.session.execute(
        select(TransversalMark.transversal_id, TransversalMark.competency_id)
    ).one() == (ct4, cp8)
    summary = page(juror, f"/jury/candidats/{candidate.id}").by_id("transversal-summary")
    counts = [li.text() for li in summary.select("li")]
    assert counts[3] == "Evaluer ses actions — observée au travers de 1 compétence"
    assert counts[0] == "Communiquer — observée au travers de 0 compétence"
    # Back on the phase, the competency's transversal ticks are open, with their count.
    phase = page(juror, phase_url(candidate, scene.phase("MSP-COMPTE-RENDU")))
    opened = [d for d in phase.select("details") if "open" in d.attrs]
    assert len(opened) == 1
    assert opened[0].select("summary")[0].text().endswith("(1)")


# ----------------------------------------------------------------------------- plain forms


def test_a_plain_form_post_redirects_with_a_flash(db, scene, juror):
    candidate = scene.candidate
    confirmed = post_op(juror, candidate.id, htmx=False, kind="conflict", has_conflict="0")
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == f"/jury/candidats/{candidate.id}"
    assert count(db, ConflictDeclaration) == 1
    shown = page(juror, confirmed.headers["Location"])
    assert [p.text() for p in shown.select("p", cls="flash")] == ["Enregistré."]

    phase_path = phase_url(candidate, scene.phase("MSP-PROSPECTION"))
    criterion = scene.criterion("CP3", 2)
    ticked = post_op(
        juror,
        candidate.id,
        htmx=False,
        kind="mark",
        modality="MSP",
        criterion_id=criterion,
        observed="1",
        next=phase_path,
    )
    assert ticked.status_code == 303
    assert ticked.headers["Location"] == phase_path
    html = page(juror, phase_path)
    assert [p.text() for p in html.select("p", cls="flash")] == ["Enregistré."]
    item = html.by_id(f"crit-MSP-{criterion}")
    assert item.select("button")[0].attrs["aria-pressed"] == "true"
    assert count(db, Mark) == 1

    refused = post_op(
        juror,
        candidate.id,
        htmx=False,
        kind="mark",
        modality="MSP",
        criterion_id=scene.criterion("CP1"),
        observed="1",
        next=phase_path,
    )
    assert refused.status_code == 303
    flashes = page(juror, phase_path).select("p", cls="flash-error")
    assert [p.text() for p in flashes] == ["Ce critère n'est pas évalué dans cette modalité."]
    assert count(db, Mark) == 1


@pytest.mark.parametrize(
    "target", ["https://ailleurs.example/", "//ailleurs.example/x", "/\\ailleurs.example", ""]
)
def test_a_plain_form_post_never_redirects_off_site(db, scene, juror, target):
    candidate = scene.candidate
    response = post_op(
        juror, candidate.id, htmx=False, kind="conflict", has_conflict="0", next=target
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/jury/candidats/{candidate.id}"


def test_a_form_without_an_operation_id_still_works_once(db, scene, juror):
    candidate = scene.candidate
    response = juror.post(
        f"/jury/candidats/{candidate.id}/operation",
        data={"kind": "conflict", "has_conflict": "0"},
        headers=HTMX,
    )
    assert response.status_code == 200
    [stored] = db.session.execute(select(AppliedOperation)).scalars()
    assert uuid.UUID(stored.op_id) and stored.kind == "conflict"


# ----------------------------------------------------------------------------- JSON batch


def test_the_batch_endpoint_applies_and_answers_in_order(db, scene, juror):
    candidate = scene.candidate
    clear(juror, candidate.id)
    criterion = scene.criterion("CP6", 3)
    tick_id = new_op()
    mark = {"candidate_id": candidate.id, "modality": "ET", "criterion_id": criterion}
    body = {
        "pending": 2,
        "operations": [
            {"op_id": tick_id, "kind": "mark", "payload": {**mark, "observed": True}},
            {"op_id": tick_id, "kind": "mark", "payload": {**mark, "observed": False}},
            {
                "op_id": new_op(),
                "kind": "grid",
                "payload": {"candidate_id": candidate.id, "modality": "EF", "completed": True},
            },
        ],
    }

    response = juror.post("/jury/operations", json=body)

    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["op_id"], r["status"], r["message"]) for r in results] == [
        (tick_id, "applied", ""),
        (tick_id, "already_applied", ""),
        (body["operations"][2]["op_id"], "refused", "Modalité inconnue pour ce candidat."),
    ]
    assert results[0]["result"] == {"criterion_id": criterion, "modality": "ET", "observed": True}
    assert db.session.execute(select(Mark.observed)).scalar_one() is True
    db.session.expire_all()
    assert scene.juror.device_pending == 2 and scene.juror.last_sync_at is not None


@pytest.mark.parametrize(
    "body",
    [
        {"data": "pas du JSON", "content_type": "application/json"},
        {"data": '{"operations": ', "content_type": "application/json"},
        {"json": ["liste"]},
        {"json": {"operations": "une chaîne"}},
        {"json": {"ops": []}},
        {"data": "operations=1", "content_type": "application/x-www-form-urlencoded"},
    ],
    ids=["text", "truncated", "list", "not-a-list", "no-operations", "form"],
)
def test_the_batch_endpoint_refuses_a_bad_body(db, scene, juror, body):
    response = juror.post("/jury/operations", **body)
    assert response.status_code == 400
    assert "operations" in response.get_json()["error"]
    assert count(db, AppliedOperation) == 0


def test_the_batch_endpoint_refuses_too_many_operations_at_once(db, scene, juror):
    clear(juror, scene.candidate.id)
    item = {
        "kind": "mark",
        "payload": {
            "candidate_id": scene.candidate.id,
            "modality": "MSP",
            "criterion_id": scene.criterion("CP3"),
        },
    }
    too_many = [{**item, "op_id": new_op()} for _ in range(operations.BATCH_MAX + 1)]

    response = juror.post("/jury/operations", json={"operations": too_many})

    assert response.status_code == 413
    assert response.get_json()["error"] == "Trop d'opérations dans un seul envoi."
    assert count(db, AppliedOperation) == 1 and count(db, Mark) == 0  # only the clearance
    accepted = juror.post("/jury/operations", json={"operations": too_many[:-1]})
    assert accepted.status_code == 200
    assert len(accepted.get_json()["results"]) == operations.BATCH_MAX


# ----------------------------------------------------------------------------- independence


def test_a_juror_never_sees_another_jurors_ticks_or_notes(db, scene, sign_in):
    candidate = scene.candidate
    a, b = sign_in(scene.juror), sign_in(scene.other)
    secret_phase, secret_comp = f"NOTE-A-{uuid.uuid4().hex}", f"COMP-A-{uuid.uuid4().hex}"
    prospection, negotiation = scene.phase("MSP-PROSPECTION"), scene.phase("MSP-NEGOCIATION")
    clear(a, candidate.id)
    ticked = [scene.criterion("CP3", 1), scene.criterion("CP5", 2), scene.criterion("CP7", 1)]
    for criterion in ticked:
        post_op(a, candidate.id, kind="mark", modality="MSP", criterion_id=criterion, observed=1)
    post_op(
        a,
        candidate.id,
        kind="transversal",
        transversal_id=scene.transversal("CT1"),
        competency_id=scene.competency("CP3").id,
        observed=1,
    )
    post_op(a, candidate.id, kind="observation", phase_id=prospection.id, text=secret_phase)
    post_op(
        a,
        candidate.id,
        kind="observation",
        competency_id=scene.competency("CP5").id,
        text=secret_comp,
    )
    post_op(a, candidate.id, kind="grid", modality="QP", completed=1)
    assert count(db, Mark) == 3 and count(db, Observation) == 2
    clear(b, candidate.id)

    def rendered(client) -> str:
        urls = ["/jury/", f"/jury/candidats/{candidate.id}"] + [
            phase_url(candidate, p) for p in (prospection, negotiation)
        ]
        return "\n".join(client.get(url).get_data(as_text=True) for url in urls)

    seen_by_a, seen_by_b = rendered(a), rendered(b)

    # The check would catch a leak: A's own pages carry all of it.
    assert secret_phase in seen_by_a and secret_comp in seen_by_a
    assert (
        "Grilles 1/3" in seen_by_a
        and "Communiquer — observée au travers de 1 compétence" in seen_by_a
    )
    assert secret_phase not in seen_by_b and secret_comp not in seen_by_b
    assert "Grilles 0/3" in seen_by_b and "Grilles 1/3" not in seen_by_b
    assert "Communiquer — observée au travers de 0 compétence" in seen_by_b  # "compétence(s)"
    for url in (f"/jury/candidats/{candidate.id}", phase_url(candidate, negotiation)):
        # The "Grille terminée" badge and flash are always there for the outbox: hidden here.
        html = page(b, url)
        done = html.select("span", cls="badge-ok") + html.select("div", cls="flash-success")
        assert done and all("hidden" in n.attrs for n in done)
    for url in (phase_url(candidate, prospection), phase_url(candidate, negotiation)):
        html = page(b, url)
        pressed = [b_.attrs["aria-pressed"] for b_ in html.select("button", cls="tick")]
        assert pressed and set(pressed) == {"false"}
        assert all(t.text() == "" for t in html.select("textarea"))
        assert "0/36 critères observés" in html.by_id("grid-MSP").text()
    assert f"crit-MSP-{ticked[0]}" in seen_by_b  # the same criteria are there, unticked


# ----------------------------------------------------------------------------- scoping


def test_a_juror_cannot_open_another_sessions_candidate_or_a_foreign_phase(db, ntc, scene, juror):
    elsewhere = make_session(ntc, format_code="CCP1", jurors=2, candidates=1)
    db.session.commit()
    stranger = elsewhere.candidates[0]
    mine = scene.candidate
    title_phase = scene.phase("MSP-PROSPECTION")
    ccp1_phase = scene.phase("MSP-PROSPECTION", session=elsewhere)
    assert ccp1_phase.id != title_phase.id

    page(juror, f"/jury/candidats/{stranger.id}", status=404)
    page(juror, phase_url(stranger, ccp1_phase), status=404)
    page(juror, phase_url(stranger, title_phase), status=404)
    page(juror, f"/jury/candidats/{mine.id}/phases/{ccp1_phase.id}", status=404)
    page(juror, f"/jury/candidats/{mine.id}/phases/999999", status=404)
    page(juror, "/jury/candidats/999999", status=404)

    response = post_op(juror, stranger.id, kind="conflict", has_conflict="0")
    assert response.status_code == 404
    assert count(db, ConflictDeclaration) == 0
    home = page(juror, "/jury/")
    assert home.by_id(f"candidate-{stranger.id}") is None


def test_the_jurors_pages_say_who_and_what_in_plain_french(db, scene, sign_in):
    """The chair, the transversal competencies, the header's words: French, singular or plural."""
    session = scene.session
    chair = next(m for m in session.jury_members if m.is_chair)
    home = page(sign_in(chair), "/jury/")
    assert f"{chair.full_name} (président(e) du jury)" in home.text()

    client = sign_in(scene.juror)
    candidate = scene.candidate
    clear(client, candidate.id)
    html = page(client, phase_url(candidate, scene.phase("MSP-NEGOCIATION")))
    tags = html.select("p", cls="transversal-tags")[0]
    assert tags.text().startswith("Compétences transversales associées : ")
    # A screen reader hears the tags apart: a separator between each two.
    titles = [t.text() for t in tags.select("span", cls="tag")]
    assert len(titles) >= 2
    separators = [n.text() for n in tags.select("span", cls="visually-hidden")]
    assert separators == [","] * (len(titles) - 1)
    words = {
        t.attrs["data-word"]: t.text() for t in html.select("template") if "data-word" in t.attrs
    }
    assert words["signOutPending:one"].startswith("%n saisie n'est pas encore envoyée")
    assert words["signOutPending:other"].startswith("%n saisies ne sont pas encore envoyées")
    assert words["noteOffline"] == "En attente du réseau"
    grid = html.by_id("grid-MSP").select("button")[0]
    assert grid.text() == "Terminer la grille MSP"

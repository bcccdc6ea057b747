"""The deliberation pages through the test client, each juror signed in with link and PIN.

Pages are asserted on their parsed HTML and on the database they changed; setup writes go
through the app's operations and are committed before the first request.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from ntc_jury.assets import SHELL, asset_url
from ntc_jury.core.vocabulary import Presence, Route, SessionState
from ntc_jury.extensions import db
from ntc_jury.models import (
    AuditEvent,
    CcpDecision,
    CompetencyDecision,
    Deliberation,
    ExamSession,
    Mark,
    Signature,
)
from tests.auth import fresh_client, page_text
from tests.factories import add_candidate, issue_access, make_staff, sign_in_staff
from tests.jury.markup import Node, fragment_root, parse

from .conftest import REASON, Jury, count, make_jury

HTMX = {"HX-Request": "true"}
DDETS = "sous réserve de validation par la DDETS"
LOCK_MESSAGE = (
    "La session est verrouillée : toutes les signatures sont recueillies. Le président du jury "
    "peut rouvrir la délibération pour une correction."
)
JUROR_LOCKED = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)
STATIC = Path(__file__).resolve().parents[2] / "ntc_jury" / "static"


@contextmanager
def acting(app):
    """Operations inside a request context, committed so the test client's requests see them."""
    with app.test_request_context("/"):
        yield
        db.session.commit()


def page(client, url: str, status: int = 200) -> Node:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return parse(response.get_data(as_text=True))


def text_of(response) -> str:
    return " ".join(page_text(response).split())


def board_url(candidate) -> str:
    return f"/jury/deliberation/candidats/{candidate.id}"


def post_decision(client, candidate, *, htmx: bool = True, **fields):
    return client.post(
        f"{board_url(candidate)}/decision",
        data={k: str(v) for k, v in fields.items()},
        headers=HTMX if htmx else {},
    )


def member_disagrees_on_cp3_2(juror, code, position) -> bool:
    return juror.is_chair or (code, position) != ("CP3", 2)


def transversal_of_cp3(jury: Jury):
    cp3 = jury.competency("CP3")
    return next(t for t in jury.ref.transversals if cp3.id in t.competency_ids)


@pytest.fixture
def jury(app, ntc, db) -> Jury:
    """CCP1 session, chair + member, one candidate scored; the member did not see CP3 n°2."""
    jury = make_jury(ntc, format_code="CCP1", candidates=1)
    candidate = jury.candidates[0]
    with acting(app):
        jury.score(candidate, observed=member_disagrees_on_cp3_2)
        cp3 = jury.competency("CP3")
        phase = next(p for p in jury.plan(candidate).phases if p.code == "MSP-PROSPECTION")
        jury.applied(
            jury.chair,
            "observation",
            candidate,
            competency_id=cp3.id,
            text="Questionnement précis, reformulation soignée.",
        )
        jury.applied(
            jury.member,
            "observation",
            candidate,
            competency_id=cp3.id,
            text="Découverte des besoins un peu rapide.",
        )
        jury.applied(
            jury.member,
            "observation",
            candidate,
            phase_id=phase.id,
            text="Bonne gestion du temps de la prospection.",
        )
        for juror in jury.jurors:
            jury.applied(
                juror,
                "transversal",
                candidate,
                transversal_id=transversal_of_cp3(jury).id,
                competency_id=cp3.id,
                observed=True,
            )
    return jury


@pytest.fixture
def opened(app, jury) -> Jury:
    with acting(app):
        jury.open()
    return jury


# ----------------------------------------------------------------------------- before opening


def test_before_opening_a_member_sees_nobody_elses_work(jury, sign_in):
    member = sign_in(jury.member)
    candidate = jury.candidates[0]

    for url in (
        board_url(candidate),
        f"{board_url(candidate)}/synthese",
        f"{board_url(candidate)}/decisions",
        "/jury/deliberation/synthese",
    ):
        response = member.get(url)
        assert response.status_code == 403, url
        assert "Découverte des besoins" not in page_text(response)
    # The overview says it is not open yet and polls until it is; it reveals nothing.
    for url in ("/jury/deliberation/", "/jury/deliberation/etat"):
        response = member.get(url)
        assert response.status_code == 200
        body = page_text(response)
        assert "La délibération n'est pas encore ouverte." in body
        assert candidate.last_name not in body and "Questionnement" not in body
    waiting = fragment_root(member.get("/jury/deliberation/etat").get_data(as_text=True))
    assert waiting.id == "deliberation-live"
    assert waiting.attrs["hx-get"] == "/jury/deliberation/etat"
    assert waiting.attrs["hx-trigger"].startswith("every ")


def test_a_member_cannot_open_the_deliberation(jury, sign_in):
    member = sign_in(jury.member)

    assert member.post("/jury/deliberation/ouvrir", data={"acknowledge": "y"}).status_code == 403
    db.session.expire_all()
    assert count(Deliberation) == 0
    assert db.session.get(ExamSession, jury.session.id).state == SessionState.PLANNED


def test_the_chair_sees_missing_grids_and_pending_devices(app, ntc, sign_in):
    jury = make_jury(ntc, format_code="CCP1", candidates=1)
    candidate = jury.candidates[0]
    with acting(app):
        jury.score(candidate, jurors=[jury.chair])
        jury.score(candidate, jurors=[jury.member], complete=False)
        jury.member.device_pending = 2
    chair = sign_in(jury.chair)

    document = page(chair, "/jury/deliberation/")

    missing = [li.text() for li in document.by_id("missing-grids").select("li")]
    assert missing == [
        f"{candidate.full_name} — {jury.member.full_name} — {modality}"
        for modality in jury.plan(candidate).grids
    ]
    [pending] = document.by_id("pending-jurors").select("li")
    assert pending.text() == (
        f"{jury.member.full_name} : 2 opérations en attente sur son téléphone"
    )
    form = document.by_id("open-form")
    assert form.select("input", type="checkbox", name_="acknowledge")

    # Without the box ticked the opening is refused, with it the deliberation opens.
    response = chair.post("/jury/deliberation/ouvrir", data={}, follow_redirects=True)
    assert "cochez la case pour ouvrir quand même" in page_text(response)
    assert count(Deliberation) == 0
    chair.post("/jury/deliberation/ouvrir", data={"acknowledge": "y"})
    db.session.expire_all()
    [deliberation] = db.session.execute(select(Deliberation)).scalars()
    assert deliberation.incomplete_grids_acknowledged is True
    assert db.session.get(ExamSession, jury.session.id).state == SessionState.DELIBERATION


# ----------------------------------------------------------------------------- the board


def cp3_table(document: Node, jury: Jury) -> Node:
    section = document.by_id(f"board-comp-{jury.competency('CP3').id}")
    [table] = section.select("table", cls="matrix")
    return table


def test_after_opening_every_juror_sees_every_jurors_ticks(opened, sign_in):
    jury = opened
    candidate = jury.candidates[0]
    cp3 = jury.competency("CP3")
    chair, member = jury.chair, jury.member

    for client in (sign_in(chair), sign_in(member)):
        document = page(client, board_url(candidate))
        # Competencies with a disagreement come first.
        sections = [s for s in document.select("section", cls="board")]
        assert sections[0].id == f"board-comp-{cp3.id}"

        table = cp3_table(document, jury)
        headers = [
            th.select("abbr")[0].attrs["title"]
            for th in table.select("th")[1:-1]
            if th.select("abbr")
        ]
        assert headers == [
            f"{chair.full_name} — MSP",
            f"{member.full_name} — MSP",
            f"{chair.full_name} — ET",
            f"{member.full_name} — ET",
        ]
        rows = table.select("tbody")[0].select("tr")
        # The disagreeing criterion is the first row, highlighted; then the others in order.
        assert "disagree" in rows[0].classes
        assert rows[0].select("th")[0].text().startswith(f"2. {cp3.criteria[1].text}")
        assert [r.select("th")[0].text().split(".")[0] for r in rows] == [
            "2",
            "1",
            "3",
            "4",
            "5",
            "6",
        ]
        cells = rows[0].select("td")
        assert [c.classes - {"vote"} for c in cells[:4]] == [{"yes"}, {"no"}, {"no"}, {"no"}]
        assert [c.select("span")[0].text() for c in cells[:4]] == ["✓", "✗", "✗", "✗"]
        assert cells[4].text() == "non observé"
        agreed = rows[1].select("td")
        assert [c.classes - {"vote"} for c in agreed[:4]] == [{"yes"}, {"yes"}, {"no"}, {"no"}]
        assert "disagree" not in rows[1].classes

        section = document.by_id(f"board-comp-{cp3.id}")
        [trace] = section.select("p", cls="trace")
        assert trace.text().startswith("5/6 critères observés ; critère 2 :")
        assert f"{chair.full_name} oui" in trace.text()
        assert f"{member.full_name} non" in trace.text()
        assert "à débattre" in section.text()
        # Both jurors' observations, by name.
        notes = [li.text() for li in section.select("ul", cls="notes")[0].select("li")]
        assert notes == [
            f"{chair.full_name} : Questionnement précis, reformulation soignée.",
            f"{member.full_name} : Découverte des besoins un peu rapide.",
        ]
        transversal = transversal_of_cp3(jury)
        assert f"{transversal.title} — {chair.full_name} : 1 · {member.full_name} : 1" in [
            li.text() for li in document.by_id("board-transversal").select("li")
        ]
        phase_notes = document.by_id("board-phase-notes").text()
        assert f"{member.full_name} : Bonne gestion du temps de la prospection." in phase_notes
        assert DDETS in document.text()


def test_only_the_chair_gets_decision_forms(opened, sign_in):
    candidate = opened.candidates[0]

    chair_page = page(sign_in(opened.chair), board_url(candidate))
    member_page = page(sign_in(opened.member), board_url(candidate))

    # CPs, CCP1, presence, incidents
    assert len(chair_page.select("form", cls="decision-form")) == 4 + 1 + 1 + 1
    assert member_page.select("form", cls="decision-form") == []
    polled = member_page.by_id("candidate-decisions")
    assert polled.attrs["hx-get"] == f"{board_url(candidate)}/decisions"


def test_every_result_page_says_it_awaits_the_ddets(opened, sign_in):
    candidate = opened.candidates[0]
    for juror in (opened.chair, opened.member):
        client = sign_in(juror)
        for url in (
            "/jury/deliberation/",
            "/jury/deliberation/etat",
            board_url(candidate),
            f"{board_url(candidate)}/synthese",
            "/jury/deliberation/synthese",
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            assert f"Résultats provisoires, {DDETS}." in text_of(response), url


def test_the_members_polled_fragments_follow_the_chairs_decisions(opened, sign_in):
    candidate = opened.candidates[0]
    cp3, cp4 = opened.competency("CP3"), opened.competency("CP4")
    chair, member = sign_in(opened.chair), sign_in(opened.member)
    status = member.get("/jury/deliberation/etat")
    assert fragment_root(status.get_data(as_text=True)).id == "deliberation-live"
    assert "0/5 décisions" in text_of(status)
    assert "5 décisions restent à saisir avant les signatures." in text_of(status)

    saved = post_decision(
        chair, candidate, level="competency", subject_id=cp3.id, outcome="mastered", reason=""
    )
    assert saved.status_code == 200
    assert fragment_root(saved.get_data(as_text=True)).id == "candidate-decisions"
    post_decision(
        chair,
        candidate,
        level="competency",
        subject_id=cp4.id,
        outcome="not_mastered",
        reason="Argumentation insuffisante.",
    )

    assert "2/5 décisions" in text_of(member.get("/jury/deliberation/etat"))
    fragment = member.get(f"{board_url(candidate)}/decisions")
    root = fragment_root(fragment.get_data(as_text=True))
    assert root.id == "candidate-decisions"
    items = [li.text() for li in root.select("li")]
    assert f"{cp3.code} — Maîtrisée" in items
    assert f"{cp4.code} — Non maîtrisée : Argumentation insuffisante." in items
    assert "CCP1 — en attente" in items
    stored = {
        d.competency_id: d.outcome.value
        for d in db.session.execute(select(CompetencyDecision)).scalars()
    }
    assert stored == {cp3.id: "mastered", cp4.id: "not_mastered"}


def test_a_refused_decision_answers_with_the_french_reason(opened, sign_in):
    candidate = opened.candidates[0]
    cp3 = opened.competency("CP3")
    chair = sign_in(opened.chair)

    response = post_decision(
        chair, candidate, level="competency", subject_id=cp3.id, outcome="not_mastered", reason=""
    )
    assert response.status_code == 422
    alert = fragment_root(response.get_data(as_text=True))
    assert alert.attrs["role"] == "alert"
    assert alert.text() == "Une décision négative doit être motivée."

    def post_plainly(outcome: str, reason: str):
        return post_decision(
            chair,
            candidate,
            htmx=False,
            level="competency",
            subject_id=cp3.id,
            outcome=outcome,
            reason=reason,
            anchor=f"board-comp-{cp3.id}",
        )

    # The plain form POST gets the board again, the message next to the refused form, with
    # what the chair chose and wrote kept; the other forms are as they were.
    response = post_plainly("not_mastered", "")
    assert response.status_code == 422
    board = parse(response.get_data(as_text=True))
    section = board.by_id(f"board-comp-{cp3.id}")
    [error] = section.select("p", cls="field-error")
    assert (error.attrs["role"], error.text()) == (
        "alert",
        "Une décision négative doit être motivée.",
    )
    [checked] = [i for i in section.select("input", type="radio") if "checked" in i.attrs]
    assert checked.attrs["value"] == "not_mastered"
    [reason] = section.select("textarea")
    assert "autofocus" in reason.attrs and reason.attrs["aria-describedby"] == error.id
    assert len(board.select("p", cls="field-error")) == 1
    assert count(CompetencyDecision) == 0

    # What the chair wrote comes back too, to shorten rather than to type again.
    too_long = "Argumentation solide. " * 200
    response = post_plainly("mastered", too_long)
    assert response.status_code == 422
    section = parse(response.get_data(as_text=True)).by_id(f"board-comp-{cp3.id}")
    assert section.select("p", cls="field-error")[0].text().startswith("Motif trop long")
    assert section.select("textarea")[0].text() == too_long.strip()
    assert count(CompetencyDecision) == 0


def test_a_member_cannot_post_decisions(opened, sign_in):
    candidate = opened.candidates[0]
    member = sign_in(opened.member)

    response = post_decision(
        member,
        candidate,
        level="competency",
        subject_id=opened.competency("CP3").id,
        outcome="mastered",
        reason="",
    )

    assert response.status_code == 403
    assert count(CompetencyDecision) == 0
    assert member.post("/jury/deliberation/rouvrir", data={"reason": REASON}).status_code == 403


# ----------------------------------------------------------------------------- signing and lock


@pytest.fixture
def locked(app, opened) -> Jury:
    with acting(app):
        opened.decide_everything()
        opened.sign_all()
    assert opened.session.locked_at is not None
    return opened


def test_signing_on_each_phone_locks_and_both_see_it(app, opened, sign_in):
    with acting(app):
        opened.decide_everything()
    chair, member = sign_in(opened.chair), sign_in(opened.member)
    live = page(member, "/jury/deliberation/").by_id("deliberation-live")
    assert live.by_id("sign-form").text() == "Je confirme ces décisions"

    assert sign(member).status_code == 303
    live = page(member, "/jury/deliberation/").by_id("deliberation-live")
    assert live.by_id("sign-form") is None
    assert "a signé le" in live.by_id(f"signature-{opened.member.id}").text()
    assert "n'a pas encore signé" in live.by_id(f"signature-{opened.chair.id}").text()
    assert count(Signature) == 1

    assert sign(chair).status_code == 303
    db.session.expire_all()
    assert db.session.get(ExamSession, opened.session.id).locked_at is not None
    # The member's poll shows the lock; only the chair gets the reopening form.
    member_status = member.get("/jury/deliberation/etat")
    assert "le procès-verbal est verrouillé depuis le" in text_of(member_status)
    assert 'id="reopen"' not in member_status.get_data(as_text=True)
    chair_status = fragment_root(chair.get("/jury/deliberation/etat").get_data(as_text=True))
    reopen = chair_status.by_id("reopen")
    assert reopen.attrs.get("hx-preserve") == "true"
    assert reopen.select("form")[0].attrs["action"] == "/jury/deliberation/rouvrir"
    # The chair's board no longer offers decision forms.
    assert page(chair, board_url(opened.candidates[0])).select("form", cls="decision-form") == []


def test_once_locked_phones_only_watch_for_a_reopening_once_a_minute(locked, sign_in):
    candidate = locked.candidates[0]
    for juror in (locked.chair, locked.member):
        client = sign_in(juror)
        for url in ("/jury/deliberation/", board_url(candidate)):
            html = page(client, url)
            triggers = {n.id: n.attrs["hx-trigger"] for n in html.walk() if "hx-trigger" in n.attrs}
            # The decisions no longer change; the status would show a reopening.
            assert triggers == ({"deliberation-live": "every 60s"} if url.endswith("/") else {})
            assert html.by_id("session-locked") is not None
            assert "hidden" not in html.by_id("session-locked").attrs
        # What an earlier 5 s poll swaps in carries the slow trigger, or none.
        status = fragment_root(client.get("/jury/deliberation/etat").get_data(as_text=True))
        assert status.attrs["hx-trigger"] == "every 60s"
        decisions = client.get(f"{board_url(candidate)}/decisions").get_data(as_text=True)
        assert "hx-trigger" not in fragment_root(decisions).attrs


def test_a_reopening_brings_the_5_second_poll_back(locked, sign_in):
    client = sign_in(locked.member)
    chair = sign_in(locked.chair)
    reopened = chair.post("/jury/deliberation/rouvrir", data={"reason": "Erreur sur le CCP2."})
    assert reopened.status_code == 303
    status = fragment_root(client.get("/jury/deliberation/etat").get_data(as_text=True))
    assert status.attrs["hx-trigger"] == "every 5s"


def seen_digest(client) -> str:
    """The decisions' digest the juror's page carries in its sign form."""
    form = page(client, "/jury/deliberation/").by_id("sign-form")
    return form.select("input", name="vu")[0].attrs["value"]


def sign(client, seen: str | None = None):
    return client.post(
        "/jury/deliberation/signer", data={"vu": seen_digest(client) if seen is None else seen}
    )


def test_a_signature_never_confirms_decisions_changed_since_the_page_showed_them(
    app, opened, sign_in
):
    with acting(app):
        opened.decide_everything()
    chair, member = sign_in(opened.chair), sign_in(opened.member)
    seen = seen_digest(member)
    cp3 = opened.competency("CP3")
    post_decision(
        chair,
        opened.candidates[0],
        htmx=False,
        level="competency",
        subject_id=cp3.id,
        outcome="mastered",
        reason="Précisé après discussion.",
    )

    # The poll keeps the page's digest: the phone says the decisions changed, no sign button.
    live = fragment_root(member.get(f"/jury/deliberation/etat?vu={seen}").get_data(as_text=True))
    warning = live.by_id("sign-form")
    assert warning.tag == "div"
    assert "Des décisions ont changé depuis l'affichage de cette page" in warning.text()
    assert warning.select("a")[0].attrs["href"] == "/jury/deliberation/"
    # A signature posted from the old page is refused and nothing is signed.
    response = sign(member, seen)
    assert response.status_code == 303
    assert "Des décisions ont changé depuis l'affichage de votre page" in page_text(
        member.get(response.headers["Location"])
    )
    assert count(Signature) == 0
    # Reloaded, the page shows the decisions as they are, and the signature goes through.
    assert sign(member).status_code == 303
    assert count(Signature) == 1


def test_the_sign_button_comes_with_what_it_signs(app, ntc, sign_in):
    """Nobody signs blind: next to the button, each candidate's CCP and title decisions,
    with their reasons, as the minutes will print them."""
    jury = make_jury(ntc, format_code="TITLE", candidates=2)
    achiever, struggler = jury.candidates
    holder = add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    absent = add_candidate(jury.session, route=Route.TRAINING)
    absent.presence, absent.presence_note = Presence.ABSENT, "Non venu"
    db.session.flush()
    db.session.refresh(jury.session)
    with acting(app):
        jury.score(achiever)
        jury.score(struggler, observed=lambda _j, code, _p: code != "CP1")
        jury.score(holder)
        jury.open()
        for candidate in (achiever, struggler, holder):
            jury.record_present(candidate)
            jury.decide_competencies(candidate)
            jury.decide_ccps(candidate)
            jury.decide_title(candidate)
    client = sign_in(jury.member)

    live = page(client, "/jury/deliberation/").by_id("deliberation-live")

    summary = live.by_id("signing-summary")
    assert summary is not None and live.by_id("sign-form") is not None
    assert "Ce que vous signez" in summary.text()
    lines = {
        candidate: [
            li.text() for li in summary.by_id(f"signing-candidate-{candidate.id}").select("li")
        ]
        for candidate in (achiever, struggler, holder)
    }
    assert lines[achiever] == ["CCP1 : Acquis", "CCP2 : Acquis", "Titre : Obtenu"]
    assert lines[struggler] == [
        f"CCP1 : Non acquis — Motif : {REASON}",
        "CCP2 : Acquis",
        f"Titre : Non obtenu — Motif : {REASON}",
    ]
    assert lines[holder] == ["CCP1 : Déjà acquis", "CCP2 : Acquis", "Titre : Obtenu"]
    absent_line = summary.by_id(f"signing-candidate-{absent.id}")
    assert absent_line.text() == f"{absent.full_name} — Absent : aucune décision"
    # The polled strip carries it too, so it follows what the chair records.
    polled = fragment_root(client.get("/jury/deliberation/etat").get_data(as_text=True))
    assert polled.by_id("signing-summary").text() == summary.text()

    # Nothing left to sign on this phone: the summary goes with the button.
    assert sign(client).status_code == 303
    live = page(client, "/jury/deliberation/").by_id("deliberation-live")
    assert live.by_id("sign-form") is None and live.by_id("signing-summary") is None


def test_no_signing_summary_while_decisions_are_missing(opened, sign_in):
    live = page(sign_in(opened.member), "/jury/deliberation/").by_id("deliberation-live")
    assert live.by_id("sign-form") is None and live.by_id("signing-summary") is None


def test_saving_an_unchanged_decision_keeps_the_signatures(app, opened, sign_in):
    with acting(app):
        opened.decide_everything()
    chair, member = sign_in(opened.chair), sign_in(opened.member)
    assert sign(member).status_code == 303
    cp3 = opened.competency("CP3")
    decision = db.session.execute(
        select(CompetencyDecision).where(CompetencyDecision.competency_id == cp3.id)
    ).scalar_one()
    events_before = count(AuditEvent)

    response = post_decision(
        chair,
        opened.candidates[0],
        htmx=False,
        level="competency",
        subject_id=cp3.id,
        outcome=decision.outcome.value,
        reason=decision.reason,
    )

    assert response.status_code == 303
    assert "Décision inchangée : rien n'est modifié, les signatures sont conservées." in (
        page_text(chair.get(response.headers["Location"]))
    )
    assert count(Signature) == 1
    assert count(AuditEvent) == events_before


def test_a_changed_decision_tells_the_chair_the_signatures_are_to_give_again(app, opened, sign_in):
    with acting(app):
        opened.decide_everything()
    chair, member = sign_in(opened.chair), sign_in(opened.member)
    assert sign(member).status_code == 303

    response = post_decision(
        chair,
        opened.candidates[0],
        htmx=False,
        level="competency",
        subject_id=opened.competency("CP3").id,
        outcome="mastered",
        reason="Précisé après discussion.",
    )

    text = page_text(chair.get(response.headers["Location"]))
    assert "Décision enregistrée." in text
    assert "La signature déjà recueillie est annulée" in text
    assert count(Signature) == 0


def test_presence_is_recorded_before_the_signatures(app, opened, sign_in):
    candidate = opened.candidates[0]
    with acting(app):
        opened.decide_competencies(candidate)
        opened.decide_ccps(candidate)
    chair, member = sign_in(opened.chair), sign_in(opened.member)

    live = page(member, "/jury/deliberation/").by_id("deliberation-live")
    assert "présence à indiquer" in live.by_id(f"delib-candidate-{candidate.id}").text()
    assert candidate.full_name in live.by_id("presence-missing").text()
    assert live.by_id("sign-form") is None
    board = page(chair, board_url(candidate))
    assert "doit être indiquée avant les signatures" in board.by_id("presence-to-record").text()
    # Nothing is chosen for the chair: a presence is recorded, never assumed.
    presence = board.by_id("board-presence")
    assert [i for i in presence.select("input", type="radio") if "checked" in i.attrs] == []

    response = post_decision(chair, candidate, htmx=False, level="presence", outcome="present")

    assert "Présence enregistrée." in page_text(chair.get(response.headers["Location"]))
    live = page(member, "/jury/deliberation/").by_id("deliberation-live")
    assert live.by_id("presence-missing") is None
    assert live.by_id("sign-form").text() == "Je confirme ces décisions"


def test_a_decision_refused_for_an_absent_candidate_is_said_with_what_was_typed(
    app, opened, sign_in
):
    candidate = opened.candidates[0]
    chair = sign_in(opened.chair)
    # Another tab recorded the candidate absent; this one still shows the decision forms.
    post_decision(
        chair, candidate, htmx=False, level="presence", outcome="absent", reason="Non venu."
    )

    response = post_decision(
        chair,
        candidate,
        htmx=False,
        level="competency",
        subject_id=opened.competency("CP3").id,
        outcome="not_mastered",
        reason="Plan non présenté",
    )

    assert response.status_code == 303
    text = page_text(chair.get(response.headers["Location"]))
    assert "Candidat absent : aucune décision n'est à prendre." in text
    assert "Texte saisi, non enregistré : « Plan non présenté »" in text
    assert count(CompetencyDecision) == 0


def test_ticks_of_an_unfinished_grid_are_shown_but_not_counted(app, ntc, sign_in):
    jury = make_jury(ntc, format_code="CCP1", candidates=1)
    candidate = jury.candidates[0]
    with acting(app):
        jury.score(candidate, jurors=[jury.chair])
        jury.score(candidate, jurors=[jury.member], complete=False)
        jury.open(acknowledge=True)
    chair = sign_in(jury.chair)

    board = page(chair, board_url(candidate))

    cells = board.select("td", cls="ticked")
    assert cells, "the member's ticks are shown"
    assert all("coché, grille non terminée : non compté" in c.text() for c in cells)
    assert "(✓) coché mais grille non terminée, non compté" in board.by_id("board-symbols").text()


def test_a_suggestion_resting_on_one_jurors_grid_says_so_in_its_trace(app, ntc, sign_in):
    """QA: "évident — maîtrisée" beside the member's different (unfinished, uncounted)
    ticks read as a verdict of the jury; it was the chair's grid alone."""
    jury = make_jury(ntc, format_code="CCP1", candidates=1)
    candidate = jury.candidates[0]
    with acting(app):
        jury.score(candidate, jurors=[jury.chair])
        jury.score(
            candidate, jurors=[jury.member], observed=lambda _j, _c, p: p == 1, complete=False
        )
        jury.open(acknowledge=True)
    cp3 = jury.competency("CP3")
    short = " ; ".join(
        f"1 juré sur 2 a terminé la grille {m}" for m in jury.modalities_of(candidate, cp3)
    )
    chair = sign_in(jury.chair)

    section = page(chair, board_url(candidate)).by_id(f"board-comp-{cp3.id}")

    assert "Suggestion : évident — maîtrisée" in section.text()  # the rule, unchanged
    trace = section.select("p", cls="trace")[0].text()
    total = len(cp3.criteria)
    assert trace == f"{total}/{total} critères observés ; {short}"


def test_a_complete_jury_adds_nothing_to_the_trace(opened, sign_in):
    cp3 = opened.competency("CP3")
    section = page(sign_in(opened.chair), board_url(opened.candidates[0])).by_id(
        f"board-comp-{cp3.id}"
    )
    trace = section.select("p", cls="trace")[0].text()
    assert "a terminé la grille" not in trace and "ont terminé la grille" not in trace


# URL arguments → ids of the locked world.
def _argument_values(jury: Jury, staff, token: str) -> dict:
    return {
        "session_id": jury.session.id,
        "candidate_id": jury.candidates[0].id,
        "member_id": jury.member.id,
        "user_id": staff.id,
        "phase_id": jury.plan(jury.candidates[0]).phases[0].id,
        "token": token,
    }


def _post_urls(app, values: dict) -> list[tuple[str, str, bool]]:
    """(endpoint, url, has a session_id) of every POST route not allowed when locked."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "allowed_when_locked", False):
            continue
        unknown = set(rule.arguments) - set(values)
        assert not unknown, f"{rule.rule}: give this test a value for {sorted(unknown)}"
        path = rule.build({name: values[name] for name in rule.arguments})[1]
        urls.append((rule.endpoint, path, "session_id" in rule.arguments))
    return sorted(urls)


def _table_counts() -> dict:
    return {
        model.__name__: count(model)
        for model in (AuditEvent, CompetencyDecision, CcpDecision, Signature, Deliberation, Mark)
    }


def test_every_write_route_answers_409_in_french_once_locked(app, locked, sign_in):
    jury = locked
    staff = make_staff()
    with acting(app):
        token = issue_access(jury.jurors[0]).token
    member = sign_in(jury.member)
    staff_client = fresh_client(app)
    assert sign_in_staff(staff_client, staff).status_code in (302, 303)
    before = _table_counts()

    urls = _post_urls(app, _argument_values(jury, staff, token))
    assert len(urls) > 20  # the whole map was read
    assert {
        "deliberation.decide",
        "deliberation.sign",
        "deliberation.open_deliberation",
        "centre.edit_candidate",
    } <= {e for e, _u, _s in urls}
    tried = 0
    for endpoint, url, has_session in urls:
        clients = [("juror", member)] + ([("staff", staff_client)] if has_session else [])
        for who, client in clients:
            for headers in ({}, HTMX):
                response = client.post(url, data={"reason": REASON}, headers=headers)
                assert response.status_code == 409, (endpoint, who, headers, response.status_code)
                assert LOCK_MESSAGE in text_of(response), (endpoint, who)
                tried += 1
        json_response = member.post(url, json={"operations": []})
        assert json_response.status_code == 409, endpoint
        assert json_response.get_json() == {"error": LOCK_MESSAGE, "locked": True}
    assert tried >= 2 * len(urls)
    db.session.expire_all()
    assert _table_counts() == before


def test_staff_can_archive_a_locked_session_and_nothing_else(app, locked):
    from ntc_jury.core.vocabulary import SessionState
    from ntc_jury.models import ExamSession

    staff = make_staff()
    session_id = locked.session.id
    client = fresh_client(app)
    sign_in_staff(client, staff)
    url = f"/centre/sessions/{session_id}/etat"
    refused = client.post(url, data={"target": SessionState.IN_PROGRESS.value})
    db.session.expire_all()
    assert db.session.get(ExamSession, session_id).state == SessionState.CLOSED
    assert refused.status_code in (303, 409, 422)
    archived = client.post(url, data={"target": SessionState.ARCHIVED.value})
    assert archived.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(ExamSession, session_id).state == SessionState.ARCHIVED


def test_the_juror_operation_endpoints_refuse_each_operation_once_locked(locked, sign_in):
    jury = locked
    candidate = jury.candidates[0]
    cp3 = jury.competency("CP3")
    member = sign_in(jury.member)
    marks = count(Mark)

    response = member.post(
        f"/jury/candidats/{candidate.id}/operation",
        data={
            "op_id": str(uuid.uuid4()),
            "kind": "mark",
            "modality": "MSP",
            "criterion_id": str(cp3.criteria[1].id),
            "observed": "1",
        },
        headers=HTMX,
    )
    assert response.status_code == 409
    assert JUROR_LOCKED in text_of(response)

    operations = [
        {
            "op_id": str(uuid.uuid4()),
            "kind": kind,
            "payload": {"candidate_id": candidate.id, **payload},
        }
        for kind, payload in (
            ("mark", {"modality": "MSP", "criterion_id": cp3.criteria[1].id, "observed": True}),
            ("grid", {"modality": "MSP", "completed": False}),
            ("observation", {"competency_id": cp3.id, "text": "Après la signature"}),
        )
    ]
    response = member.post("/jury/operations", json={"operations": operations})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["op_id"], r["status"], r["message"]) for r in results] == [
        (op["op_id"], "refused", JUROR_LOCKED) for op in operations
    ]
    assert count(Mark) == marks


def test_the_chair_reopens_with_a_reason(locked, sign_in):
    jury = locked
    chair = sign_in(jury.chair)

    response = chair.post("/jury/deliberation/rouvrir", data={"reason": ""}, follow_redirects=True)
    assert "Indiquez le motif de la réouverture." in page_text(response)
    assert count(Deliberation) == 1

    assert (
        chair.post("/jury/deliberation/rouvrir", data={"reason": "Erreur de saisie."}).status_code
        == 303
    )
    db.session.expire_all()
    session = db.session.get(ExamSession, jury.session.id)
    assert session.locked_at is None and session.state == SessionState.DELIBERATION
    current = db.session.execute(
        select(Deliberation).where(Deliberation.superseded_at.is_(None))
    ).scalar_one()
    assert (current.round, current.reopen_reason) == (2, "Erreur de saisie.")
    live = page(chair, "/jury/deliberation/").by_id("deliberation-live")
    for juror in jury.jurors:
        assert "n'a pas encore signé" in live.by_id(f"signature-{juror.id}").text()
    assert live.by_id("sign-form") is not None
    # Writes work again.
    response = post_decision(
        chair,
        jury.candidates[0],
        level="competency",
        subject_id=jury.competency("CP3").id,
        outcome="mastered",
        reason="Relue après la réouverture.",
    )
    assert response.status_code == 200


# ----------------------------------------------------------------------------- printed sheets


def test_the_summary_sheet_prints_on_a4(locked, sign_in):
    candidate = locked.candidates[0]
    member = sign_in(locked.member)

    response = member.get(f"{board_url(candidate)}/synthese")
    assert response.status_code == 200
    # Marked as the juror's own page: the service worker keeps it for reading offline.
    assert response.headers["NTC-Offline"] == "juror"
    document = parse(response.get_data(as_text=True))

    links = [link.attrs for link in document.select("link", rel="stylesheet")]
    # The fingerprinted print sheet: cached for a year and precached for offline reading.
    printed = [link for link in links if link.get("media") == "print"]
    assert [link["href"] for link in printed] == [asset_url("css/print.css")]
    assert re.fullmatch(r"/assets/css/print\.[0-9a-f]{10}\.css", printed[0]["href"])
    assert "css/print.css" in SHELL  # the service worker keeps it for the offline sheet
    css = (STATIC / "css" / "print.css").read_text(encoding="utf-8")
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css)
    sheet = document.by_id("summary-sheet")
    assert candidate.full_name in sheet.text()
    rows = {
        tr.select("th")[0].text().split()[0]: [td.text() for td in tr.select("td")]
        for tr in sheet.select("tbody")[0].select("tr")
    }
    assert rows["CP3"] == ["5/6", "Maîtrisée", ""]
    assert rows["CP1"] == ["6/6", "Maîtrisée", ""]
    assert f"CCP1 — {locked.ref.ccps[0].title} : Acquis" in sheet.text()
    observed = transversal_of_cp3(locked)
    transversals = [li.text() for li in sheet.select("ul")[-1].select("li")]
    assert f"{observed.title} : observée par 2 jurés" in transversals
    assert len(transversals) == len(locked.ref.transversals)
    assert sheet.select("button", data_print=None)


def test_a_ccp_already_held_is_said_not_tabled(app, ntc, sign_in):
    """A capitalisation candidate's held CCP has nothing re-evaluated: the board and the
    summary sheet say so instead of counting zeros or printing an empty table."""
    jury = make_jury(ntc, format_code="TITLE", candidates=0)
    holder = add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    db.session.flush()
    db.session.refresh(jury.session)
    with acting(app):
        jury.score(holder)
        jury.open()
    chair = sign_in(jury.chair)
    held = "Déjà acquis par le candidat : ses compétences ne sont pas réévaluées"

    sheet = page(chair, f"{board_url(holder)}/synthese").by_id("summary-sheet")
    sections = {s.select("h2")[0].text()[:4]: s for s in sheet.select("section")}
    assert held in sections["CCP1"].text() and not sections["CCP1"].select("table")
    assert sections["CCP2"].select("table") and held not in sections["CCP2"].text()
    board = page(chair, board_url(holder))
    ccp1 = board.by_id(f"board-ccp-{jury.ccp_id('CCP1')}")
    assert held in ccp1.text() and "0 compétence(s)" not in ccp1.text()


def test_the_session_summary_counts_each_outcome(app, ntc, sign_in):
    jury = make_jury(ntc, format_code="TITLE", candidates=2)
    achiever, struggler = jury.candidates
    holder = add_candidate(jury.session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"])
    db.session.flush()
    db.session.refresh(jury.session)
    with acting(app):
        jury.score(achiever)
        jury.score(struggler, observed=lambda _j, code, _p: code != "CP1")
        jury.score(holder)
        jury.open()
        jury.decide_everything()
    client = sign_in(jury.member)

    document = page(client, "/jury/deliberation/synthese")

    table = document.by_id("session-summary")
    assert [th.text() for th in table.select("thead")[0].select("th")] == [
        "Candidat",
        "CCP1",
        "CCP2",
        "Titre",
    ]
    body = {
        tr.select("th")[0].text(): [td.text() for td in tr.select("td")]
        for tr in table.select("tbody")[0].select("tr")
    }
    assert body == {
        achiever.full_name: ["Acquis", "Acquis", "Obtenu"],
        struggler.full_name: ["Non acquis", "Acquis", "Non obtenu"],
        holder.full_name: ["Déjà acquis", "Acquis", "Obtenu"],
    }
    foot = [
        [tr.select("th")[0].text()] + [td.text() for td in tr.select("td")]
        for tr in table.select("tfoot")[0].select("tr")
    ]
    assert foot == [
        # The holder's CCP1 was acquired before this session: counted apart.
        ["Acquis / obtenus", "1", "3", "2"],
        ["Déjà acquis (non réévalués)", "1", "0", "—"],
        ["Non acquis / non obtenus", "1", "0", "1"],
    ]


def test_a_juror_of_another_session_sees_nothing_of_this_one(app, ntc, opened, sign_in):
    other = make_jury(ntc, format_code="CCP1", candidates=1)
    with acting(app):
        other.score(other.candidates[0])
        other.open()
    outsider = sign_in(other.member)
    candidate = opened.candidates[0]

    for url in (
        board_url(candidate),
        f"{board_url(candidate)}/synthese",
        f"{board_url(candidate)}/decisions",
    ):
        assert outsider.get(url).status_code == 404, url
    assert candidate.last_name not in page_text(outsider.get("/jury/deliberation/synthese"))


# ----------------------------------------------------------------------------- conflicts


@pytest.fixture
def chair_with_a_link(app, ntc, db) -> Jury:
    """Three jurors; the chair declared a link with the candidate, the other two scored."""
    jury = make_jury(ntc, format_code="CCP1", jurors=3, candidates=1)
    candidate = jury.candidates[0]
    with acting(app):
        jury.declare_conflict(jury.chair, candidate)
        jury.score(candidate, jurors=[j for j in jury.jurors if not j.is_chair])
        jury.open()
    return jury


def test_a_recused_chair_sees_the_decisions_and_a_juror_records_them(chair_with_a_link, sign_in):
    jury = chair_with_a_link
    candidate = jury.candidates[0]
    substitute = next(j for j in jury.jurors if not j.is_chair)
    chair = sign_in(jury.chair)

    chair_page = page(chair, board_url(candidate))
    assert "vous ne prenez pas part à sa délibération" in chair_page.by_id("board-recused").text()
    assert chair_page.select("form", cls="decision-form") == []
    assert chair_page.select("table", cls="matrix") == []  # nor the jury's evidence
    sheet = chair.get(f"{board_url(candidate)}/synthese")
    assert sheet.status_code == 403
    assert "sa fiche de synthèse ne vous est pas ouverte" in text_of(sheet)

    def cp1_mastered(client):
        return post_decision(
            client,
            candidate,
            htmx=False,
            level="competency",
            subject_id=jury.competency("CP1").id,
            outcome="mastered",
            reason="",
        )

    assert cp1_mastered(chair).status_code == 403
    assert count(CompetencyDecision) == 0

    juror = sign_in(substitute)
    juror_page = page(juror, board_url(candidate))
    assert "un juré sans lien consigne ses décisions" in juror_page.by_id("board-recused").text()
    assert len(juror_page.select("form", cls="decision-form")) == 4 + 1 + 1 + 1
    assert cp1_mastered(juror).status_code == 303
    assert count(CompetencyDecision) == 1


def test_a_juror_the_centre_marked_absent_is_told_on_their_phone(jury, sign_in):
    member = sign_in(jury.member)
    assert page(member, "/jury/").by_id("juror-absent") is None

    jury.member.present = False
    db.session.commit()

    notice = page(member, "/jury/").by_id("juror-absent")
    assert "vos saisies sont gardées mais ne comptent pas dans la délibération" in notice.text()

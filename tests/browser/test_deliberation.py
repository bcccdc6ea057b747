"""A whole deliberation on two phones (390 × 844): the chair and a member, each in their own
browser context, from the last tick to both signatures and the lock.

Most ticks are made in the setup through the juror's operations (the app's write path) to
keep the test fast; one tick and one grid completion go through the member's screen. Every
wait is on something the page shows (Playwright's `expect`), never a fixed sleep; what the
member sees after the chair acts comes from the page's own polling, never a reload.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ntc_jury.core.vocabulary import Route
from ntc_jury.jury import operations as jury_ops
from ntc_jury.jury import queries as jury_queries
from ntc_jury.models import (
    CcpDecision,
    CompetencyDecision,
    ExamSession,
    GridCompletion,
    Mark,
    Signature,
    TitleDecision,
)
from ntc_jury.referential.queries import referential
from tests.browser import (
    assert_no_axe_violations,
    assert_no_console_errors,
    assert_no_horizontal_scroll,
    read_committed,
    sign_in_juror,
)
from tests.factories import add_candidate, issue_access, make_session

pytestmark = pytest.mark.browser

POLL_MS = 15_000  # the pages poll every 5 s: three rounds at most
LOCKED = "le procès-verbal est verrouillé depuis le"
JUROR_LOCKED = (
    "La session est verrouillée : les décisions sont signées, plus aucune saisie n'est possible."
)
NEGATIVE = "Une décision négative doit être motivée."
CP6_REASON = "Argumentation technique insuffisante face aux objections."
CCP_REASON = "La compétence CP6 n'est pas maîtrisée."
TITLE_REASON = "Le CCP2 n'est pas acquis."


@dataclass
class Access:
    token: str
    pin: str
    juror_id: int


@dataclass
class Scene:
    chair: Access
    member: Access
    session_id: int
    trained: int  # candidate ids
    holder: int  # capitalisation, holds CCP1: decided on CCP2 and the title
    competencies: dict[int, list[tuple[int, str]]]  # candidate → [(competency id, code)]
    ccp2: int
    negotiation_phase: int
    cp5: list[int]  # criterion ids of CP5
    msp: int


def _op(member, candidate, kind: str, **payload) -> None:
    payload["candidate_id"] = candidate.id
    outcome = jury_ops.apply_operation(
        member=member, op_id=str(uuid.uuid4()), kind=kind, payload=payload
    )
    assert outcome.status == "applied", (kind, payload, outcome.message)


@pytest.fixture
def scene(app, db, ntc) -> Scene:
    """A CCP2 session: a trained candidate and a capitalisation candidate holding CCP1.

    Both jurors tick every criterion of both, except: the member leaves CP5 n°1 of the
    trained candidate and its MSP grid for the screen, and did not observe CP6 n°1-5 of the
    holder (so CP6 is "évident — non maîtrisée" for them: 3/8).
    """
    session = make_session(ntc, format_code="CCP2", jurors=2, candidates=0)
    trained = add_candidate(session, route=Route.TRAINING, last_name="Arnaud")
    holder = add_candidate(
        session, route=Route.CAPITALISATION, held_ccp_codes=["CCP1"], last_name="Bernard"
    )
    db.session.flush()
    db.session.refresh(session)
    chair, member = session.jury_members
    ref = referential(ntc.id)
    cp5 = next(c for c in ref.competencies if c.code == "CP5")
    with app.test_request_context("/"):
        for candidate in (trained, holder):
            plan = jury_queries.candidate_plan(ref, chair, candidate)
            for juror in (chair, member):
                _op(juror, candidate, "conflict", has_conflict=False)
                for competency in plan.competencies:
                    modality = next(m for m, held in plan.grids.items() if competency in held)
                    for criterion in competency.criteria:
                        left_for_the_screen = (
                            juror is member
                            and candidate is trained
                            and criterion.id == cp5.criteria[0].id
                        )
                        not_seen = (
                            juror is member
                            and candidate is holder
                            and competency.code == "CP6"
                            and criterion.position <= 5
                        )
                        if left_for_the_screen or not_seen:
                            continue
                        _op(
                            juror,
                            candidate,
                            "mark",
                            modality=modality,
                            criterion_id=criterion.id,
                            observed=True,
                        )
                for modality in plan.grids:
                    if juror is member and candidate is trained and modality == "MSP":
                        continue
                    _op(juror, candidate, "grid", modality=modality, completed=True)
        chair_access, member_access = issue_access(chair), issue_access(member)
    fmt = ref.format(session.format_id)
    result = Scene(
        chair=Access(chair_access.token, chair_access.pin, chair.id),
        member=Access(member_access.token, member_access.pin, member.id),
        session_id=session.id,
        trained=trained.id,
        holder=holder.id,
        competencies={
            c.id: [(k.id, k.code) for k in jury_queries.candidate_plan(ref, chair, c).competencies]
            for c in (trained, holder)
        },
        ccp2=next(c.id for c in ref.ccps if c.code == "CCP2"),
        negotiation_phase=next(p.id for p in fmt.phases if p.code == "MSP-NEGOCIATION"),
        cp5=[k.id for k in cp5.criteria],
        msp=ref.modality("MSP").id,
    )
    db.session.commit()  # the live server sees committed rows only
    return result


def sign_in(page: Page, access: Access) -> None:
    sign_in_juror(page, access.token, access.pin)


def stay_on_this_document(page: Page) -> None:
    """Mark the document: a reload or a navigation would lose the mark."""
    page.evaluate("() => { window.__sameDocument = true; }")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("() => window.__sameDocument === true"), "the page was reloaded"


def expect_synced(page: Page) -> None:
    status = page.locator("#sync-status")
    expect(status).to_have_attribute("data-pending", "0")
    expect(status).to_have_attribute("data-state", "saved")


def decide(page: Page, section_id: str, outcome: str, reason: str = "") -> None:
    """Pick an outcome in one decision form of the board and submit it (a full POST)."""
    section = page.locator(f"#{section_id}")
    section.get_by_label(outcome, exact=True).check()
    section.locator("textarea[name=reason]").fill(reason)
    section.get_by_role("button", name="Enregistrer la décision").click()


def record_present(page: Page) -> None:
    """The chair records that the candidate on this board came (printed on the minutes)."""
    expect(page.locator("#presence-to-record")).to_be_visible()
    section = page.locator("#board-presence")
    section.get_by_label("Présent", exact=True).check()
    section.get_by_role("button", name="Enregistrer la présence").click()
    expect(page.locator(".flashes")).to_contain_text("Présence enregistrée.")
    expect(page.locator("#presence-to-record")).to_have_count(0)


def expect_decided(page: Page, section_id: str, outcome: str) -> None:
    expect(
        page.locator(f"#{section_id}").get_by_text(f"Décision : {outcome}", exact=True)
    ).to_be_visible()


def test_a_whole_deliberation_on_two_phones(db, scene, new_page):
    chair = new_page("phone")
    member = new_page("phone")
    auditor = new_page("phone", bypass_csp=True)  # the chair again, for axe-core only
    sign_in(chair, scene.chair)
    sign_in(member, scene.member)
    sign_in(auditor, scene.chair)

    # ---- the member's last tick and grid, on their screen ----------------------------------
    phase = f"/jury/candidats/{scene.trained}/phases/{scene.negotiation_phase}"
    stale = member.context.new_page()  # a second tab left open on the grid: used after the lock
    stale.goto(phase)
    expect(stale.locator("#ledger-status")).to_have_attribute("data-agree", "true")
    member.goto(phase)
    expect(member.locator("#ledger-status")).to_have_attribute("data-agree", "true")
    expect_synced(member)
    item = member.locator(f"#crit-MSP-{scene.cp5[0]}")
    expect(item.locator("button.tick")).to_have_attribute("aria-pressed", "false")
    item.locator("button.tick").click()
    expect(item.locator("button.tick")).to_have_attribute("aria-pressed", "true")
    expect(item).to_have_attribute("data-state", "saved")
    grid = member.locator("#grid-MSP")
    grid.get_by_role("button", name="Terminer la grille MSP").click()
    expect(grid).to_have_attribute("data-state", "saved")
    expect_synced(member)
    assert read_committed(
        db,
        select(Mark.observed).filter_by(
            jury_member_id=scene.member.juror_id,
            candidate_id=scene.trained,
            criterion_id=scene.cp5[0],
            modality_id=scene.msp,
        ),
    ) == [(True,)]
    assert read_committed(
        db,
        select(GridCompletion.id).filter_by(
            jury_member_id=scene.member.juror_id, candidate_id=scene.trained, modality_id=scene.msp
        ),
    )

    # ---- opening ------------------------------------------------------------------------------
    member.goto("/jury/deliberation/")
    expect(member.locator("#deliberation-live")).to_contain_text(
        "La délibération n'est pas encore ouverte."
    )
    stay_on_this_document(member)

    chair.goto("/jury/deliberation/")
    expect(chair.get_by_role("heading", name="Avant d'ouvrir")).to_be_visible()
    expect(chair.locator("#missing-grids")).to_have_count(0)
    expect(chair.locator("#pending-jurors")).to_have_count(0)
    auditor.goto("/jury/deliberation/")
    expect(auditor.locator("#open-form")).to_be_visible()
    assert_no_axe_violations(auditor, "deliberation opening (chair, phone)")

    chair.get_by_role("button", name="Ouvrir la délibération").click()
    expect(chair.locator(".flashes .flash-success")).to_contain_text("La délibération est ouverte")
    expect(chair.locator(f"#delib-candidate-{scene.trained}")).to_contain_text("0/6 décisions")

    # The member's waiting page turns into the overview by itself.
    for candidate_id, expected in ((scene.trained, "0/6 décisions"), (scene.holder, "0/7")):
        expect(member.locator(f"#delib-candidate-{candidate_id}")).to_contain_text(
            expected, timeout=POLL_MS
        )
    expect(member.locator("#deliberation-live .provisional")).to_have_text(
        "Résultats provisoires, sous réserve de validation par la DDETS."
    )
    assert_same_document(member)
    assert_no_horizontal_scroll(member)
    auditor.goto("/jury/deliberation/")
    assert_no_axe_violations(auditor, "deliberation overview (chair, phone)")

    # ---- the member follows the holder's board while the chair decides -----------------------
    member.locator(f"#delib-candidate-{scene.holder} a").click()
    expect(member.locator("#candidate-decisions")).to_contain_text("CP6 — en attente")
    expect(member.locator("form.decision-form")).to_have_count(0)
    stay_on_this_document(member)

    chair.goto(f"/jury/deliberation/candidats/{scene.trained}")
    for competency_id, _code in scene.competencies[scene.trained]:
        decide(chair, f"board-comp-{competency_id}", "Maîtrisée")
        expect_decided(chair, f"decision-comp-{competency_id}", "Maîtrisée")
    decide(chair, f"board-ccp-{scene.ccp2}", "Acquis")
    expect_decided(chair, f"board-ccp-{scene.ccp2}", "Acquis")
    expect(chair.locator("#board-title")).to_have_count(0)  # no title in a CCP session
    record_present(chair)

    chair.goto(f"/jury/deliberation/candidats/{scene.holder}")
    cp6 = next(cid for cid, code in scene.competencies[scene.holder] if code == "CP6")
    # CP6 comes first: the jurors disagree on it.
    expect(chair.locator("section.board").first).to_have_id(f"board-comp-{cp6}")
    expect(chair.locator(f"#board-comp-{cp6} .trace")).to_contain_text("3/8 critères observés")
    expect(chair.locator(f"#board-comp-{cp6} tbody tr").first).to_have_class(
        re.compile(r"\bdisagree\b")
    )
    assert_no_horizontal_scroll(chair)  # the wide matrices scroll inside their own box
    decide(chair, f"board-comp-{cp6}", "Non maîtrisée")  # no reason: refused
    # Said next to the form, in view (not at the top of a long page), the choice kept.
    error = chair.locator(f"#board-comp-{cp6} .field-error")
    expect(error).to_have_text(NEGATIVE)
    expect(error).to_be_in_viewport()
    expect(chair.locator(f"#reason-board-comp-{cp6}")).to_be_focused()
    expect(
        chair.locator(f"#board-comp-{cp6}").get_by_label("Non maîtrisée", exact=True)
    ).to_be_checked()
    decide(chair, f"board-comp-{cp6}", "Non maîtrisée", CP6_REASON)
    expect_decided(chair, f"decision-comp-{cp6}", "Non maîtrisée")
    expect(member.locator("#candidate-decisions")).to_contain_text(
        f"CP6 — Non maîtrisée : {CP6_REASON}", timeout=POLL_MS
    )
    for competency_id, code in scene.competencies[scene.holder]:
        if code != "CP6":
            decide(chair, f"board-comp-{competency_id}", "Maîtrisée")
            expect_decided(chair, f"decision-comp-{competency_id}", "Maîtrisée")
    decide(chair, f"board-ccp-{scene.ccp2}", "Non acquis", CCP_REASON)
    expect_decided(chair, f"board-ccp-{scene.ccp2}", "Non acquis")
    decide(chair, "board-title", "Non obtenu", TITLE_REASON)
    expect_decided(chair, "board-title", "Non obtenu")
    record_present(chair)

    expect(member.locator("#candidate-decisions")).to_contain_text(
        f"Titre — Non obtenu : {TITLE_REASON}", timeout=POLL_MS
    )
    expect(member.locator("#candidate-decisions")).to_contain_text(
        f"CCP2 — Non acquis : {CCP_REASON}"
    )
    assert_same_document(member)
    rows = read_committed(db, select(CompetencyDecision.candidate_id, CompetencyDecision.outcome))
    assert len(rows) == 10
    assert [(r.candidate_id, r.outcome.value) for r in rows if r.outcome.value != "mastered"] == [
        (scene.holder, "not_mastered")
    ]
    assert sorted(
        (r.candidate_id, r.outcome.value, r.reason)
        for r in read_committed(
            db, select(CcpDecision.candidate_id, CcpDecision.outcome, CcpDecision.reason)
        )
    ) == sorted([(scene.trained, "acquired", ""), (scene.holder, "not_acquired", CCP_REASON)])
    [title] = read_committed(db, select(TitleDecision.candidate_id, TitleDecision.outcome))
    assert (title.candidate_id, title.outcome.value) == (scene.holder, "not_obtained")

    auditor.goto(f"/jury/deliberation/candidats/{scene.holder}")
    expect(auditor.locator("form.decision-form").first).to_be_visible()
    assert_no_axe_violations(auditor, "candidate board with decisions (chair, phone)")
    auditor.goto(f"/jury/deliberation/candidats/{scene.holder}/synthese")
    expect(auditor.locator("#summary-sheet")).to_contain_text(CP6_REASON)
    assert_no_axe_violations(auditor, "summary sheet (chair, phone)")

    # ---- signatures, each on their own phone --------------------------------------------------
    chair.goto("/jury/deliberation/")
    # What the button confirms is shown beside it, reasons included.
    summary = chair.locator(f"#signing-candidate-{scene.holder}")
    expect(summary).to_contain_text(f"CCP2 : Non acquis — Motif : {CCP_REASON}")
    expect(summary).to_contain_text(f"Titre : Non obtenu — Motif : {TITLE_REASON}")
    assert_no_horizontal_scroll(chair)
    auditor.goto("/jury/deliberation/")
    expect(auditor.locator("#signing-summary")).to_be_visible()
    assert_no_axe_violations(auditor, "deliberation ready to sign (chair, phone)")
    chair.get_by_role("button", name="Je confirme ces décisions").click()
    expect(chair.locator(f"#signature-{scene.chair.juror_id}")).to_contain_text("a signé le")
    expect(chair.locator("#sign-form")).to_have_count(0)
    stay_on_this_document(chair)

    member.goto("/jury/deliberation/")
    expect(member.locator(f"#signature-{scene.chair.juror_id}")).to_contain_text("a signé le")
    member.get_by_role("button", name="Je confirme ces décisions").click()
    expect(member.locator("#signatures")).to_contain_text(LOCKED)
    expect(member.locator("#reopen")).to_have_count(0)

    # The chair's phone learns of the lock by itself, with the form to reopen.
    expect(chair.locator("#signatures")).to_contain_text(LOCKED, timeout=POLL_MS)
    expect(chair.locator("#reopen")).to_be_visible()
    expect(chair.locator("#reopen summary")).to_have_text(
        "Rouvrir la délibération pour une correction"
    )
    assert_same_document(chair)
    [(locked_at,)] = read_committed(
        db, select(ExamSession.locked_at).filter_by(id=scene.session_id)
    )
    assert locked_at is not None
    assert len(read_committed(db, select(Signature.id))) == 2

    # ---- after the lock, a tick from the tab left open is refused in French -------------------
    ticked = stale.locator(f"#crit-MSP-{scene.cp5[1]}")
    # The other tab told it the grid is complete: its ticks are disabled ...
    expect(ticked.locator("button.tick")).to_be_disabled()
    # ... but a tab the phone froze meanwhile has missed that; its tap still reaches the server.
    ticked.locator("button.tick").evaluate("(button) => { button.disabled = false; }")
    ticked.locator("button.tick").click()
    expect(ticked).to_have_attribute("data-state", "error")
    expect(stale.locator("#refused-box")).to_be_visible()
    expect(stale.locator("#refused-operations")).to_contain_text(JUROR_LOCKED)
    assert read_committed(
        db,
        select(Mark.observed).filter_by(
            jury_member_id=scene.member.juror_id,
            candidate_id=scene.trained,
            criterion_id=scene.cp5[1],
            modality_id=scene.msp,
        ),
    ) == [(True,)]

    for page in (chair, member, stale, auditor):
        # The chair's refused decision (no reason) is answered 422 on purpose.
        expected = [r"status of 422 .*/decision"] if page is chair else []
        assert_no_console_errors(page, ignore=expected)

"""Centre staff: signing in and out, account administration, the `flask staff create` command."""

from __future__ import annotations

import re

import pytest
from flask_login import user_logged_in
from sqlalchemy import func, select

from ntc_jury.auth import credentials
from ntc_jury.core.vocabulary import ActorKind, StaffRole
from ntc_jury.models import AuditEvent, StaffUser
from tests.factories import STAFF_PASSWORD, make_staff, sign_in_staff

from . import fresh_client, page_text

WRONG_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
NEW_PASSWORD = "un tout nouveau mot de passe"


@pytest.fixture
def client(app, db):
    return fresh_client(app)


def audit_actions(db, **where) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(db.session.execute(query).scalars())


def signed_in_identity(client) -> str | None:
    with client.session_transaction() as cookie_session:
        return cookie_session.get("_user_id")


def assert_sent_to_sign_in(client, path: str = "/centre/") -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def without_csrf_tokens(text: str) -> str:
    text = re.sub(r'("X-CSRFToken": ")[^"]*"', r'\1…"', text)
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r'\1…"', text)


def staff_count(db) -> int:
    return db.session.execute(select(func.count()).select_from(StaffUser)).scalar_one()


# --------------------------------------------------------------------------- signing in


def test_right_password_signs_in_and_is_audited(client, db):
    user = make_staff()
    db.session.commit()

    response = sign_in_staff(client, user)

    assert response.status_code == 302
    assert response.headers["Location"] == "/centre/"
    assert client.get("/centre/").status_code == 200
    assert signed_in_identity(client).startswith(f"staff:{user.id}:")
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "sign_in")
    ).scalar_one()
    assert (event.actor_kind, event.actor_id, event.target_id) == (
        ActorKind.STAFF,
        user.id,
        str(user.id),
    )
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_email_is_matched_whatever_its_case_and_spaces(client, db):
    make_staff(email="marie.dupont@example.org")
    db.session.commit()

    response = client.post(
        "/connexion", data={"email": "  Marie.Dupont@Example.org ", "password": STAFF_PASSWORD}
    )

    assert response.headers["Location"] == "/centre/"


def test_wrong_password_is_refused_in_french_and_audited(client, db):
    user = make_staff()
    db.session.commit()

    response = sign_in_staff(client, user, password="pas le bon mot de passe")

    assert response.status_code == 401
    assert WRONG_CREDENTIALS in page_text(response)
    assert signed_in_identity(client) is None
    assert_sent_to_sign_in(client)
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "sign_in_failed")
    ).scalar_one()
    assert (event.actor_kind, event.target_id) == (ActorKind.ANONYMOUS, user.email)
    assert "sign_in" not in audit_actions(db)


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, db):
    user = make_staff()
    db.session.commit()

    wrong_password = sign_in_staff(client, user, password="pas le bon mot de passe")
    unknown = client.post(
        "/connexion", data={"email": "personne@example.org", "password": STAFF_PASSWORD}
    )

    assert unknown.status_code == wrong_password.status_code == 401
    assert WRONG_CREDENTIALS in page_text(unknown)
    # Nothing else tells the two apart: same page but for the email typed back into the form
    # (and the CSRF token, which carries a timestamp).
    assert without_csrf_tokens(page_text(unknown)).replace(
        "personne@example.org", user.email
    ) == without_csrf_tokens(page_text(wrong_password))
    assert signed_in_identity(client) is None
    assert audit_actions(db) == ["staff_created", "sign_in_failed", "sign_in_failed"]


def test_empty_form_is_a_french_validation_error(client, db):
    response = client.post("/connexion", data={})

    assert response.status_code == 422
    text = page_text(response)
    assert "Saisissez votre adresse e-mail." in text
    assert "Saisissez votre mot de passe." in text
    assert audit_actions(db) == []


def test_deactivated_account_cannot_sign_in_and_is_told_so_only_with_the_right_password(client, db):
    user = make_staff()
    user.active = False
    db.session.commit()

    guessed = client.post("/connexion", data={"email": user.email, "password": "pas le bon"})
    response = sign_in_staff(client, user)

    assert guessed.status_code == 401
    assert WRONG_CREDENTIALS in page_text(guessed)
    assert response.status_code == 401
    assert "Ce compte est désactivé : adressez-vous à un administrateur du centre." in page_text(
        response
    )
    assert signed_in_identity(client) is None
    assert audit_actions(db)[-2:] == ["sign_in_failed", "sign_in_refused_inactive"]


def test_deactivating_an_account_ends_its_open_sign_in(client, db, app):
    user, admin = make_staff(), make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, user)
    admin_client = fresh_client(app)
    sign_in_staff(admin_client, admin)

    response = admin_client.post(f"/admin/personnel/{user.id}/statut", follow_redirects=True)

    assert "désactivé : ses connexions en cours sont terminées." in page_text(response)
    db.session.refresh(user)
    assert user.active is False
    assert_sent_to_sign_in(client)
    assert audit_actions(db, action="staff_activation_changed") == ["staff_activation_changed"]


def test_reactivating_an_account_does_not_bring_its_old_sign_in_back(client, db, app):
    user, admin = make_staff(), make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, user)
    admin_client = fresh_client(app)
    sign_in_staff(admin_client, admin)

    admin_client.post(f"/admin/personnel/{user.id}/statut")
    response = admin_client.post(f"/admin/personnel/{user.id}/statut", follow_redirects=True)

    assert "réactivé" in page_text(response)
    db.session.refresh(user)
    assert user.active is True
    assert_sent_to_sign_in(client)
    assert sign_in_staff(client, user).status_code == 302


def test_admin_cannot_deactivate_their_own_account(client, db):
    admin = make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, admin)

    response = client.post(f"/admin/personnel/{admin.id}/statut", follow_redirects=True)

    assert "Vous ne pouvez pas désactiver votre propre compte." in page_text(response)
    db.session.refresh(admin)
    assert admin.active is True


def test_signed_in_staff_visiting_the_sign_in_page_goes_to_their_sessions(client, db):
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)

    response = client.get("/connexion")

    assert response.status_code == 302
    assert response.headers["Location"] == "/centre/"


# --------------------------------------------------------------------------- signing out


def test_sign_out_is_audited_and_protected_pages_ask_to_sign_in_again(client, db):
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)
    assert client.get("/centre/").status_code == 200

    response = client.post("/deconnexion")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_identity(client) is None
    assert_sent_to_sign_in(client)
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "sign_out")
    ).scalar_one()
    assert (event.actor_kind, event.actor_id) == (ActorKind.STAFF, user.id)


def test_sign_out_needs_a_post(client, db):
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)

    assert client.get("/deconnexion").status_code == 405
    assert client.get("/centre/").status_code == 200


# --------------------------------------------------------------------------- passwords


def test_password_reset_by_an_admin_ends_the_other_sign_ins(client, db, app):
    user, admin = make_staff(), make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, user)
    assert client.get("/centre/").status_code == 200
    admin_client = fresh_client(app)
    sign_in_staff(admin_client, admin)

    response = admin_client.post(
        f"/admin/personnel/{user.id}/mot-de-passe",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 303
    assert_sent_to_sign_in(client)  # the old cookie no longer works
    assert admin_client.get("/centre/").status_code == 200  # the admin's own sign-in goes on
    db.session.refresh(user)
    assert credentials.password_matches(user.password_hash, NEW_PASSWORD)
    assert audit_actions(db, action="staff_password_reset") == ["staff_password_reset"]
    assert sign_in_staff(fresh_client(app), user).status_code == 401
    assert sign_in_staff(fresh_client(app), user, password=NEW_PASSWORD).status_code == 302


def test_password_reset_form_errors_are_french_and_change_nothing(client, db):
    user, admin = make_staff(), make_staff(admin=True)
    db.session.commit()
    old_hash = user.password_hash
    sign_in_staff(client, admin)

    short = client.post(
        f"/admin/personnel/{user.id}/mot-de-passe", data={"password": "court", "confirm": "court"}
    )
    mismatch = client.post(
        f"/admin/personnel/{user.id}/mot-de-passe",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"},
    )

    assert short.status_code == mismatch.status_code == 422
    assert "Le mot de passe doit compter au moins 12 caractères." in page_text(short)
    assert "Les deux mots de passe ne sont pas identiques." in page_text(mismatch)
    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert audit_actions(db, action="staff_password_reset") == []


def test_reset_password_of_an_unknown_account_is_404(client, db):
    admin = make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, admin)

    assert client.get("/admin/personnel/999999/mot-de-passe").status_code == 404


def own_change(current: str = STAFF_PASSWORD) -> dict:
    return {"current": current, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


def test_changing_ones_own_password_needs_the_current_one(client, db, app):
    """A signed-in browser left open (or a stolen cookie) cannot take the account for good."""
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)
    old_hash = user.password_hash

    missing = client.post("/compte/mot-de-passe", data=own_change(current=""))
    wrong = client.post("/compte/mot-de-passe", data=own_change(current="devine"))

    assert missing.status_code == 422
    assert "Saisissez votre mot de passe actuel." in page_text(missing)
    assert wrong.status_code == 422
    assert "Mot de passe actuel incorrect." in page_text(wrong)
    db.session.refresh(user)
    assert user.password_hash == old_hash
    # A wrong current password counts against the account, like a failed sign-in.
    limit = int(app.config["SIGN_IN_SLOWDOWN_AFTER"])
    for _ in range(limit - 1):
        client.post("/compte/mot-de-passe", data=own_change(current="devine"))
    slowed = client.post("/compte/mot-de-passe", data=own_change())
    assert slowed.status_code == 429 and "Trop de tentatives" in page_text(slowed)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_changing_ones_own_password_keeps_this_device_and_ends_the_others(client, db, app):
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)
    other_device = fresh_client(app)
    sign_in_staff(other_device, user)

    response = client.post("/compte/mot-de-passe", data=own_change())

    assert response.status_code == 303
    assert client.get("/centre/").status_code == 200
    assert_sent_to_sign_in(other_device)
    db.session.refresh(user)
    assert credentials.password_matches(user.password_hash, NEW_PASSWORD)


def test_after_changing_ones_password_the_request_still_knows_who_is_signed_in(client, db):
    """Flask-Login's user_logged_in signal (and any later use of current_user in the request)
    must get the staff member, not a proxy that points at itself."""
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)
    seen = []

    def remember_who(_app, user):
        seen.append(user.email)

    with user_logged_in.connected_to(remember_who):
        response = client.post("/compte/mot-de-passe", data=own_change())

    assert response.status_code == 303
    assert seen == [user.email]


# --------------------------------------------------------------------------- admin pages


def test_admin_lists_the_staff_accounts(client, db):
    admin = make_staff(admin=True)
    colleague = make_staff(email="collegue@example.org")
    db.session.commit()
    sign_in_staff(client, admin)

    response = client.get("/admin/personnel")

    assert response.status_code == 200
    text = page_text(response)
    assert admin.email in text and colleague.email in text
    assert 'id="staff-create-form"' in text


def test_admin_creates_a_staff_account(client, db, app):
    admin = make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, admin)

    response = client.post(
        "/admin/personnel",
        data={
            "name": "Camille Martin",
            "email": "Camille.Martin@example.org",
            "role": "staff",
            "password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/personnel"
    created = db.session.execute(
        select(StaffUser).where(StaffUser.email == "camille.martin@example.org")
    ).scalar_one()
    assert (created.name, created.role, created.active) == ("Camille Martin", StaffRole.STAFF, True)
    assert created.password_hash != NEW_PASSWORD
    assert credentials.password_matches(created.password_hash, NEW_PASSWORD)
    event = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "staff_created", AuditEvent.actor_id == admin.id
        )
    ).scalar_one()
    assert event.target_id == str(created.id)
    # The new account works at once.
    new_client = fresh_client(app)
    assert sign_in_staff(new_client, created, password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"name": "A", "email": "a@example.org", "role": "staff", "password": "court"},
            "Le mot de passe doit compter au moins 12 caractères.",
        ),
        (
            {"name": "A", "email": "pas-une-adresse", "role": "staff", "password": NEW_PASSWORD},
            "Adresse e-mail invalide.",
        ),
        (
            {"name": "", "email": "a@example.org", "role": "staff", "password": NEW_PASSWORD},
            "Saisissez le nom.",
        ),
        (
            {"name": "A", "email": "a@example.org", "role": "root", "password": NEW_PASSWORD},
            "N'est pas un choix valide.",  # WTForms' own message, in French
        ),
    ],
    ids=["short password", "bad email", "no name", "unknown role"],
)
def test_staff_form_errors_re_render_with_422_and_write_nothing(client, db, form, message):
    admin = make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, admin)
    before = staff_count(db)

    response = client.post("/admin/personnel", data=form)

    assert response.status_code == 422
    assert 'id="staff-create-form"' in page_text(response)
    assert message in page_text(response)
    assert staff_count(db) == before
    assert audit_actions(db, action="staff_created") == ["staff_created"]  # the admin's own


def test_a_second_account_with_the_same_email_is_refused(client, db):
    admin = make_staff(admin=True)
    make_staff(email="deja@example.org")
    db.session.commit()
    sign_in_staff(client, admin)

    response = client.post(
        "/admin/personnel",
        data={"name": "B", "email": "DEJA@example.org", "role": "admin", "password": NEW_PASSWORD},
    )

    assert response.status_code == 422
    assert "Un compte existe déjà avec l'adresse deja@example.org." in page_text(response)
    assert staff_count(db) == 2


def test_plain_staff_cannot_use_the_admin_pages(client, db):
    user, other = make_staff(), make_staff()
    db.session.commit()
    sign_in_staff(client, user)
    before = staff_count(db)

    assert client.get("/admin/personnel").status_code == 403
    refused = client.post(
        "/admin/personnel",
        data={"name": "X", "email": "x@example.org", "role": "admin", "password": NEW_PASSWORD},
    )
    assert refused.status_code == 403
    assert "Accès refusé" in page_text(refused)
    assert client.post(f"/admin/personnel/{other.id}/statut").status_code == 403
    assert staff_count(db) == before
    db.session.refresh(other)
    assert other.active is True


# --------------------------------------------------------------------------- CLI


def staff_create(runner, **options):
    """`flask staff create --email … --name … --role … --password …`"""
    args = ["staff", "create"]
    for name, value in options.items():
        args += [f"--{name}", value]
    return runner.invoke(args=args)


def test_cli_creates_the_first_admin(runner, db):
    result = staff_create(
        runner,
        email="Admin@Example.org",
        name="Première Admin",
        role="admin",
        password=NEW_PASSWORD,
    )

    assert result.exit_code == 0, result.output
    assert "admin@example.org" in result.output
    user = db.session.execute(select(StaffUser)).scalar_one()
    assert (user.email, user.name, user.role) == ("admin@example.org", "Première Admin", "admin")
    assert credentials.password_matches(user.password_hash, NEW_PASSWORD)
    assert audit_actions(db, action="staff_created") == ["staff_created"]


def test_cli_refuses_a_short_password(runner, db):
    result = staff_create(runner, email="a@example.org", name="A", role="staff", password="court")

    assert result.exit_code != 0
    assert "au moins 12 caractères" in result.output
    assert staff_count(db) == 0


def test_cli_refuses_a_duplicate_email(runner, db):
    make_staff(email="deja@example.org")
    db.session.commit()

    result = staff_create(
        runner, email="deja@example.org", name="B", role="admin", password=NEW_PASSWORD
    )

    assert result.exit_code != 0
    assert "Un compte existe déjà avec l'adresse deja@example.org." in result.output
    assert staff_count(db) == 1
    assert db.session.execute(select(StaffUser.role)).scalar_one() == StaffRole.STAFF


def test_after_signing_out_a_copy_of_the_staff_cookie_is_signed_out_too(client, db, app):
    user = make_staff()
    db.session.commit()
    sign_in_staff(client, user)
    thief = fresh_client(app)
    thief.set_cookie("ntc_session", client.get_cookie("ntc_session").value)
    assert thief.get("/centre/").status_code == 200

    client.post("/deconnexion")

    assert_sent_to_sign_in(thief)
    assert sign_in_staff(fresh_client(app), user).status_code == 302


def test_an_admin_changes_their_own_password_on_the_page_that_asks_for_the_current_one(client, db):
    admin = make_staff(admin=True)
    db.session.commit()
    sign_in_staff(client, admin)

    for method in ("get", "post"):
        response = getattr(client, method)(
            f"/admin/personnel/{admin.id}/mot-de-passe",
            data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/compte/mot-de-passe"
    db.session.refresh(admin)
    assert credentials.password_matches(admin.password_hash, STAFF_PASSWORD)
    assert "/compte/mot-de-passe" in page_text(client.get("/centre/"))

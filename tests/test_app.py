"""The app factory, its configuration and the pages every visitor sees."""

from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import text

from ntc_jury import create_app
from tests.conftest import make_test_app


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("NTC_SECRET_KEY", raising=False)
    monkeypatch.setenv("NTC_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("NTC_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    first = create_app()
    second = create_app()
    path = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == path.read_text().strip()
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("NTC_DATABASE_URL", raising=False)
    monkeypatch.setenv("NTC_INSTANCE_PATH", str(tmp_path / "inst"))
    monkeypatch.setenv("NTC_SECRET_KEY", "k")
    app = create_app()
    expected = tmp_path / "inst" / "ntc_jury.sqlite"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"


def test_settings_come_from_ntc_prefixed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NTC_SECRET_KEY", "from-env")
    monkeypatch.setenv("NTC_DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    monkeypatch.setenv("NTC_JURY_LINK_DAYS_AFTER", "3")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")
    assert app.config["JURY_LINK_DAYS_AFTER"] == 3


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'wal.sqlite'}")
    from ntc_jury.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
        db.engine.dispose()


def test_home_page_is_french_and_says_where_to_sign_in(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert "Négociateur technico-commercial" in html
    assert "code PIN" in html
    assert 'href="/connexion"' in html


def test_every_script_is_served_locally_and_htmx_is_vendored(client, app):
    import re

    html = client.get("/").get_data(as_text=True)
    head = html.split("<body")[0]
    assert "https://" not in head and "http://" not in head
    scripts = re.findall(r'<script src="([^"]+)"', html)
    htmx = [s for s in scripts if "htmx-2.0.11.min." in s]
    assert htmx and htmx[0].startswith("/assets/vendor/")
    with client.get(htmx[0], headers={"Accept-Encoding": "br, gzip"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "br"
        assert "immutable" in response.headers["Cache-Control"]
        assert len(response.data) < 20_000  # compressed: about 16 KB instead of 52 KB
    assert (Path(app.static_folder) / "vendor" / "htmx-2.0.11.min.js").exists()


def test_a_changed_asset_gets_a_new_name(app):
    from ntc_jury.assets import _fingerprints

    names = _fingerprints(Path(app.static_folder))
    assert names["css/app.css"].startswith("css/app.") and names["css/app.css"] != "css/app.css"
    assert len(set(names.values())) == len(names)


def test_no_inline_script_in_any_template(app):
    from pathlib import Path

    templates = Path(app.root_path) / "templates"
    for path in templates.rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        for chunk in source.split("<script")[1:]:
            assert " src=" in chunk.split(">", 1)[0], f"inline script in {path}"
        assert " onclick=" not in source and " onload=" not in source, path


def test_french_error_pages(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_server_error_page_is_french(app, db):
    from ntc_jury.access import public

    @public
    def boom():
        raise RuntimeError("boom")

    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.view_functions["main.home"], original = boom, app.view_functions["main.home"]
    try:
        response = app.test_client().get("/")
    finally:
        app.view_functions["main.home"] = original
        app.testing = True
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert "Erreur du serveur" in response.get_data(as_text=True)


def test_language_switch_sets_a_cookie_and_switches_to_english(client):
    response = client.post("/langue", data={"lang": "en", "next": "/"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in" in html or "jury" in html.lower()
    client.post("/langue", data={"lang": "fr", "next": "/"})
    assert '<html lang="fr">' in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    response = client.post("/langue", data={"lang": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_health_check_touches_the_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_pages_are_compressed_and_responses_within_one_packet_are_not(client, app):
    """A tick's fragment or answer fits in one TCP segment: compressing it saves no packet."""
    from ntc_jury.extensions import compress

    page = client.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert page.headers.get("Content-Encoding") == "br"
    with app.test_request_context(headers={"Accept-Encoding": "br, gzip"}):
        for size, encoded in ((1300, False), (1500, True)):
            response = app.make_response("x" * size)
            assert response.mimetype == "text/html"
            compress.after_request(response)
            assert ("Content-Encoding" in response.headers) is encoded, size

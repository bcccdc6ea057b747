"""ntc-jury: the exam-day app of titre professionnel juries."""

from __future__ import annotations

import os

from flask import Flask

from . import config as settings
from .extensions import babel, compress, csrf, db, login_manager, migrate
from .models.base import render_migration_item


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints and commands."""
    # NTC_INSTANCE_PATH puts the instance folder (database, secret key) elsewhere.
    app = Flask(
        __name__,
        instance_path=os.environ.get("NTC_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    app.config.from_mapping(settings.DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("NTC")
    else:
        app.config.from_mapping(test_config)
    _finish_config(app)

    db.init_app(app)
    # Batch mode: SQLite can only alter tables by copying them.
    migrate.init_app(
        app,
        db,
        directory=str(_migrations_dir()),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)
    compress.init_app(app)
    login_manager.init_app(app)
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)

    from . import assets, auth, centre, cli, deliberation, http, jury, main, minutes, pwa
    from .auth import identity  # noqa: F401  (registers the user loader)

    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    http.init_app(app)
    assets.init_app(app)
    blueprints = (main.bp, auth.bp, centre.bp, jury.bp, deliberation.bp, pwa.bp)
    for blueprint in (*blueprints, minutes.bp, minutes.public_bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app


def _finish_config(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_secret_key(app.instance_path)
    uri = settings.database_uri(app.config, app.instance_path)
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        from pathlib import Path

        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", settings.engine_options(uri, app.config))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["SECURE_COOKIES"])
    app.config["SESSION_COOKIE_NAME"] = "ntc_session"
    app.config["REMEMBER_COOKIE_NAME"] = "ntc_remember"
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # a juror's page stays open all day


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"

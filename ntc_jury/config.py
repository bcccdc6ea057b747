"""Default settings. Override with NTC_* environment variables or instance/config.py.

Every setting is listed in the README's configuration table.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS: dict[str, object] = {
    # Database: any SQLAlchemy URL; SQLite in the instance folder when unset.
    "DATABASE_URL": None,
    "SQLITE_BUSY_TIMEOUT_SECONDS": 15,
    # Language of the interface; English is available as a catalogue.
    "BABEL_DEFAULT_LOCALE": "fr",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
    "LANGUAGES": ["fr", "en"],
    # Cookies: Secure only when served over HTTPS.
    "SECURE_COOKIES": False,
    # Jury access links work from the day before the session until this many days after it.
    "JURY_LINK_DAYS_AFTER": 7,
    # Sign-in throttling: failures before slowing down, before blocking, and block duration.
    "SIGN_IN_SLOWDOWN_AFTER": 3,
    "SIGN_IN_BLOCK_AFTER": 10,
    "SIGN_IN_BLOCK_MINUTES": 15,
    # Retention of personal data after a session is closed (the minutes are kept).
    "RETENTION_YEARS": 5,
    # PDF engine: "weasyprint" (PDF/A) or "pdfkit" (needs wkhtmltopdf, no PDF/A).
    "PDF_ENGINE": "weasyprint",
    # Suggestion thresholds (DESIGN.md §3).
    "CRITERION_MIN_SHARE": 0.5,
    "CRITERION_STRICT": True,
    "MASTERED_AT": 1.0,
    "NOT_MASTERED_BELOW": 0.5,
    # Compression (Flask-Compress), brotli first, for text responses larger than one TCP
    # segment: a smaller one (a tick's fragment) arrives in one packet either way, and
    # compressing it only costs the server CPU on the exam day's busiest request.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_MIN_SIZE": 1400,
    # Files sent as streams (Flask's /static/, PDFs, ZIPs) are left alone: assets are served
    # precompressed by assets.py, and compressing a stream left its file handle open.
    "COMPRESS_STREAMS": False,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
    ],
    # Reverse proxies in front of the app (nginx, Caddy): how many X-Forwarded-For/-Proto
    # hops to trust. 0 trusts none (a client could forge its address); set 1 behind one
    # proxy, or every visitor shares the proxy's address (sign-in limits, audit log).
    "PROXY_HOPS": 0,
    # Largest request body read at all (bytes); the candidate import allows 10 MB files.
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
    # Public base URL printed in access cards and on the minutes (verification link).
    "PUBLIC_URL": "http://127.0.0.1:5000",
}


def load_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating it on first run; never a hard-coded default."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with owner-only permissions before anything is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def database_uri(config: dict, instance_path: str) -> str:
    url = config.get("DATABASE_URL") or config.get("SQLALCHEMY_DATABASE_URI")
    if url:
        return str(url)
    return "sqlite:///" + str(Path(instance_path) / "ntc_jury.sqlite")


def engine_options(uri: str, config: dict) -> dict:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": float(config["SQLITE_BUSY_TIMEOUT_SECONDS"])}}
    return {"pool_pre_ping": True}

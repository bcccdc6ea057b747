"""Static files under fingerprinted names (`css/app.3f2a91c0d4.css`), cached for a year.

A file's name changes when its content does, so browsers and the service worker can keep
it forever; the service worker's version is derived from the same fingerprints.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
from pathlib import Path

import brotli
from flask import Blueprint, Flask, Response, abort, current_app, request

from .access import public

bp = Blueprint("assets", __name__)
ONE_YEAR = 365 * 24 * 3600
_SUFFIXES = {".css", ".js", ".svg", ".png", ".webmanifest", ".json", ".ico"}


def _fingerprints(static_folder: Path) -> dict[str, str]:
    names = {}
    for path in sorted(static_folder.rglob("*")):
        if path.is_file() and path.suffix in _SUFFIXES:
            name = path.relative_to(static_folder).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, suffix = name.rpartition(".")
            names[name] = f"{stem}.{digest}{dot}{suffix}"
    return names


def init_app(app: Flask) -> None:
    names = _fingerprints(Path(app.static_folder))
    app.extensions["ntc_assets"] = {
        "names": names,
        "reverse": {hashed: plain for plain, hashed in names.items()},
        "version": hashlib.sha256("".join(sorted(names.values())).encode()).hexdigest()[:12],
    }
    app.register_blueprint(bp)
    app.add_template_global(asset_url)


def asset_url(name: str) -> str:
    """The fingerprinted URL of a static file."""
    assets = current_app.extensions["ntc_assets"]
    return "/assets/" + assets["names"][name]


def assets_version() -> str:
    return current_app.extensions["ntc_assets"]["version"]


# What a juror's pages need offline; staff styles and the large install icons stay out.
SHELL = (
    "css/app.css",
    "css/print.css",
    "js/app.js",
    "js/outbox.js",
    "js/timer.js",
    "vendor/htmx-2.0.11.min.js",
    "vendor/idb-keyval-6.3.0.umd.js",
    "icons/icon.svg",
    "icons/icon-192.png",
)


def shell_assets() -> list[str]:
    """The fingerprinted URLs the service worker precaches (the juror's app shell)."""
    return [asset_url(name) for name in SHELL]


_encoded: dict[str, dict[str, bytes]] = {}
_encoded_lock = threading.Lock()
_COMPRESSIBLE = {".css", ".js", ".svg", ".webmanifest", ".json"}


def _variants(plain: str) -> dict[str, bytes]:
    """The file's bytes, plus its gzip and brotli forms, made once per process."""
    found = _encoded.get(plain)
    if found is None:
        raw = (Path(current_app.static_folder) / plain).read_bytes()
        found = {"identity": raw}
        if Path(plain).suffix in _COMPRESSIBLE:
            found["br"] = brotli.compress(raw, quality=11)
            found["gzip"] = gzip.compress(raw, compresslevel=9, mtime=0)
        with _encoded_lock:
            _encoded[plain] = found
    return found


@bp.get("/assets/<path:hashed>")
@public
def asset(hashed: str):
    """A static file by its fingerprinted name, precompressed, cacheable for a year."""
    plain = current_app.extensions["ntc_assets"]["reverse"].get(hashed)
    if plain is None:
        abort(404)
    variants = _variants(plain)
    accepted = request.accept_encodings
    encoding = next((e for e in ("br", "gzip") if e in variants and accepted[e]), "identity")
    mimetype = mimetypes.guess_type(plain)[0] or "application/octet-stream"
    response = Response(variants[encoding], mimetype=mimetype)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response

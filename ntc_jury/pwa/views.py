from flask import jsonify, make_response, render_template, url_for
from flask_babel import gettext as _

from ..access import public
from ..assets import asset_url, assets_version, shell_assets
from . import bp

# (purpose, file name prefix) of the manifest's icons, each at 192 and 512 px.
_ICONS = (("any", "icon"), ("maskable", "icon-maskable"))


@bp.get("/manifest.webmanifest")
@public
def manifest():
    """The web app manifest: installable, opens on the juror's session."""
    response = jsonify(_web_app_manifest())
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _web_app_manifest() -> dict:
    return {
        "name": _("NTC Jury — jury du titre professionnel"),
        "short_name": _("NTC Jury"),
        "description": _("Grilles d'observation et délibération du jury, même sans réseau."),
        "lang": "fr",
        "dir": "ltr",
        "id": "/jury/",
        "start_url": url_for("jury.session_home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": "#1d4e89",
        "background_color": "#f3f5f8",
        "icons": [
            {
                "src": asset_url(f"icons/{name}-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for purpose, name in _ICONS
            for size in (192, 512)
        ],
    }


@bp.get("/sw.js")
@public
def service_worker():
    """The service worker, at the root so its scope is the whole app."""
    body = render_template(
        "pwa/sw.js",
        version=assets_version(),
        shell=[*shell_assets(), url_for("pwa.offline")],
        offline_url=url_for("pwa.offline"),
    )
    response = make_response(body)
    response.mimetype = "text/javascript"
    # Browsers must always revalidate the worker itself, or updates would stall.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/hors-ligne")
@public
def offline():
    """Shown when a page was never visited and the network is gone."""
    return render_template("pwa/offline.html")

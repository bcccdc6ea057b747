"""Tests of signing in: staff accounts, jurors' link + PIN, throttling.

`fresh_client` is shared with tests/test_access_rules.py and tests/test_security_headers.py.
"""

from __future__ import annotations

import html

from flask import g, has_app_context
from flask.testing import FlaskClient


class RequestIsolatedClient(FlaskClient):
    """A test client whose requests never see what an earlier request left on `flask.g`.

    The `db` fixture keeps one application context pushed for the whole test and each request
    reuses it, so `g` would outlive a request. Flask-Login caches the signed-in person there:
    without this, a juror whose link was revoked would still look signed in on the next
    request of the same test, and one client's person would leak into another client's request.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


def fresh_client(app) -> RequestIsolatedClient:
    return RequestIsolatedClient(app, app.response_class, use_cookies=True)


def page_text(response) -> str:
    """The response body with HTML entities decoded (French apostrophes are escaped)."""
    return html.unescape(response.get_data().decode("utf-8", "replace"))

"""Locale choice: the visitor's saved choice, else French (the jury's language)."""

from flask import current_app, has_request_context, request

LANGUAGE_COOKIE = "ntc_lang"


def select_locale() -> str:
    # Commands (no request) speak the default language.
    chosen = request.cookies.get(LANGUAGE_COOKIE) if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]

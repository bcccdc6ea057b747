"""Locale choice: the visitor's saved choice, else French (the jury's language)."""

from flask import current_app, request

LANGUAGE_COOKIE = "ntc_lang"


def select_locale() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]

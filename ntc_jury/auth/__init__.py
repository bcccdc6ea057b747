"""Signing in: staff accounts, jurors' link + PIN, and who may use which route."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401  (registers the routes)

"""The archive: the procès-verbal and result sheets as stored PDFs, the session export,
integrity checks of the audit log and the documents, and the retention purge.

Two blueprints: the staff archive under /centre/archive, and the public verification page
that answers whether a printed SHA-256 belongs to a stored document.
"""

from flask import Blueprint

bp = Blueprint("minutes", __name__, url_prefix="/centre/archive")
public_bp = Blueprint("verification", __name__)

from . import views  # noqa: E402,F401  (registers the routes)

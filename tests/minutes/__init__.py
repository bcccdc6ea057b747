"""Tests of the archive: stored PDFs, the session export, integrity checks and retention."""

"""Printable documents (convocations, minutes) rendered from HTML to PDF."""

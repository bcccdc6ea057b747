"""Access cards: the juror's personal link as text and as a QR code (SVG made on the server)."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from flask import current_app, request, url_for

from ..auth.operations import IssuedAccess


@dataclass(frozen=True)
class AccessCard:
    name: str
    role_is_chair: bool
    link: str
    pin: str
    qr_svg: str


def access_link(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + url_for("auth.juror_link", token=token)


def card_for(issued: IssuedAccess, base_url: str) -> AccessCard:
    link = access_link(base_url, issued.token)
    qr = segno.make(link, error="m")
    svg = qr.svg_inline(scale=4, dark="#000", light="#fff", omitsize=True, title=None)
    return AccessCard(
        name=issued.member.full_name,
        role_is_chair=issued.member.is_chair,
        link=link,
        pin=issued.pin,
        qr_svg=svg,
    )


def link_base_mismatch() -> tuple[str, str] | None:
    """(printed base, address in use) when the links printed on the cards would point
    elsewhere than where staff reach the app (NTC_PUBLIC_URL left at its default, for
    instance); None when they agree."""
    printed = current_app.config["PUBLIC_URL"].rstrip("/")
    here = request.host_url.rstrip("/")
    if printed.lower() == here.lower():
        return None
    return printed, here

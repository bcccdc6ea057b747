"""Centre staff accounts and the shared sign-in failure counters."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.vocabulary import StaffRole
from .base import Base, UTCDateTime, created_at_column, enum_column


class StaffUser(UserMixin, Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[StaffRole] = enum_column(StaffRole, default=StaffRole.STAFF)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = created_at_column()
    # Counted up at each sign-out: part of the sign-in's fingerprint, so a copied cookie
    # stops working once its owner signs out (auth/identity.py).
    sign_out_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    kind = "staff"

    def get_id(self) -> str:
        from ..auth.identity import staff_identity

        return staff_identity(self)

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


class SignInThrottle(Base):
    """Failures per key ("link:…", "account:…", "ip:…"); in the database so all processes agree."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    blocked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

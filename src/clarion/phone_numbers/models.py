"""The phone numbers table, and the plain record its rows are read into."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import cast

from sqlalchemy import Index, LargeBinary, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clarion.database.schema import Base, Identifier, OrganizationScoped, UTCDateTime

NUMBER_MAX = 16  # "+" and at most 15 digits (E.164)
PROVIDER_MAX = 16
NAME_MAX = 200
ACCOUNT_SID_LENGTH = 34
HINT_LENGTH = 4


class PhoneNumberRow(OrganizationScoped, Base):
    """One phone number an organization holds at a carrier."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        # A number is one line: an organization holds it once. Also serves the lookup by
        # number.
        UniqueConstraint("organization_id", "number"),
        # Serves the lookup of a number Twilio reports a call to, across organizations.
        Index("ix_phone_numbers_number", "number"),
        # Serves the list: one organization's numbers, newest first, filtered by date.
        Index(
            "ix_phone_numbers_organization_id_created_at_id", "organization_id", "created_at", "id"
        ),
        # An id is never handed out twice: a call keeps the id of the number it was made with,
        # which must not come to name another number.
        {"sqlite_autoincrement": True},
    )

    number: Mapped[str] = mapped_column(String(NUMBER_MAX))
    provider: Mapped[str] = mapped_column(String(PROVIDER_MAX))
    name: Mapped[str | None] = mapped_column(String(NAME_MAX), default=None)
    # No foreign key, as for calls: the service checks the assistant is the organization's
    # when the link is made, and a deleted assistant (which a restore brings back under its
    # id) leaves the link as it was.
    assistant_id: Mapped[int | None] = mapped_column(Identifier, default=None)
    twilio_account_sid: Mapped[str] = mapped_column(String(ACCOUNT_SID_LENGTH))
    # AES-GCM ciphertext of the auth token (clarion.storage.secret_box); never the token.
    twilio_auth_token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # The token's last characters, or None (see clarion.api.secret_resources.key_hint).
    twilio_auth_token_hint: Mapped[str | None] = mapped_column(String(HINT_LENGTH), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


PHONE_NUMBERS = cast(Table, PhoneNumberRow.__table__)


@dataclass(slots=True)
class PhoneNumberRecord:
    """A PhoneNumberRow read into a plain record. Field order is the table's column order."""

    id: int
    organization_id: int
    number: str
    provider: str
    name: str | None
    assistant_id: int | None
    twilio_account_sid: str
    # The ciphertext is nothing without the server key, but has no place in a log either.
    twilio_auth_token_encrypted: bytes = field(repr=False)
    twilio_auth_token_hint: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


assert [f.name for f in fields(PhoneNumberRecord)] == [c.name for c in PHONE_NUMBERS.columns]  # noqa: S101

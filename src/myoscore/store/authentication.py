"""Who a user is: creating accounts, setting passwords, signing in.

The rules of :mod:`myoscore.store.passwords` applied to the ``readers`` table, each in
the caller's unit of work or its own transaction. On PostgreSQL every user also gets
their own login role (migration 0009), and a signed-in user's session runs as that role.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from myoscore.domain import AccessDenied, Reader, Role
from myoscore.store._rows import audit, reader_of
from myoscore.store.database import Database, aware, utcnow
from myoscore.store.passwords import (
    backoff,
    burn_verify,
    check_new_password,
    hash_password,
    needs_rehash,
    scram_verifier,
    verify_password,
)
from myoscore.store.tables import ReaderRow


def new_user_row(session: Session, name: str, role: Role, password: str) -> ReaderRow:
    """Add a user (password checked against the policy, hashed; PostgreSQL: their role)."""
    check_new_password(name, password)
    row = ReaderRow(name=name, role=role.value, password_hash=hash_password(password), active=True,
                    created_at=utcnow())
    session.add(row)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        row.db_role = _create_db_role(session, name, role, password)
    return row


def set_user_password(session: Session, row: ReaderRow, password: str) -> None:
    """A new password (policy-checked) also lifts a back-off; PostgreSQL: the role's too."""
    check_new_password(row.name, password)
    row.password_hash = hash_password(password)
    row.failed_sign_ins, row.locked_until = 0, None
    if row.db_role:
        session.execute(text("SELECT myoscore_set_role_password(:role, :password)"),
                        {"role": row.db_role, "password": scram_verifier(password)})


def bootstrap_coordinator(database: Database, name: str, password: str) -> Reader:
    """Create the study's first coordinator (``myoscore init --coordinator NAME``).

    Refused once the database has a coordinator: from then on only a signed-in
    coordinator adds users.
    """
    name = name.strip()
    with database.transaction() as session:
        if session.scalar(select(ReaderRow.id).where(ReaderRow.role == Role.COORDINATOR.value).limit(1)):
            raise AccessDenied("this database already has a coordinator: sign in as one to add users")
        if session.scalar(select(ReaderRow.id).where(ReaderRow.name == name)):
            raise AccessDenied(f"a user named {name!r} already exists")
        row = new_user_row(session, name, Role.COORDINATOR, password)
        audit(session, f"bootstrap:{name}", "add_reader", f"reader {name}", None, Role.COORDINATOR.value)
        return reader_of(row)


def authenticate(database: Database, name: str, password: str) -> tuple[Reader, Database]:
    """The user, and the database to reach as them (PostgreSQL: as their own role).

    An unknown name costs the same hashing time as a wrong password and gets the same
    message. After a few failures in a row the user must wait (exponential back-off,
    :func:`myoscore.store.passwords.backoff`) before an attempt is checked at all; every
    attempt, refused ones included, is audited.
    """
    refusal = f"wrong name or password for {name!r}"
    reader: Reader | None = None
    db_role: str | None = None
    with database.transaction() as session:
        row = session.scalars(select(ReaderRow).where(ReaderRow.name == name)).one_or_none()
        now = utcnow()
        if row is None:
            burn_verify(password)
            audit(session, name, "sign_in_failed", f"reader {name}")
        elif row.locked_until is not None and aware(row.locked_until) > now:
            wait = max(1, round((aware(row.locked_until) - now).total_seconds()))
            refusal = (f"too many failed sign-ins for {name!r}: wait {wait} s before trying again "
                       "(or ask a coordinator to set a new password)")
            audit(session, name, "sign_in_refused", f"reader {name}", None, f"back-off {wait} s")
        elif verify_password(password, row.password_hash) and row.active:
            row.failed_sign_ins, row.locked_until = 0, None
            if needs_rehash(row.password_hash):
                row.password_hash = hash_password(password)
            audit(session, name, "sign_in", f"reader {name}")
            reader, db_role = reader_of(row), row.db_role
        else:
            row.failed_sign_ins = (row.failed_sign_ins or 0) + 1
            delay = backoff(row.failed_sign_ins)
            row.locked_until = now + delay if delay else None
            audit(session, name, "sign_in_failed", f"reader {name}", None, f"{row.failed_sign_ins} in a row")
    if reader is None:
        raise AccessDenied(refusal)
    if db_role:
        # PostgreSQL: the session runs as the user's own role, so the server itself
        # refuses what their policies do not allow, whatever the code above it does.
        database = _as_role(database, db_role, password)
    return reader, database


def _create_db_role(session: Session, name: str, role: Role, password: str) -> str:
    """PostgreSQL: the user's own login role, in the group whose policies apply to them
    (migration 0009). Its password is the user's, sent as its SCRAM-SHA-256 secret so the
    password itself never reaches the server (nor its statement log)."""
    # Roles are the server's, shared by every database on it: a random part keeps two
    # studies' "radiologist" apart.
    slug = "".join(c if c.isascii() and c.isalnum() else "_" for c in name.lower())[:40]
    db_role = f"myoscore_{slug}_{secrets.token_hex(4)}"
    group = "myoscore_coordinator" if role is Role.COORDINATOR else "myoscore_reader"
    session.execute(text("SELECT myoscore_create_role(:role, :password, :group)"),
                    {"role": db_role, "password": scram_verifier(password), "group": group})
    return db_role


def _as_role(database: Database, db_role: str, password: str) -> Database:
    """The same database, reached as the user's own PostgreSQL role (row-level security applies)."""
    from sqlalchemy.engine import make_url

    url = make_url(database.url).set(username=db_role, password=password)
    # Unpooled: the session's owner never disposes it, and no connection is left open.
    return Database(url.render_as_string(hide_password=False), pooled=False)

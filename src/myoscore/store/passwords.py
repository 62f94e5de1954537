"""User passwords: a policy for new ones, scrypt hashes, and back-off after failures.

scrypt (memory-hard, in the standard library) at the cost the OWASP Password Storage
Cheat Sheet recommends: N=2**17, r=8, p=1 (128 MiB, about 0.7 s on a slow desktop core).
A hash keeps its own parameters, so hashes made at an older cost still verify and are
re-hashed at the current cost on the next successful sign-in (:func:`needs_rehash`).

Sign-in checks an unknown name against a dummy hash of the current cost, so an unknown
user and a wrong password take the same time. After :data:`FREE_FAILURES` failed sign-ins
in a row a user must wait ``2**(failures - FREE_FAILURES - 1)`` seconds (1, 2, 4 …) (at most
:data:`MAX_BACKOFF_S`) before the next attempt is even checked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import cache

from myoscore.domain import MyoscoreError

#: scrypt cost (N, r, p). Tests lower it (tests/conftest.py); nothing else should.
COST: tuple[int, int, int] = (2**17, 8, 1)
MIN_LENGTH = 10
FREE_FAILURES = 3
MAX_BACKOFF_S = 15 * 60

# The passwords most often found in breach corpora and the ones a study team reaches
# for first; a new password may not be one of these (case-insensitive) nor contain only
# one repeated character.
COMMON_PASSWORDS = frozenset({
    "123456", "123456789", "12345678", "1234567890", "password", "password1", "password123", "qwerty", "qwerty123",
    "qwertyuiop", "1q2w3e4r5t", "1qaz2wsx3edc", "abc123", "abcdefghij", "iloveyou", "admin", "admin123",
    "administrator", "welcome", "welcome123", "welcome1", "letmein", "letmein123", "monkey", "dragon", "football",
    "baseball", "sunshine", "princess", "master", "trustno1", "superman", "batman", "starwars", "passw0rd",
    "p@ssw0rd", "p@ssword", "changeme", "changeme123", "default", "secret", "secret123", "qwerty12345", "0987654321",
    "1234512345", "asdfghjkl", "zxcvbnmasd", "myoscore", "myoscore123", "myositis", "myositis123", "radiologist",
    "radiologist1", "neurologist", "coordinator", "readerreader", "hospital", "hospital123", "password12",
    "password1234", "1111111111", "0000000000", "mri12345678", "muscle-mri", "musclemri123", "demodemo",
    "demo123456", "testtest", "testtest123", "test123456", "user123456",
})


def check_new_password(name: str, password: str) -> None:
    """Refuse a password that is too short, too common or the user's own name."""
    if len(password) < MIN_LENGTH:
        raise MyoscoreError(f"the password for {name} is too short: use at least {MIN_LENGTH} characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) == 1 or lowered == name.lower():
        raise MyoscoreError(f"the password for {name} is too easy to guess (a common password or the "
                            "user's name): choose another")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=2 * 128 * r * n + 2**20)


def hash_password(password: str) -> str:
    n, r, p = COST
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${r}${p}${salt.hex()}${_scrypt(password, salt, n, r, p).hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def needs_rehash(stored: str) -> bool:
    parts = stored.split("$")
    return len(parts) != 6 or parts[0] != "scrypt" or tuple(int(x) for x in parts[1:4]) != COST


@cache
def _dummy_hash(cost: tuple[int, int, int]) -> str:
    return hash_password(secrets.token_hex(16))


def burn_verify(password: str) -> None:
    """Spend the time of one verification, for a name that does not exist."""
    verify_password(password, _dummy_hash(COST))


def backoff(failures: int) -> timedelta:
    """How long a user waits before the next attempt after ``failures`` failures in a row."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return timedelta(seconds=min(MAX_BACKOFF_S, 2 ** min(failures - FREE_FAILURES - 1, 20)))


def _saslprep(password: str) -> str:
    """RFC 4013 SASLprep as PostgreSQL applies it to SCRAM passwords: non-ASCII spaces to
    space, "mapped to nothing" characters dropped, NFKC; a password that SASLprep would
    refuse (prohibited or bidirectional characters) is used as it is, as the server does."""
    import stringprep
    import unicodedata

    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c))
    normal = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21_c22, stringprep.in_table_c3, stringprep.in_table_c4,
                  stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7, stringprep.in_table_c8,
                  stringprep.in_table_c9, stringprep.in_table_d1)
    if any(test(c) for c in normal for test in prohibited):
        return password
    return normal


def scram_verifier(password: str, *, iterations: int = 4096, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL stores for ``password`` (RFC 5802/7677, the
    format of ``pg_authid.rolpassword``). myoscore sends this instead of the password in
    CREATE/ALTER ROLE, so the password never reaches the server's statement log."""
    import base64

    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", _saslprep(password).encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"

"""A subprocess that scores one read, printing ACK after each rating returns.

Used by the durability and concurrency tests; run as
``python rating_worker.py DB READER PASSWORD READ_ID [ROUNDS]``.
"""

from __future__ import annotations

import sys

from myoscore.app import open_database, sign_in
from myoscore.store import passwords

# The tests' hashing cost (tests/conftest.py): at the shipped cost, signing in would
# re-hash the password and take most of the worker's short life.
passwords.COST = (2**10, 8, 1)


def main() -> None:
    db_path, reader, password, read_id = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 1_000_000
    session = sign_in(open_database(db_path), reader, password)
    items = session.protocol(int(read_id)).item_keys  # type: ignore[union-attr]
    counter = 0
    for _ in range(rounds):
        for key in items:
            if key.startswith(("edema.", "fat.")):
                code = str(counter % 5)
            elif key.startswith("edema_pattern."):
                code = "patchy"
            else:
                code = str(counter % 2)
            session.rate(int(read_id), key, code)  # type: ignore[union-attr]
            print(f"ACK {key} {code}", flush=True)
            counter += 1
    print("DONE", flush=True)


if __name__ == "__main__":
    main()

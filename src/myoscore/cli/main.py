"""The ``myoscore`` command: ``main(argv) -> int``, each command a thin call into ``app``.

Refused operations exit 1 with one line on stderr; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Sequence as Seq
from datetime import date
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any

from myoscore import __version__
from myoscore.app import (
    CoordinatorSession,
    Database,
    ReaderSession,
    bootstrap_coordinator,
    default_database_target,
    open_database,
    reading,
    schemes,
    sign_in,
    study,
)
from myoscore.app.demo import DEMO_PASSWORD, load_demo
from myoscore.app.logs import LEVELS, setup_logging, unexpected
from myoscore.domain import MyoscoreError, Role
from myoscore.domain.files import owner_only

log = logging.getLogger(__name__)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def password_for(name: str) -> str:
    """The signing-in user's password: ``$MYOSCORE_PASSWORD`` (scripted studies) or a prompt."""
    password = os.environ.get("MYOSCORE_PASSWORD")
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise MyoscoreError(f"no password for {name}: set MYOSCORE_PASSWORD or run in a terminal")
    return getpass.getpass(f"Password for {name}: ")


def new_password_for(name: str, variable: str = "MYOSCORE_NEW_PASSWORD") -> str:
    """A password being set for ``name``: ``$variable`` or typed twice at a prompt."""
    password = os.environ.get(variable)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise MyoscoreError(f"no password for the new user {name}: set {variable} or run in a terminal")
    first = getpass.getpass(f"New password for {name}: ")
    if getpass.getpass(f"Repeat the password for {name}: ") != first:
        raise MyoscoreError(f"the two passwords for {name} differ")
    return first


def whole_number(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise MyoscoreError(f"{option}: {text!r} is not a whole number") from None


def split_csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class Context:
    """What a command gets: the parsed arguments and lazily opened sessions."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._db: Database | None = None

    def database(self, *, create: bool = False) -> Database:
        if self._db is None:
            self._db = open_database(self.args.db or default_database_target(), create=create)
            for warning in self._db.warnings:
                print(f"myoscore: warning: {warning}", file=sys.stderr)
        return self._db

    def user(self) -> str | None:
        """Who signs in: ``--as NAME``, else ``$MYOSCORE_USER``."""
        return getattr(self.args, "as_user", None) or os.environ.get("MYOSCORE_USER") or None

    def reader(self) -> ReaderSession:
        name = self.user()
        if not name:
            raise MyoscoreError("this command needs a reader: --as READER (or $MYOSCORE_USER)")
        session = sign_in(self.database(), name, password_for(name))
        if not isinstance(session, ReaderSession):
            raise MyoscoreError(f"{name} is a coordinator; this command is for readers")
        return session

    def coordinator(self) -> CoordinatorSession:
        name = self.user()
        if not name:
            # No implicit local coordinator: opening the database file is not enough to
            # see ratings, identities or dates or to change accounts.
            raise MyoscoreError("this command needs a coordinator: --as COORDINATOR or $MYOSCORE_USER, password "
                                "from $MYOSCORE_PASSWORD or a prompt (`myoscore init --coordinator NAME` "
                                "creates the first one)")
        session = sign_in(self.database(), name, password_for(name))
        if not isinstance(session, CoordinatorSession):
            raise MyoscoreError(f"{name} is a reader; this command needs a coordinator")
        return session

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


# -- commands ------------------------------------------------------------------------------
def cmd_init(ctx: Context) -> int:
    db = ctx.database(create=True)
    print(f"myoscore database ready at {db.location}")
    if ctx.args.coordinator:
        name = ctx.args.coordinator
        coordinator = bootstrap_coordinator(db, name, new_password_for(name, "MYOSCORE_PASSWORD"))
        print(f"added coordinator {coordinator.name}")
    return 0


def cmd_start(ctx: Context) -> int:
    db = ctx.database(create=True)
    # The demo loads only into a database without users; its accounts are the sign-in.
    if load_demo(CoordinatorSession(db, "myoscore-demo"), _demo_images_dir(db)):
        print(f"Loaded the demo study into {db.location} (readers: radiologist, neurologist, "
              f"coordinator; password: {DEMO_PASSWORD})")
    if ctx.args.no_gui or not _display_available():
        if not ctx.args.no_gui:
            print("No display to open the workstation on (DISPLAY is not set).")
        if ctx.user() is None:
            print("Sign in to see the study status: myoscore status --as coordinator")
            return 0
        return _print_status(ctx.coordinator(), as_json=False)
    return _run_gui(db)


def _demo_images_dir(db: Database) -> Path:
    """Beside an SQLite file; in the per-user data directory for a server database."""
    location = Path(db.location)
    if location.suffix in (".sqlite", ".db") or location.exists():
        return location.parent / f"{location.stem}-demo-images"
    from platformdirs import user_data_path

    return user_data_path("myoscore", appauthor=False) / "demo-images"


def cmd_gui(ctx: Context) -> int:
    if not _display_available():
        raise MyoscoreError("no display to open the workstation on: DISPLAY and WAYLAND_DISPLAY are not set")
    return _run_gui(ctx.database())


def _display_available() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _run_gui(db: Database) -> int:
    from myoscore.gui.app import run  # Qt loads only for the window, never for other commands

    return run(db)


def cmd_schemes_list(ctx: Context) -> int:
    listing = schemes.list_schemes()
    if ctx.args.json:
        print_json(listing)
        return 0
    for kind, entries in listing.items():
        print(f"{kind}:")
        for entry in entries:
            extra = entry.get("version") or entry.get("kind")
            print(f"  {entry['name']:<26} {extra:<9} {entry['title']}")
    return 0


def cmd_schemes_show(ctx: Context) -> int:
    data = schemes.describe(ctx.args.name)
    if ctx.args.json:
        print_json(data)
        return 0
    print(f"{data['name']} {data.get('version', '')}  {data.get('title', '')}")
    if "hash" in data:
        print(f"hash {data['hash']}")
    for item in data.get("items", []):
        print(f"  {item['key']:<48} {item['scale']:<16} {item['sequence']}")
    for level in data.get("levels", []):
        print(f"  {level['code']:>4}  {level['label']}: {level['definition']}")
    for score in data.get("derived", []):
        print(f"  derived {score['name']}: {score['label']} ({score['function']}, {len(score['items'])} items)")
    return 0


def cmd_schemes_validate(ctx: Context) -> int:
    for line in schemes.validate_path(Path(ctx.args.path)):
        print(line)
    return 0


def cmd_readers_add(ctx: Context) -> int:
    role = Role(ctx.args.role)
    coordinator = ctx.coordinator()
    reader = coordinator.add_reader(ctx.args.name, role, new_password_for(ctx.args.name))
    print(f"added {reader.role.value} {reader.name}")
    return 0


def cmd_readers_list(ctx: Context) -> int:
    readers = ctx.coordinator().readers()
    if ctx.args.json:
        print_json([{"id": r.id, "name": r.name, "role": r.role.value, "active": r.active} for r in readers])
    else:
        for r in readers:
            print(f"{r.name:<20} {r.role.value}")
    return 0


def cmd_exams_add(ctx: Context) -> int:
    a = ctx.args
    treated = None if a.treated is None else a.treated == "yes"
    exam = ctx.coordinator().add_exam(
        a.subject, a.label, exam_date=date.fromisoformat(a.date) if a.date else None,
        months_from_onset=a.months_from_onset, treated=treated)
    if a.json:
        print_json({"exam": exam.id, "subject": exam.subject_code, "label": exam.label})
    else:
        print(f"added exam {exam.id}: {exam.subject_code} {exam.label}")
    return 0


def cmd_repeats(ctx: Context) -> int:
    a = ctx.args
    reads = study.assign_repeats(ctx.coordinator(), a.protocol, a.reader, a.fraction, a.washout_days, a.seed)
    if a.json:
        print_json([{"read": r.id, "reader": r.reader_name, "exam": r.exam_id, "position": r.position}
                    for r in reads])
    else:
        print(f"assigned {len(reads)} repeat reads to {a.reader}, available {a.washout_days:g} days after each "
              "first read was submitted")
    return 0


def cmd_worklist(ctx: Context) -> int:
    rows = reading.worklist_rows(ctx.reader())
    if ctx.args.json:
        print_json(rows)
    else:
        for r in rows:
            named = f"{r['subject']:<14} {r['exam']:<12}" if "subject" in r else f"{r['code']:<27}"
            print(f"{r['position']:>3}. read {r['read']:<5} {named} {r['status']:<12} {r['done']}/{r['total']}")
    return 0


def cmd_rate(ctx: Context) -> int:
    a = ctx.args
    rating = reading.rate(ctx.reader(), a.read, a.item, a.value)
    if a.json:
        print_json({"read": rating.read_id, "item": rating.item_key, "code": rating.code,
                     "value": rating.value})
    return 0


def cmd_submit(ctx: Context) -> int:
    outcome = reading.submit(ctx.reader(), ctx.args.read)
    if outcome.unscored:
        print(f"warning: read {outcome.read.id} submitted with {len(outcome.unscored)} of "
              f"{outcome.read.total} items unscored", file=sys.stderr)
    print(f"read {outcome.read.id} submitted and locked")
    return 0


def cmd_reopen(ctx: Context) -> int:
    ctx.coordinator().reopen(ctx.args.read, ctx.args.reason or "")
    print(f"read {ctx.args.read} reopened")
    return 0


def cmd_status(ctx: Context) -> int:
    return _print_status(ctx.coordinator(), as_json=ctx.args.json, reader=ctx.args.reader, status=ctx.args.status,
                         include_excluded=ctx.args.include_excluded)


def _print_status(coordinator: CoordinatorSession, *, as_json: bool, reader: str | None = None,
                  status: str | None = None, include_excluded: bool = False) -> int:
    from myoscore.app.progress_view import status_view
    from myoscore.app.wording import plural

    view = status_view(coordinator, reader=reader, status=status, include_excluded=include_excluded)
    if as_json:
        print_json(view)
        return 0
    excluded = f" ({view['excluded']} excluded, not counted)" if view["excluded"] and not include_excluded else ""
    print(f"{plural(view['subjects'], 'subject')}, {plural(view['exams'], 'exam')}{excluded}, "
          f"{plural(len(view['readers']), 'user')}")
    for name, counts in view["progress"].items():
        summary = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items()))
        print(f"  {name:<16} {summary}")
    if reader is not None or status is not None:
        print(f"reads of {reader or 'every reader'}, {(status or 'any status').replace('_', ' ')}: "
              f"{len(view['reads'])} of {plural(view['total_reads'], 'read')}")
    for r in view["reads"]:
        print(f"  read {r['read']:<4} {r['reader']:<14} {r['subject']:<12} {r['exam']:<10} "
              f"{r['protocol']:<18} {r['status']:<12} {r['done']}/{r['total']}")
    for protocol, count in view["stale_consensus"].items():
        print(f"consensus to decide again: {plural(count, 'value')} of {protocol} "
              f"(myoscore consensus list --protocol {protocol} --stale)")
    for e in view["excluded_exams"]:
        print(f"excluded: exam {e['exam']} {e['subject']} · {e['label']} ({e['reason'] or 'no reason given'})")
    return 0


def cmd_audit(ctx: Context) -> int:
    events = ctx.coordinator().audit_log(ctx.args.limit)
    if ctx.args.json:
        print_json([vars(e) for e in events])
    else:
        for e in events:
            print(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.actor:<16} {e.action:<16} {e.target:<40} "
                  f"{e.old or ''} → {e.new or ''}")
    return 0


# -- parser ----------------------------------------------------------------------------------
#: Modules that add their own commands with ``register(commands)``, each one job.
COMMAND_MODULES: tuple[str, ...] = ("myoscore.cli.imaging", "myoscore.cli.analysis", "myoscore.cli.export",
                                     "myoscore.cli.servers", "myoscore.cli.settings", "myoscore.cli.assignment")


def add_command(parent: argparse._SubParsersAction[argparse.ArgumentParser], name: str, handler: Any,
                help_text: str, *, json_flag: bool = False, as_user: bool = False) -> argparse.ArgumentParser:
    """Add a subcommand whose ``handler(ctx: Context) -> int`` runs it."""
    sub = parent.add_parser(name, help=help_text, description=help_text)
    sub.set_defaults(handler=handler)
    if json_flag:
        sub.add_argument("--json", action="store_true", help="print JSON")
    if as_user:
        sub.add_argument("--as", dest="as_user", metavar="USER", help="sign in as this user "
                         "(password from $MYOSCORE_PASSWORD or a prompt)")
    return sub


def add_include_excluded(sub: argparse.ArgumentParser) -> None:
    """``--include-excluded``: count excluded exams too (``myoscore exams exclude``)."""
    sub.add_argument("--include-excluded", action="store_true",
                     help="count excluded exams too (by default they are left out)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myoscore", description="myoscore: blinded, semi-quantitative muscle MRI reading for myositis research")
    parser.add_argument("--version", action="version", version=f"myoscore {__version__}")
    parser.add_argument("--log-level", choices=LEVELS, default="INFO", type=str.upper,
                        help="what goes to the log file (default INFO); WARNING and above also to stderr")
    parser.add_argument("--db", help="SQLAlchemy URL or SQLite file (default: $MYOSCORE_DB or the "
                                     "per-user data directory)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = partial(add_command, commands)

    init = command("init", cmd_init, "create the database (or upgrade an older one)")
    init.add_argument("--coordinator", metavar="NAME", help="also create the study's first coordinator "
                      "(password from $MYOSCORE_PASSWORD or typed twice)")
    start = command("start", cmd_start, "set up the default database with the demo study and open the workstation")
    start.add_argument("--no-gui", action="store_true", help="print the study status instead of opening the window")
    command("gui", cmd_gui, "open the reading workstation")

    schemes_parser = commands.add_parser("schemes", help="scales, atlases and protocols")
    schemes_commands = schemes_parser.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    add_command(schemes_commands, "list", cmd_schemes_list, "list shipped and study schemes", json_flag=True)
    show = add_command(schemes_commands, "show", cmd_schemes_show, "show one protocol, scale or atlas",
                       json_flag=True)
    show.add_argument("name")
    validate = add_command(schemes_commands, "validate", cmd_schemes_validate, "validate a scheme file or folder")
    validate.add_argument("path")

    readers_parser = commands.add_parser("readers", help="readers and coordinators")
    readers_commands = readers_parser.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    add = add_command(readers_commands, "add", cmd_readers_add,
                      "add a user (coordinator; the new user's password from $MYOSCORE_NEW_PASSWORD or "
                      "typed twice)", as_user=True)
    add.add_argument("name")
    add.add_argument("--role", choices=[r.value for r in Role], default=Role.READER.value)
    add_command(readers_commands, "list", cmd_readers_list, "list users", json_flag=True, as_user=True)

    exams_parser = commands.add_parser("exams", help="subjects and exams")
    exams_commands = exams_parser.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    exam_add = add_command(exams_commands, "add", cmd_exams_add,
                           "add an exam (without images) for a subject code", json_flag=True, as_user=True)
    exam_add.add_argument("subject", metavar="SUBJECT_CODE")
    exam_add.add_argument("--label", default="baseline")
    exam_add.add_argument("--date", help="exam date YYYY-MM-DD (coordinator-only)")
    exam_add.add_argument("--months-from-onset", type=float)
    exam_add.add_argument("--treated", choices=["yes", "no"])
    import_module("myoscore.cli.exams").register(exams_commands)  # list, exclude, include, delete

    repeats = command("repeats", cmd_repeats, "re-assign a fraction of a reader's exams for intra-reader "
                      "agreement, after a wash-out period and blind to the first read", json_flag=True, as_user=True)
    repeats.add_argument("--protocol", required=True)
    repeats.add_argument("--reader", required=True)
    repeats.add_argument("--fraction", type=float, required=True,
                         help="share of the reader's submitted exams, e.g. 0.2")
    repeats.add_argument("--washout-days", type=float, default=28.0)
    repeats.add_argument("--seed", type=int, help="random seed (recorded; default: drawn)")

    command("worklist", cmd_worklist, "a reader's own reads in their order", json_flag=True, as_user=True)
    rate = command("rate", cmd_rate, "store one rating (VALUE: a level code or NE)", json_flag=True,
                   as_user=True)
    rate.add_argument("read", type=int)
    rate.add_argument("item")
    rate.add_argument("value")
    submit = command("submit", cmd_submit, "submit and lock a read", as_user=True)
    submit.add_argument("read", type=int)
    reopen = command("reopen", cmd_reopen, "reopen a submitted read (coordinator, audited)", as_user=True)
    reopen.add_argument("read", type=int)
    reopen.add_argument("--reason")
    status_parser = command("status", cmd_status, "progress of every read (no rating values)", json_flag=True,
                            as_user=True)
    status_parser.add_argument("--reader", help="only this reader's reads")
    status_parser.add_argument("--status", choices=["assigned", "in_progress", "submitted", "open"],
                               help="only reads with this status (open: not yet submitted)")
    add_include_excluded(status_parser)
    audit = command("audit", cmd_audit, "the latest audit events", json_flag=True, as_user=True)
    audit.add_argument("--limit", type=int, default=50)
    for module in COMMAND_MODULES:
        import_module(module).register(commands)
    return parser


def _stdout_closed() -> int:
    """The reader of our output went away (``myoscore … | head``): stop quietly.

    Python would report the failed final flush at exit as another traceback, so stdout is
    pointed at ``/dev/null`` first (the recipe of the Python documentation, "Note on SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (tests, embedded use)
        pass
    return 141  # 128 + SIGPIPE, as a shell reports a command killed by the closed pipe


def main(argv: Seq[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except BrokenPipeError:  # --help into a closed pipe
        return _stdout_closed()
    setup_logging(args.log_level, stderr=True)
    log.info("myoscore %s: %s", __version__, args.command)
    ctx = Context(args)
    try:
        with owner_only():  # the database, exports, logs: files 0600, folders 0700
            code = int(args.handler(ctx))
        sys.stdout.flush()  # a closed pipe shows here, inside the handler's try, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except MyoscoreError as exc:
        log.info("refused: %s", exc)
        print(f"myoscore: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("myoscore: interrupted", file=sys.stderr)
        return 130
    except Exception:
        print(f"myoscore: {unexpected(f'the {args.command} command', log)}", file=sys.stderr)
        return 2
    finally:
        ctx.close()


def entry_point() -> None:
    sys.exit(main())

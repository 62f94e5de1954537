"""``myoscore server`` (the study's DICOM server) and ``myoscore pacs`` (query/retrieve)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from myoscore.app.pacs import find_studies, retrieve_studies
from myoscore.app.remote_images import configure_image_server, remote_images, send_exams, server_text, store_files
from myoscore.cli.main import Context, add_command, print_json
from myoscore.domain import ImageServerSettings, MyoscoreError


def cmd_server_set(ctx: Context) -> int:
    a = ctx.args
    settings = configure_image_server(ctx.coordinator(), ImageServerSettings(
        "study", a.dicomweb or "", a.host or "", a.port or 0, a.ae, a.user or "", a.password_env))
    print(f"image server set: {server_text(settings)} "
          f"(password from ${settings.password_env} on each workstation; never stored)")
    return 0


def cmd_server_show(ctx: Context) -> int:
    remote = remote_images(ctx.coordinator())
    if remote is None or remote.server is None:
        print("no image server: series are read from the folders they were imported from")
        return 0
    data = {k: v for k, v in asdict(remote.server).items() if k != "password"}
    data["cache"] = str(remote.cache.root)
    data["cache_bytes"] = remote.cache.size()
    if ctx.args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key:14} {value}")
    return 0


def cmd_server_send(ctx: Context) -> int:
    sent = send_exams(ctx.coordinator(), ctx.args.exam or None,
                      progress=lambda done, total: print(f"\rsent {done} of {total}", end="", flush=True))
    print()
    for line in sent.lines():
        print(line)
    return 0


def cmd_server_store(ctx: Context) -> int:
    count = store_files(ctx.coordinator(), [Path(p) for p in ctx.args.files])
    print(f"stored {count} files on the study's server")
    return 0


def _pacs(a: Any) -> ImageServerSettings:
    return ImageServerSettings("pacs", "", a.host, a.port, a.ae, "", "")


def cmd_pacs_find(ctx: Context) -> int:
    a = ctx.args
    if not (a.patient_id or a.accession or a.date):
        raise MyoscoreError("name what to find: --patient-id, --accession or --date (YYYYMMDD or a range)")
    matches = find_studies(ctx.coordinator(), _pacs(a), patient_id=a.patient_id or "", accession=a.accession or "",
                           study_date=a.date or "", calling_ae=a.calling_ae)
    if a.json:
        print_json([asdict(m) for m in matches])
    else:
        for m in matches:
            print(f"{m.study_uid}  {m.patient_id}  {m.accession}  {m.study_date}  {m.modalities}  {m.description}")
        print(f"{len(matches)} studies")
    return 0


def cmd_pacs_retrieve(ctx: Context) -> int:
    a = ctx.args
    summary = retrieve_studies(ctx.coordinator(), _pacs(a), a.study_uid, Path(a.out), calling_ae=a.calling_ae,
                               move_ae=a.move_ae or "", listen_port=a.listen_port or 0)
    for line in summary.lines():
        print(line)
    return 0


def register(commands: Any) -> None:
    server = add_command(commands, "server", cmd_server_show, "the study's DICOM server (Orthanc): show, set, "
                         "send exams, store files", json_flag=True, as_user=True)
    sub = server.add_subparsers(dest="server_command")
    set_ = add_command(sub, "set", cmd_server_set, "set the study's DICOM server (no password is stored)",
                       as_user=True)
    set_.add_argument("--dicomweb", metavar="URL", help="DICOMweb root, e.g. https://pacs.example.org/dicom-web")
    set_.add_argument("--host", help="DIMSE host (C-GET/C-STORE when there is no DICOMweb)")
    set_.add_argument("--port", type=int, help="DIMSE port")
    set_.add_argument("--ae", default="ORTHANC", help="the server's AE title")
    set_.add_argument("--user", help="HTTP user name for DICOMweb")
    set_.add_argument("--password-env", default="MYOSCORE_DICOM_PASSWORD",
                      help="environment variable holding the password on each workstation")
    add_command(sub, "show", cmd_server_show, "show the server and this workstation's cache", json_flag=True,
                as_user=True)
    send = add_command(sub, "send", cmd_server_send, "send exams' DICOM series to the server, pseudonymised",
                       as_user=True)
    send.add_argument("--exam", type=int, action="append", help="exam id (repeatable; default: all)")
    store = add_command(sub, "store", cmd_server_store, "store files (e.g. exported SRs) on the server",
                        as_user=True)
    store.add_argument("files", nargs="+")

    pacs = add_command(commands, "pacs", cmd_pacs_find, "query/retrieve a hospital PACS (C-FIND, C-MOVE/C-GET)",
                       as_user=True)
    psub = pacs.add_subparsers(dest="pacs_command", required=True)
    for name, handler, text in (("find", cmd_pacs_find, "C-FIND studies"),
                                ("retrieve", cmd_pacs_retrieve, "C-MOVE or C-GET studies, then import them")):
        p = add_command(psub, name, handler, text, json_flag=name == "find", as_user=True)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--ae", default="PACS", help="the PACS's AE title")
        p.add_argument("--calling-ae", default="MYOSCORE", help="this workstation's AE title")
        if name == "find":
            p.add_argument("--patient-id")
            p.add_argument("--accession")
            p.add_argument("--date", help="StudyDate or range (YYYYMMDD-YYYYMMDD)")
        else:
            p.add_argument("study_uid", nargs="+")
            p.add_argument("--out", required=True, help="folder the retrieved files go to (then imported)")
            p.add_argument("--move-ae", help="C-MOVE to this AE (the PACS must know it); default: C-GET")
            p.add_argument("--listen-port", type=int, help="port of this workstation's Storage SCP for C-MOVE")

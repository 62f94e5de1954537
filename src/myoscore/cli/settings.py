"""``myoscore settings``: show and set the study's settings (coordinator, audited)."""

from __future__ import annotations

from typing import Any

from myoscore.app.study_settings import SETTINGS, SettingValue, set_setting, settings
from myoscore.cli.main import Context, add_command, print_json


def _row(value: SettingValue) -> dict[str, Any]:
    return {"setting": value.setting.option, "value": value.value, "default": not value.stored,
            "values": list(value.setting.values), "meaning": value.setting.description}


def cmd_settings_show(ctx: Context) -> int:
    rows = [_row(value) for value in settings(ctx.coordinator())]
    if ctx.args.json:
        print_json(rows)
        return 0
    for row in rows:
        default = " (default)" if row["default"] else ""
        print(f"{row['setting']:<20} {row['value']}{default}: {row['meaning']}")
    return 0


def cmd_settings_set(ctx: Context) -> int:
    done = set_setting(ctx.coordinator(), ctx.args.name, ctx.args.value)
    value = done.value
    print(f"{value.setting.option} is {value.value}" + ("" if done.changes else " (it was already)"))
    return 0


def register(commands: Any) -> None:
    parser = add_command(commands, "settings", cmd_settings_show, "the study's settings (coordinator)",
                         json_flag=True, as_user=True)
    sub = parser.add_subparsers(dest="settings_command", metavar="ACTION")
    add_command(sub, "show", cmd_settings_show, "show every study setting and its value", json_flag=True,
                as_user=True)
    set_ = add_command(sub, "set", cmd_settings_set, "set a study setting (audited)", as_user=True)
    set_.add_argument("name", metavar="SETTING", choices=[s.option for s in SETTINGS.values()],
                      help=", ".join(f"{s.option}: {s.description}" for s in SETTINGS.values()))
    set_.add_argument("value", metavar="VALUE", help="on or off")

"""Study settings: named switches of the whole study, kept in the database.

One setting so far, ``timepoint_blinding`` (default **on**): readers see neither the
subject code that links a subject's exams nor the timepoint label; each read shows its
opaque code instead (:mod:`myoscore.domain.blinding`), and new worklists place no two
exams of one subject next to each other (:mod:`myoscore.app.worklist_order`). The
coordinator always sees everything.

A setting that was never set has its default (no row in ``study_settings``). Reading and
changing settings is the coordinator's (:func:`settings`, :func:`set_setting`, audited
old → new); a reader's session only asks whether timepoint blinding is on
(:func:`timepoint_blinding_on`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from myoscore.app.changes import NO_CHANGE, Done, StudyChanges
from myoscore.domain import AccessDenied, MyoscoreError
from myoscore.domain.blinding import TIMEPOINT_BLINDING

if TYPE_CHECKING:
    from myoscore.app.sessions import CoordinatorSession

__all__ = ["SETTINGS", "TIMEPOINT_BLINDING", "Setting", "SettingValue", "set_setting", "set_timepoint_blinding",
           "settings", "timepoint_blinding_on"]

ON, OFF = "on", "off"


@dataclass(frozen=True)
class Setting:
    """A study setting: its stored name, the name the CLI uses, its default and meaning."""

    name: str
    option: str
    default: str
    description: str
    values: tuple[str, ...] = (ON, OFF)


@dataclass(frozen=True)
class SettingValue:
    """A setting as it is now: ``value`` is in effect; ``stored`` is False for the default."""

    setting: Setting
    value: str
    stored: bool

    @property
    def on(self) -> bool:
        return self.value == ON


SETTINGS: dict[str, Setting] = {
    TIMEPOINT_BLINDING: Setting(
        TIMEPOINT_BLINDING, "timepoint-blinding", ON,
        "readers see each read's opaque code instead of the subject code and timepoint label, and new "
        "worklists keep a subject's exams apart"),
}

#: What changing a setting changed: what readers are shown of their reads.
SETTINGS_CHANGED = StudyChanges(reads=True)


class _Settings(Protocol):
    def setting(self, name: str) -> str | None: ...


def _value(setting: Setting, stored: str | None) -> str:
    return stored if stored in setting.values else setting.default


def timepoint_blinding_on(repo: _Settings) -> bool:
    """Whether timepoint blinding is on (a missing or unreadable value is the default: on)."""
    return _value(SETTINGS[TIMEPOINT_BLINDING], repo.setting(TIMEPOINT_BLINDING)) == ON


def _setting(name: str) -> Setting:
    """A setting by its stored name (``timepoint_blinding``) or CLI name (``timepoint-blinding``)."""
    for setting in SETTINGS.values():
        if name.strip() in (setting.name, setting.option):
            return setting
    raise MyoscoreError(f"there is no study setting {name!r}; the settings are "
                        f"{', '.join(s.option for s in SETTINGS.values())}")


def _check_coordinator(session: object) -> None:
    from myoscore.app.sessions import CoordinatorSession  # sessions imports this module

    if not isinstance(session, CoordinatorSession):
        raise AccessDenied("study settings are the coordinator's: sign in as a coordinator")


def settings(coordinator: CoordinatorSession) -> list[SettingValue]:
    """Every study setting with the value in effect (coordinator only)."""
    _check_coordinator(coordinator)
    with coordinator.unit() as repo:
        return [SettingValue(s, _value(s, stored), stored is not None)
                for s in SETTINGS.values() for stored in [repo.setting(s.name)]]


def set_setting(coordinator: CoordinatorSession, name: str, value: str) -> Done[SettingValue]:
    """Set a study setting (coordinator only; audited ``set_setting``, old → new).

    Setting the value already stored changes nothing and is not audited; setting the
    default explicitly stores it (audited, so the trail shows who decided)."""
    _check_coordinator(coordinator)
    setting = _setting(name)
    if not isinstance(value, str) or value.strip().lower() not in setting.values:
        raise MyoscoreError(f"{setting.option} is {' or '.join(setting.values)}, not {value!r}")
    value = value.strip().lower()
    with coordinator.unit() as repo:
        stored = repo.setting(setting.name)
        before = _value(setting, stored)
        if before == value and stored is not None:
            return Done(SettingValue(setting, value, True), NO_CHANGE)
        repo.set_setting(setting.name, value, before)
    return Done(SettingValue(setting, value, True), NO_CHANGE if before == value else SETTINGS_CHANGED)


def set_timepoint_blinding(coordinator: CoordinatorSession, on: bool) -> Done[SettingValue]:
    """Switch timepoint blinding on or off (what the set-up page's check box calls)."""
    return set_setting(coordinator, TIMEPOINT_BLINDING, ON if on else OFF)

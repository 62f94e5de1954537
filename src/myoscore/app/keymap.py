"""The keyboard, as data: the reading workstation's keys and the joint review's.

Each row is one :class:`Binding` — ``(key, description, action)`` plus the group it is
listed under. Two tables use the one type:

* :data:`KEYMAP`, the reader's: scoring and moving actions are functions of a
  :class:`~myoscore.app.reading_session.ReadingSession` (``target="session"``); viewer
  actions (slices, window/level, overlay, help, sign out) are functions of whatever
  implements :class:`WindowControls` — the main window in the GUI, a fake in tests.
* :data:`REVIEW_KEYMAP`, the coordinator's joint review: actions of a
  :class:`~myoscore.app.review_session.ReviewSession`, or of the review page's image
  views (:class:`ReviewViewControls`).

Every action returns :class:`~myoscore.app.changes.Changes` (session actions) or nothing
(window actions). The help overlay, the review card's hint and the tables in
``docs/gui.md`` are generated from these rows, so they cannot drift. To add a key, add a
row (viewer keys: a method on :class:`WindowControls` and a ``target="window"`` row).

**One value per key press.** Rows with ``once_per_press`` (everything that stores a
value) go through a :class:`~myoscore.app.key_guard.KeyPressGuard`: a :class:`Keyboard`
takes key presses *and releases* with their times, and refuses a press of such a key that
comes while one is still held, or within the dead time of the previous one, with a
``Changes(refused=…)`` saying so. The GUI forwards Qt's key events to it; a script or the
CLI can feed it the same way. Nothing here trusts the toolkit's auto-repeat flag.

Key names are Qt's portable key-sequence text (``"Ctrl+Z"``, ``"PgUp"``, ``"Shift+Tab"``)
but nothing here imports Qt; the GUI turns a key press into this text and looks it up.

Digit keys score by *position*: key 3 is the fourth level shown, whatever its code.
The scoring panel prints the key beside each level, so codes like ``"2a"``/``"2b"``
(modified Mercuri) have a key too, and nominal scales (edema pattern) work the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal, Protocol

from myoscore.app.changes import Changes, refused
from myoscore.app.key_guard import DEAD_TIME_MS, KeyPressGuard, physical_key
from myoscore.app.level_keys import NOT_EVALUABLE_KEY
from myoscore.app.reading_session import ReadingSession
from myoscore.app.review_session import ReviewSession
from myoscore.domain import MyoscoreError

__all__ = [
    "DEAD_TIME_MS",
    "KEYMAP",
    "REVIEW_KEYMAP",
    "Binding",
    "Keyboard",
    "ReviewViewControls",
    "WindowControls",
    "binding_for",
    "help_rows",
    "help_table_markdown",
    "short_rows",
]

Target = Literal["session", "window"]


class WindowControls(Protocol):
    """What the window offers the keyboard besides the reading session."""

    def step_slice(self, delta: int) -> None:
        """Move the linked views ``delta`` slices (positive: towards higher slice numbers)."""

    def window_preset(self) -> None:
        """Reset every view's window/level to its sequence kind's preset."""

    def toggle_overlay(self) -> None:
        """Show or hide the muscle label-map overlay."""

    def toggle_third_view(self) -> None:
        """Show or hide a third series beside STIR and T1."""

    def next_station(self) -> None:
        """Show the next station (the series of another body part, e.g. thigh → calf)."""

    def reset_zoom(self) -> None:
        """Fit the views to the body on the current station (found from the image)."""

    def fit_field_of_view(self) -> None:
        """Show each series' whole field of view."""

    def zoom(self, factor: float) -> None:
        """Zoom about the views' centre (``factor`` > 1: closer)."""

    def zoom_to_unit(self) -> None:
        """Fill the views with the current unit's outline (and a margin)."""

    def toggle_side_zoom(self) -> None:
        """Fitting shows only the side being scored (that leg or arm) or the whole body."""

    def pan(self, dx: float, dy: float) -> None:
        """Move the images by fractions of the view (``dx`` > 0: show what is further right)."""

    def step_window(self, width_factor: float, level_steps: float) -> None:
        """Window × ``width_factor``; level up by ``level_steps`` tenths of the window."""

    def cycle_layout(self) -> None:
        """Views side by side, stacked, or chosen from the window's shape."""

    def toggle_scale_card(self) -> None:
        """Show or hide the scale card (each level's longer description and images)."""

    def toggle_help(self) -> None:
        """Show or hide the keyboard help overlay."""

    def request_submit(self) -> None:
        """Submit the read: warn about unscored items, confirm, lock."""

    def back_to_worklist(self) -> None:
        """Leave the read (everything is already stored) and show the worklist."""

    def sign_out(self) -> None:
        """Close the reader's window and show the sign-in screen again."""


class ReviewViewControls(Protocol):
    """What the joint-review page offers the keyboard besides the review session."""

    def step_slice(self, delta: int) -> None:
        """Move the linked views ``delta`` slices."""

    def toggle_help(self) -> None:
        """Show or hide the review's keyboard help overlay."""


@dataclass(frozen=True)
class Binding:
    """One key: what it does, described for the help overlay.

    Attributes
    ----------
    key
        Qt's portable key text (``"3"``, ``"Ctrl+Z"``).
    description
        What the key does, for the help overlay and the docs.
    action
        A function of the session (``target="session"``) returning
        :class:`~myoscore.app.changes.Changes`, or of the window (``target="window"``).
    group
        The heading it is listed under.
    once_per_press
        The key stores a value: one physical press gives one value (:class:`Keyboard`).
    short
        A word or two for a compact on-screen hint (the review card).
    """

    key: str
    description: str
    action: Callable[..., object]
    target: Target = "session"
    group: str = "Scoring"
    once_per_press: bool = False
    short: str = ""

    def run_on_session(self, session: ReadingSession | ReviewSession) -> Changes:
        result = self.action(session)
        assert isinstance(result, Changes)
        return result

    def run_on_window(self, window: object) -> None:
        self.action(window)


# ------------------------------------------------------------------ session actions
def score_position(position: int, session: ReadingSession) -> Changes:
    """Digit keys: the level at this position (see :mod:`myoscore.app.level_keys`)."""
    return session.set_level(position)


def not_evaluable(session: ReadingSession) -> Changes:
    return session.mark_not_evaluable()


def region_not_evaluable(session: ReadingSession) -> Changes:
    return session.mark_region_not_evaluable()


def clear(session: ReadingSession) -> Changes:
    return session.clear()


def undo(session: ReadingSession) -> Changes:
    return session.undo()


def next_item(session: ReadingSession) -> Changes:
    return session.next_item()


def previous_item(session: ReadingSession) -> Changes:
    return session.previous_item()


def next_unscored(session: ReadingSession) -> Changes:
    return session.next_unscored()


def switch_side(session: ReadingSession) -> Changes:
    return session.switch_side()


def first_item(session: ReadingSession) -> Changes:
    return session.go_to(session.items[0].key)


def last_item(session: ReadingSession) -> Changes:
    return session.go_to(session.items[-1].key)


# ------------------------------------------------------------------- window actions
def step_slice(delta: int, window: WindowControls) -> None:
    window.step_slice(delta)


def window_preset(window: WindowControls) -> None:
    window.window_preset()


def toggle_overlay(window: WindowControls) -> None:
    window.toggle_overlay()


def toggle_third_view(window: WindowControls) -> None:
    window.toggle_third_view()


def next_station(window: WindowControls) -> None:
    window.next_station()


def reset_zoom(window: WindowControls) -> None:
    window.reset_zoom()


def fit_field_of_view(window: WindowControls) -> None:
    window.fit_field_of_view()


def zoom(factor: float, window: WindowControls) -> None:
    window.zoom(factor)


def zoom_to_unit(window: WindowControls) -> None:
    window.zoom_to_unit()


def toggle_side_zoom(window: WindowControls) -> None:
    window.toggle_side_zoom()


def pan(dx: float, dy: float, window: WindowControls) -> None:
    window.pan(dx, dy)


def step_window(width_factor: float, level_steps: float, window: WindowControls) -> None:
    window.step_window(width_factor, level_steps)


def cycle_layout(window: WindowControls) -> None:
    window.cycle_layout()


def toggle_scale_card(window: WindowControls) -> None:
    window.toggle_scale_card()


def toggle_help(window: WindowControls) -> None:
    window.toggle_help()


def request_submit(window: WindowControls) -> None:
    window.request_submit()


def back_to_worklist(window: WindowControls) -> None:
    window.back_to_worklist()


def sign_out(window: WindowControls) -> None:
    window.sign_out()


_SCORE = "Score the level with this number (shown beside each level), then go to the next item"
_PAGE = 5
_ZOOM = 1.25  # one zoom key press
_PAN = 0.15  # one pan key press, as a fraction of the view
_WINDOW = 1.25  # one window-width key press
_ZOOM_IN = "Zoom in (the views' centre stays put)"

KEYMAP: tuple[Binding, ...] = (
    *(Binding(str(d), _SCORE, partial(score_position, d), once_per_press=True) for d in range(10)),
    Binding(NOT_EVALUABLE_KEY, "Not evaluable (a value of its own, never 0), then go to the next item",
            not_evaluable, once_per_press=True),
    Binding("Shift+N", "Not evaluable: the rest of this region (every unscored item of it; one undo), e.g. a "
            "region not in any series of this exam", region_not_evaluable, once_per_press=True),
    Binding("Backspace", "Clear the value (the item is unscored again)", clear, once_per_press=True),
    Binding("Del", "Clear the value (the item is unscored again)", clear, once_per_press=True),
    Binding("Ctrl+Z", "Undo the last change (restores the stored value before it)", undo, once_per_press=True),
    Binding("Down", "Next item", next_item, group="Moving"),
    Binding("Tab", "Next item", next_item, group="Moving"),
    Binding("Up", "Previous item", previous_item, group="Moving"),
    Binding("Shift+Tab", "Previous item", previous_item, group="Moving"),
    Binding("S", "Same unit, other side (right ↔ left)", switch_side, group="Moving"),
    Binding("U", "Next unscored item", next_unscored, group="Moving"),
    Binding("Home", "First item", first_item, group="Moving"),
    Binding("End", "Last item", last_item, group="Moving"),
    Binding("Right", "Next slice (all views follow, linked by patient position)",
            partial(step_slice, 1), "window", "Images"),
    Binding("Left", "Previous slice", partial(step_slice, -1), "window", "Images"),
    Binding("PgUp", f"{_PAGE} slices on", partial(step_slice, _PAGE), "window", "Images"),
    Binding("PgDown", f"{_PAGE} slices back", partial(step_slice, -_PAGE), "window", "Images"),
    Binding("W", "Window/level preset of each view's sequence (STIR, T1)", window_preset, "window", "Images"),
    Binding("O", "Muscle label-map overlay on/off", toggle_overlay, "window", "Images"),
    Binding("T", "Third series on/off", toggle_third_view, "window", "Images"),
    Binding("G", "Next station (thigh → calf …); selecting an item also goes there", next_station, "window",
            "Images"),
    Binding("F", "Fit to the body (found on the image, not the field of view); the side being scored with "
            "side zoom on", reset_zoom, "window", "Viewing"),
    Binding("Shift+F", "Whole field of view", fit_field_of_view, "window", "Viewing"),
    Binding("+", _ZOOM_IN, partial(zoom, _ZOOM), "window", "Viewing"),
    Binding("=", _ZOOM_IN, partial(zoom, _ZOOM), "window", "Viewing"),
    Binding("Shift++", _ZOOM_IN, partial(zoom, _ZOOM), "window", "Viewing"),
    Binding("-", "Zoom out", partial(zoom, 1 / _ZOOM), "window", "Viewing"),
    Binding("Z", "Zoom to the current unit (its outline and a margin); while zoomed, selecting an item "
            "re-centres on its outline", zoom_to_unit, "window", "Viewing"),
    Binding("Shift+S", "Side zoom on/off: fitting shows only the side being scored (that leg or arm)",
            toggle_side_zoom, "window", "Viewing"),
    Binding("Shift+Left", "Pan: show more of the left of the screen", partial(pan, -_PAN, 0.0), "window",
            "Viewing"),
    Binding("Shift+Right", "Pan: show more of the right of the screen", partial(pan, _PAN, 0.0), "window",
            "Viewing"),
    Binding("Shift+Up", "Pan: show more of the top", partial(pan, 0.0, -_PAN), "window", "Viewing"),
    Binding("Shift+Down", "Pan: show more of the bottom", partial(pan, 0.0, _PAN), "window", "Viewing"),
    Binding("]", "Wider window (× 1.25) on the sequence being scored", partial(step_window, _WINDOW, 0.0),
            "window", "Viewing"),
    Binding("[", "Narrower window (÷ 1.25): more contrast", partial(step_window, 1 / _WINDOW, 0.0), "window",
            "Viewing"),
    Binding(".", "Level up by a tenth of the window (darker)", partial(step_window, 1.0, 1.0), "window",
            "Viewing"),
    Binding(",", "Level down by a tenth of the window (brighter)", partial(step_window, 1.0, -1.0), "window",
            "Viewing"),
    Binding("L", "Layout: automatic (from the window's shape) → side by side → stacked (STIR above T1)",
            cycle_layout, "window", "Viewing"),
    Binding("C", "Scale card on/off: each level's longer description and reference images", toggle_scale_card,
            "window", "Read"),
    Binding("F1", "This help", toggle_help, "window", "Read"),
    Binding("H", "This help", toggle_help, "window", "Read"),
    Binding("Ctrl+Return", "Submit the read (warns about unscored items, asks, then locks)",
            request_submit, "window", "Read"),
    Binding("Esc", "Back to the worklist (everything is already stored)", back_to_worklist, "window", "Read"),
    Binding("Ctrl+Q", "Sign out (everything is already stored) and show the sign-in screen", sign_out, "window",
            "Read"),
)


# ------------------------------------------------------------------ the joint review
def record_position(position: int, review: ReviewSession) -> Changes:
    """Digit keys in the review: the level at this position, as the reader keys it."""
    return review.record_level(position)


def record_not_evaluable(review: ReviewSession) -> Changes:
    return review.record_not_evaluable()


def review_next(review: ReviewSession) -> Changes:
    return review.next_item()


def review_previous(review: ReviewSession) -> Changes:
    return review.previous_item()


def review_next_undecided(review: ReviewSession) -> Changes:
    return review.next_undecided()


def review_arm_override(review: ReviewSession) -> Changes:
    return review.arm_override()


def review_step_slice(delta: int, page: ReviewViewControls) -> None:
    page.step_slice(delta)


def review_toggle_help(page: ReviewViewControls) -> None:
    page.toggle_help()


_RECORD = ("Record the level with this number — by position, as the reader keys — then the next item to "
           "decide (an item already decided keeps its value: see O)")

REVIEW_KEYMAP: tuple[Binding, ...] = (
    *(Binding(str(d), _RECORD, partial(record_position, d), group="Deciding", once_per_press=True,
              short="agreed level") for d in range(10)),
    Binding(NOT_EVALUABLE_KEY, "Record not evaluable, then the next item", record_not_evaluable, group="Deciding",
            once_per_press=True, short="not evaluable"),
    Binding("O", "Override a decided item (by the mean, an adjudicator or a review): the next digit or N replaces "
            "its value, audited as an override; O again, or moving, cancels. A digit alone never changes a "
            "decided item", review_arm_override, group="Deciding", short="override, then the digit"),
    Binding("Down", "Next item", review_next, group="Moving", short="next"),
    Binding("Return", "Next item", review_next, group="Moving", short="next"),
    Binding("Up", "Previous item", review_previous, group="Moving", short="previous"),
    Binding("U", "Next item to decide (no decision yet, or a stale one)", review_next_undecided, group="Moving",
            short="next to decide"),
    Binding("Right", "Next slice (the views stay linked)", partial(review_step_slice, 1), "window", "Images",
            short="next slice"),
    Binding("Left", "Previous slice", partial(review_step_slice, -1), "window", "Images", short="previous slice"),
    Binding("F1", "This help", review_toggle_help, "window", "Help", short="help"),
    Binding("H", "This help", review_toggle_help, "window", "Help", short="help"),
)


def _index(keymap: Sequence[Binding]) -> dict[str, Binding]:
    by_key = {binding.key: binding for binding in keymap}
    if len(by_key) != len(keymap):  # pragma: no cover - a programming error, caught on import
        raise RuntimeError("a key is bound twice in a keymap")
    return by_key


_BY_KEY = {id(KEYMAP): _index(KEYMAP), id(REVIEW_KEYMAP): _index(REVIEW_KEYMAP)}


def binding_for(key: str, keymap: Sequence[Binding] = KEYMAP) -> Binding | None:
    """The row of ``keymap`` (the reader's by default) bound to a key text (``"Ctrl+Z"``), or ``None``."""
    by_key = _BY_KEY.get(id(keymap))
    if by_key is None:
        by_key = _index(keymap)
    return by_key.get(key)


def _keys_text(keys: list[str]) -> str:
    return f"{keys[0]} – {keys[-1]}" if len(keys) > 3 else ", ".join(keys)


def help_rows(keymap: Sequence[Binding] = KEYMAP) -> list[tuple[str, str, str]]:
    """``(group, keys, description)`` for the help overlay: keys with the same
    description in one row ("0 – 9", "Down, Tab"), groups in first-use order."""
    merged: dict[tuple[str, str], list[str]] = {}
    for binding in keymap:
        merged.setdefault((binding.group, binding.description), []).append(binding.key)
    rows = [(group, _keys_text(keys), description) for (group, description), keys in merged.items()]
    order = list(dict.fromkeys(b.group for b in keymap))
    return sorted(rows, key=lambda row: order.index(row[0]))


def short_rows(keymap: Sequence[Binding] = REVIEW_KEYMAP) -> list[tuple[str, str]]:
    """``(keys, short words)`` for a compact hint line, keys of one hint merged ("0 – 9")."""
    merged: dict[str, list[str]] = {}
    for binding in keymap:
        merged.setdefault(binding.short or binding.description, []).append(binding.key)
    return [(_keys_text(keys), text) for text, keys in merged.items()]


def help_table_markdown(keymap: Sequence[Binding] = KEYMAP) -> str:
    """A keymap as a Markdown table (``docs/gui.md`` includes the reader's and the review's)."""
    lines = ["| group | keys | action |", "| --- | --- | --- |"]
    lines += [f"| {group} | {keys} | {description} |" for group, keys, description in help_rows(keymap)]
    return "\n".join(lines)


# ------------------------------------------------------------- one value per press
class Keyboard:
    """Key presses and releases of one window → the row to run, or a refusal.

    Parameters
    ----------
    keymap
        :data:`KEYMAP` or :data:`REVIEW_KEYMAP`.
    dead_time_ms
        Presses of value-storing keys closer than this count as one (see
        :class:`~myoscore.app.key_guard.KeyPressGuard`).
    """

    def __init__(self, keymap: Sequence[Binding] = KEYMAP, *, dead_time_ms: float = DEAD_TIME_MS) -> None:
        self.keymap = tuple(keymap)
        self.guard = KeyPressGuard(dead_time_ms)

    def binding_for(self, key: str) -> Binding | None:
        return binding_for(key, self.keymap)

    def press(self, key: str, time_ms: float, *, auto_repeat: bool = False) -> Binding | Changes:
        """A key went down at ``time_ms``: the :class:`Binding` to run, or ``Changes(refused=…)``
        (an unbound key, or a value-storing key that is not a new physical press).

        ``auto_repeat`` is the toolkit's flag where it has one; the rule does not need it.
        """
        binding = self.binding_for(key)
        if binding is None:
            return refused(f"Key {key} does nothing here (F1 lists the keys).")
        if binding.once_per_press:
            reason = self.guard.press(physical_key(key), time_ms, auto_repeat=auto_repeat)
            if reason:
                return refused(reason)
        return binding

    def release(self, key: str, time_ms: float) -> None:
        """A key went up at ``time_ms``."""
        self.guard.release(physical_key(key), time_ms)

    def reset(self) -> None:
        """The window lost the keyboard (a dialog, another window): forget held keys."""
        self.guard.reset()

    def run(self, session: ReadingSession | ReviewSession, key: str, time_ms: float, *,
            window: object = None, auto_repeat: bool = False) -> Changes:
        """Press ``key`` on ``session`` (and ``window`` for window rows) without a GUI: the
        :class:`~myoscore.app.changes.Changes` of its action, or the refusal."""
        outcome = self.press(key, time_ms, auto_repeat=auto_repeat)
        if isinstance(outcome, Changes):
            return outcome
        if outcome.target == "window":
            if window is None:
                return refused(f"Key {key} needs a window.")
            outcome.run_on_window(window)
            return Changes()
        try:
            return outcome.run_on_session(session)
        except MyoscoreError as exc:  # a rule said no (locked read, no such level): nothing stored
            return refused(str(exc))

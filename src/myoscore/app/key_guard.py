"""One stored value per physical key press, whatever the toolkit reports.

Holding a digit must not score a run of items. Toolkits do not say reliably that a key
press is an automatic repeat: Qt's X11 backend reports X's auto-repeat as ordinary
release/press pairs when the two events do not reach it together (a busy machine), and
other platforms repeat presses without any release. So the rule is stated here, on key
*events with times*, not on a flag:

* a guarded key (one that stores a value: a digit, N, clear, undo) is **refused while a
  guarded key is held down** — pressed, and no release seen since;
* a release followed by a press of the same key within ``min_release_ms`` (X11 sends the
  two with one timestamp) is not a release: the key was held all along;
* a guarded key is **refused within ``dead_time_ms`` of the previous guarded key** (default
  150 ms), so a burst of presses, however delivered, counts as one press;
* the toolkit's auto-repeat flag, when it is given, refuses too (but nothing depends on it);
* a key believed held for ``stale_ms`` without any event of its own is taken as released
  (its release went to another window), so a lost release cannot block the keyboard.

Every refusal is a sentence saying so; :class:`~myoscore.app.keymap.Keyboard` turns it
into a :class:`~myoscore.app.changes.Changes` the panel shows. Times are milliseconds from
any one clock (the window system's event time in the GUI); a time that goes backwards
(another clock, or a wrapped 32-bit server time) counts as long ago.
"""

from __future__ import annotations

import math

__all__ = ["DEAD_TIME_MS", "KeyPressGuard", "physical_key"]

#: Default dead time between two guarded key presses, in milliseconds.
DEAD_TIME_MS = 150.0


def physical_key(key: str) -> str:
    """The key itself without its modifiers (``"Ctrl+Z"`` → ``"Z"``, ``"Ctrl++"`` → ``"+"``):
    a release may come after the modifier was let go, so presses and releases match on it."""
    if key.endswith("+"):
        return "+"
    return key.rsplit("+", 1)[-1]


class KeyPressGuard:
    """Decides whether a press of a value-storing key is a new physical press.

    Parameters
    ----------
    dead_time_ms
        Presses closer than this to the previous guarded press are refused (0: off).
    min_release_ms
        A key up for less than this between a release and the next press was never let go.
    stale_ms
        A held key with no event of its own for this long is taken as released.
    """

    def __init__(self, dead_time_ms: float = DEAD_TIME_MS, *, min_release_ms: float = 20.0,
                 stale_ms: float = 1000.0) -> None:
        if dead_time_ms < 0 or min_release_ms < 0 or stale_ms <= 0:
            raise ValueError("key guard times must be ≥ 0 ms (stale_ms > 0)")
        self.dead_time_ms = float(dead_time_ms)
        self.min_release_ms = float(min_release_ms)
        self.stale_ms = float(stale_ms)
        self._down: dict[str, float] = {}  # key → time of its last press event
        self._released: dict[str, float] = {}  # key → time of its last release
        self._last_press: float | None = None

    @staticmethod
    def _since(then: float, now: float) -> float:
        elapsed = now - then
        return math.inf if elapsed < 0 else elapsed

    def press(self, key: str, time_ms: float, *, auto_repeat: bool = False) -> str:
        """Register a press; ``""`` when it is a new physical press, else why it is refused."""
        now = float(time_ms)
        released = self._released.pop(key, None)
        if released is not None and self._since(released, now) < self.min_release_ms:
            self._down[key] = released  # an auto-repeat release/press pair: never let go
        self._down = {k: t for k, t in self._down.items() if self._since(t, now) < self.stale_ms}
        held = sorted(self._down)
        since_last = math.inf if self._last_press is None else self._since(self._last_press, now)
        self._down[key] = now
        self._last_press = now
        if auto_repeat or held:
            shown = key if auto_repeat or key in held else held[0]
            return (f"Key {shown} is held down: one value per key press. "
                    "Release it, then press the key you want.")
        if since_last < self.dead_time_ms:
            return (f"Key {key} came {since_last:.0f} ms after the previous one: ignored, as keys closer "
                    f"than {self.dead_time_ms:.0f} ms count as one press. Press it again.")
        return ""

    def release(self, key: str, time_ms: float) -> None:
        """Register a release of ``key`` (any key; only held ones matter)."""
        self._down.pop(key, None)
        self._released[key] = float(time_ms)

    def reset(self) -> None:
        """Forget held keys (the window lost the keyboard: its releases go elsewhere)."""
        self._down.clear()
        self._released.clear()
        self._last_press = None

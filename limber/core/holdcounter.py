"""The hold counter: form verdicts over time -> seconds held in good form, with cues.

Seconds count only while the form holds. A moment's flicker (a landmark lost for a frame, an
angle wobbling over a limit) does not reset anything: the form has to be good for a short while
before counting starts and bad for a short while before it stops (hysteresis), and the flicker's
time is counted when the form comes back in time. A knee snapped straight quickly is what the
source warns against ("slowly straighten the knee"), so a fast straightening asks to go slowly.

The clock is passed in: the live camera uses real time, video analysis uses the video's time,
the tests use a fake.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .form import Verdict

__all__ = ["CUE_DONE", "CUE_HOLD", "CUE_PAUSED", "CUE_SLOWLY", "HoldCounter", "HoldState"]

CUE_HOLD = "Good. Hold it there and breathe easily."
CUE_PAUSED = "Counting paused: ease back into the stretch."
CUE_SLOWLY = "Slowly. Straighten the knee gently, without a jerk."
CUE_DONE = "Well held. Slowly bend the knee and rest."


@dataclass(frozen=True)
class HoldState:
    held_s: float  # seconds of good form in this hold
    target_s: float
    counting: bool  # seconds are being counted right now
    done: bool
    too_fast: bool  # the knee straightened jerkily a moment ago
    cues: tuple[str, ...]

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.target_s - self.held_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "held_s": round(self.held_s, 2),
            "target_s": self.target_s,
            "remaining_s": round(self.remaining_s, 2),
            "counting": self.counting,
            "done": self.done,
            "too_fast": self.too_fast,
            "cues": list(self.cues),
        }


class HoldCounter:
    """Counts one hold. Call update() with each frame's verdict; start() begins the next hold.

    start_after_s: good form this long before counting starts (a pose passed through on the
    way is not a hold). grace_s: bad form shorter than this is a flicker, not a break.
    max_knee_speed: degrees per second of knee straightening above which the movement is jerky
    (a slow straightening over two or three seconds is 30-60 deg/s).
    """

    def __init__(
        self,
        target_s: float,
        clock: Callable[[], float],
        start_after_s: float = 0.4,
        grace_s: float = 0.7,
        max_knee_speed: float = 150.0,
        warn_s: float = 2.0,
        speed_window_s: float = 0.25,
    ) -> None:
        self.clock = clock
        self.start_after_s = start_after_s
        self.grace_s = grace_s
        self.max_knee_speed = max_knee_speed
        self.warn_s = warn_s
        self.speed_window_s = speed_window_s
        self.start(target_s)

    def start(self, target_s: float) -> None:
        """Begin a new hold of target_s seconds."""
        self.target_s = float(target_s)
        self.held_s = 0.0
        self._counting = False
        self._good_since: float | None = None
        self._bad_since: float | None = None
        self._pending = 0.0  # flicker time, counted if the form comes back within grace_s
        self._last: float | None = None
        self._knee: deque[tuple[float, float]] = deque()
        self._slow_until = -1.0
        self._was_counting = False
        self._leg: str | None = None  # the working leg the knee's speed is measured on

    def new_body(self) -> None:
        """The frames from now on show someone else (the camera now follows another person):
        the knee's speed is measured afresh, so the change of knees is not a jerk."""
        self._knee.clear()

    def _knee_speed(self, now: float, knee: float | None) -> float | None:
        if knee is None:
            self._knee.clear()
            return None
        self._knee.append((now, knee))
        while self._knee and now - self._knee[0][0] > self.speed_window_s:
            self._knee.popleft()
        t0, k0 = self._knee[0]
        if now - t0 < self.speed_window_s / 2:
            return None
        return (knee - k0) / (now - t0)

    def update(self, verdict: Verdict | None) -> HoldState:
        now = self.clock()
        dt = 0.0 if self._last is None else max(0.0, now - self._last)
        self._last = now
        good = verdict is not None and verdict.good_form
        done_before = self.held_s >= self.target_s

        knee = None
        if verdict is not None and verdict.measurement is not None:
            knee = verdict.measurement.values.get("working_knee")
            if verdict.side != self._leg:
                # The knee measured is now the other leg's (the camera took the other leg for
                # the working one, as it may for a frame when the raised knee is bent): one
                # knee did not straighten, the speed is measured afresh.
                self._leg = verdict.side
                self._knee.clear()
        speed = self._knee_speed(now, knee)
        if speed is not None and speed > self.max_knee_speed:
            self._slow_until = now + self.warn_s
        too_fast = now < self._slow_until

        if not done_before:
            if good and self._bad_since is not None and now - self._bad_since > self.grace_s:
                # The form was bad from that frame until this one, longer than a flicker: at a
                # frame a second (a background tab) one bad frame between two good ones is a
                # second of bad form, a break, even though no second bad frame came to say so.
                self._counting = False
                self._pending = 0.0
            if good:
                self._bad_since = None
                if self._counting:
                    self.held_s += self._pending + dt
                    self._pending = 0.0
                else:
                    if self._good_since is None:
                        self._good_since = now
                    if now - self._good_since >= self.start_after_s:
                        self._counting = True
                        self._was_counting = True
                        self.held_s += now - self._good_since
            else:
                self._good_since = None
                if self._counting:
                    if self._bad_since is None:
                        self._bad_since = now
                        self._pending = dt
                    else:
                        self._pending += dt
                    if now - self._bad_since > self.grace_s:
                        self._counting = False
                        self._pending = 0.0
                        self._bad_since = None
            self.held_s = min(self.held_s, self.target_s)

        done = self.held_s >= self.target_s
        cues: list[str] = []
        if too_fast:
            cues.append(CUE_SLOWLY)
        if done:
            cues.append(CUE_DONE)
        elif self._counting and self._bad_since is None:
            cues.append(CUE_HOLD)
        elif not self._counting and self._was_counting:
            cues.append(CUE_PAUSED)
        return HoldState(self.held_s, self.target_s, self._counting and not done, done, too_fast,
                         tuple(cues))  # fmt: skip

"""Landmark smoothing over time: the One Euro filter (Casiez, Roussel and Vogel, CHI 2012).

Raw landmarks shiver by a few pixels from frame to frame; judged raw, a knee at 161 degrees
flickers between "straight" and "not straight". The One Euro filter smooths hard while a point
is still and little while it moves, so a held pose is steady and a real movement is not late.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .form import INDEX, Landmark, Landmarks

__all__ = ["LandmarkSmoother", "OneEuro"]


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


@dataclass
class OneEuro:
    """One value filtered over time. min_cutoff in Hz (lower: steadier), beta: speed response."""

    min_cutoff: float = 1.0
    beta: float = 0.05
    d_cutoff: float = 1.0
    _x: float | None = None
    _dx: float = 0.0
    _t: float = 0.0

    def __call__(self, x: float, t: float) -> float:
        if self._x is None:
            self._x, self._t = x, t
            return x
        if t <= self._t:
            return self._x
        dt = t - self._t
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * abs(self._dx)
        a = _alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        self._t = t
        return self._x


_LEG = ("hip", "knee", "ankle", "heel", "foot_index")
_SWAP = {
    INDEX[f"{a}_{j}"]: INDEX[f"{b}_{j}"]
    for j in _LEG
    for a, b in (("left", "right"), ("right", "left"))
}
# (left, right) landmark indices of the knees, ankles, heels and toes.
_PAIRS = tuple((INDEX[f"left_{j}"], INDEX[f"right_{j}"]) for j in _LEG[1:])


def _apart(a: Sequence[float], b: Sequence[float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def legs_swapped(prev: Sequence[Sequence[float]], cur: Sequence[Sequence[float]]) -> bool:
    """Whether the model called the legs the other way round between two looks at one person.

    prev, cur: each landmark's (x, y, ...) by its index (Landmarks.points, or rows of numbers).
    Seen from the side, BlazePose sometimes flips which leg it calls left from one look to the
    next: from frame to frame in a video, and between a crop and the same crop turned left to
    right. Judged as it comes, the working leg would jump from one leg to the other. The legs
    are taken as swapped when the knees, ankles, heels and toes lie, summed over them, less than
    half as far (in the picture) from the other side's points of the last look as from their
    own: half, not merely nearer, so that legs lying close together (both down, side by side)
    are not renamed on a small difference. The hips are left out: side on they almost coincide
    and tell nothing either way.
    """
    same = crossed = 0.0
    for i, j in _PAIRS:
        pl, pr, cl, cr = prev[i], prev[j], cur[i], cur[j]
        same += _apart(pl, cl) + _apart(pr, cr)
        crossed += _apart(pl, cr) + _apart(pr, cl)
    return crossed < 0.5 * same


def _swap_legs(lm: Landmarks) -> Landmarks:
    def swapped(pts: tuple[Landmark, ...]) -> tuple[Landmark, ...]:
        out = list(pts)
        for i, j in _SWAP.items():
            out[i] = pts[j]
        return tuple(out)

    world = None if lm.world is None else swapped(lm.world)
    return Landmarks(swapped(lm.points), lm.width, lm.height, lm.score, world)


class LandmarkSmoother:
    """Smooths all 33 landmarks of one person; starts afresh after a gap (person lost).

    Before smoothing, the legs keep the names they had in the last frame (see legs_swapped).

    Speeds are in pixels per second, so beta is scaled by the body's size in the image: the
    same movement of a near or a far person is smoothed alike.

    Each point's x and y (and its visibility, with twice the cutoff and no speed response) go
    through a OneEuro filter; the 99 filters are run as one loop over flat lists, with the
    factors every filter shares (the derivative's, the visibility's) worked out once a frame.
    The numbers are OneEuro's to the last bit.
    """

    def __init__(self, min_cutoff: float = 1.5, beta: float = 5.0, gap_s: float = 0.5) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.gap_s = gap_s
        self._last_t: float | None = None
        self._prev: Landmarks | None = None
        self._beta = 0.0  # beta for this person's frame size
        self._xy: list[float] = []  # x0, y0, x1, y1, ... (smoothed)
        self._dxy: list[float] = []  # their smoothed speeds
        self._vis: list[float] = []

    def reset(self) -> None:
        self._last_t = None
        self._prev = None

    def __call__(self, lm: Landmarks | None, t: float) -> Landmarks | None:
        if lm is None:
            return None
        last = self._last_t
        fresh = last is None or t - last > self.gap_s or t < last
        if not fresh and self._prev is not None and legs_swapped(self._prev.points, lm.points):
            lm = _swap_legs(lm)
        self._last_t = t
        if fresh:
            self._beta = self.beta / max(lm.width, lm.height)  # per frame-size per second
            self._xy = [v for p in lm.points for v in (p.x, p.y)]
            self._dxy = [0.0] * len(self._xy)
            self._vis = [p.visibility for p in lm.points]
        elif last is not None and t > last:
            self._step(lm, t - last)
        xy, vis = self._xy, self._vis
        points = tuple(
            map(Landmark._make, zip(xy[0::2], xy[1::2], [p.z for p in lm.points], vis, strict=True))
        )
        # World landmarks (metres) feed only angles, which One Euro on pixels already steadies.
        self._prev = Landmarks(points, lm.width, lm.height, lm.score, lm.world)
        return self._prev

    def _step(self, lm: Landmarks, dt: float) -> None:
        a_d = _alpha(1.0, dt)  # OneEuro's d_cutoff
        a_v = _alpha(self.min_cutoff * 2 + 0.0, dt)
        two_pi, min_cutoff, beta = 2 * math.pi, self.min_cutoff, self._beta
        xy, dxy = self._xy, self._dxy
        new = [v for p in lm.points for v in (p.x, p.y)]
        for i, x in enumerate(new):
            prev = xy[i]
            d = a_d * ((x - prev) / dt) + (1 - a_d) * dxy[i]
            dxy[i] = d
            # OneEuro's _alpha(cutoff, dt), written out.
            a = 1.0 / (1.0 + (1.0 / (two_pi * (min_cutoff + beta * abs(d)))) / dt)
            xy[i] = a * x + (1 - a) * prev
        self._vis = [
            a_v * p.visibility + (1 - a_v) * v for p, v in zip(lm.points, self._vis, strict=True)
        ]

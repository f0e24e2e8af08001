"""Landmark smoothing over time: the One Euro filter (Casiez, Roussel and Vogel, CHI 2012).

Raw landmarks shiver by a few pixels from frame to frame; judged raw, a knee at 161 degrees
flickers between "straight" and "not straight". The One Euro filter smooths hard while a point
is still and little while it moves, so a held pose is steady and a real movement is not late.
"""

from __future__ import annotations

import math
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


def _legs_swapped(prev: Landmarks, cur: Landmarks) -> bool:
    """The model called the legs the other way round from the last frame.

    Seen from the side, BlazePose sometimes flips which leg it calls left in the middle of a
    video; judged as it comes, the working leg would jump from one leg to the other.
    """

    def d(a: Landmark, b: Landmark) -> float:
        return math.hypot(a.x - b.x, a.y - b.y)

    same = crossed = 0.0
    for j in _LEG[1:]:
        pl, pr, cl, cr = prev[f"left_{j}"], prev[f"right_{j}"], cur[f"left_{j}"], cur[f"right_{j}"]
        same += d(pl, cl) + d(pr, cr)
        crossed += d(pl, cr) + d(pr, cl)
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

    Before smoothing, the legs keep the names they had in the last frame (see _legs_swapped).

    Speeds are in pixels per second, so beta is scaled by the body's size in the image: the
    same movement of a near or a far person is smoothed alike.
    """

    def __init__(self, min_cutoff: float = 1.5, beta: float = 5.0, gap_s: float = 0.5) -> None:
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.gap_s = gap_s
        self._filters: list[tuple[OneEuro, OneEuro, OneEuro]] = []
        self._last_t: float | None = None
        self._prev: Landmarks | None = None

    def reset(self) -> None:
        self._filters = []
        self._last_t = None
        self._prev = None

    def __call__(self, lm: Landmarks | None, t: float) -> Landmarks | None:
        if lm is None:
            return None
        fresh = self._last_t is None or t - self._last_t > self.gap_s or t < self._last_t
        if not fresh and self._prev is not None and _legs_swapped(self._prev, lm):
            lm = _swap_legs(lm)
        if fresh:
            scale = max(lm.width, lm.height)
            beta = self.beta / scale  # beta is per frame-size per second
            self._filters = [
                (
                    OneEuro(self.min_cutoff, beta),
                    OneEuro(self.min_cutoff, beta),
                    OneEuro(self.min_cutoff * 2, 0.0),
                )
                for _ in lm.points
            ]
        self._last_t = t
        points = tuple(
            Landmark(fx(p.x, t), fy(p.y, t), p.z, fv(p.visibility, t))
            for p, (fx, fy, fv) in zip(lm.points, self._filters, strict=True)
        )
        # World landmarks (metres) feed only angles, which One Euro on pixels already steadies.
        self._prev = Landmarks(points, lm.width, lm.height, lm.score, lm.world)
        return self._prev

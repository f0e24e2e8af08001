"""BlazePose (full) on ai-edge-litert: a camera frame in, 33 body landmarks in pixels out.

The pipeline is MediaPipe's pose landmarker, rebuilt on the two model files:

1. person detection (once, then only when the person is lost): the frame letterboxed to
   224 x 224 in [-1, 1]; 2,254 SSD anchors decoded into boxes and 4 keypoints, scores through a
   sigmoid, weighted non-maximum suppression. People lying on the floor are not found by a
   detector trained on upright people, so when the upright frame finds nobody the frame is
   tried turned by 90 and 270 degrees.
2. a square crop around the person, rotated so the hips-to-head line points up (keypoint 0 ->
   keypoint 1 of the detection, or auxiliary landmarks 33 -> 34 of the previous frame while
   tracking), 1.25 times the body circle, padded by repeating edge pixels (black padding makes
   the model believe the body is hidden there and ruins visibility);
3. the landmark model on a 256 x 256 crop in [0, 1]; 39 points x (x, y, z, visibility,
   presence), positions refined on the model's heatmaps, mapped back into image pixels.

numpy, OpenCV and ai-edge-litert are optional (the vision extra); they are imported when an
engine is built, so the rest of Limber runs without them.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from limber.core.form import Landmark, Landmarks
from limber.errors import UserError

from .models import ModelPaths, ensure_models

__all__ = ["BlazePose", "require_vision"]

MISSING = "the camera check needs the vision extra: pip install 'limber[vision]'"

DETECT_SIZE = 224
LANDMARK_SIZE = 256
MIN_DETECTION = 0.5  # sigmoid score of a person detection
MIN_PRESENCE = 0.5  # the landmark model's "there is a person in this crop" score
NMS_IOU = 0.3
ROI_SCALE = 1.25
TIGHT = 0.8  # a second, tighter look for still pictures


def require_vision() -> tuple[Any, Any, Any]:
    """numpy, cv2 and the LiteRT Interpreter, or a UserError saying how to install them."""
    try:
        import cv2
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise UserError(MISSING) from None
    return np, cv2, Interpreter


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence the C++ runtime's own messages on file descriptor 2 for a moment."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _anchors(np: Any) -> Any:
    """SSD anchor centres as MediaPipe's pose detection graph makes them (2,254 x 2).

    num_layers 5, strides 8, 16, 32, 32, 32, one aspect ratio plus an interpolated scale (two
    anchors per layer and cell), fixed anchor size; layers with the same stride share a grid.
    """
    strides = [8, 16, 32, 32, 32]
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        per_cell = 2 * (j - i)
        cells = math.ceil(DETECT_SIZE / strides[i])
        ys, xs = np.meshgrid(np.arange(cells), np.arange(cells), indexing="ij")
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        out.append(np.repeat(centres, per_cell, axis=0))
        i = j
    anchors = np.concatenate(out).astype(np.float32)
    assert anchors.shape == (2254, 2)
    return anchors


@dataclass(frozen=True)
class Roi:
    """A rotated square in image pixels: centre, side and rotation (radians, clockwise)."""

    cx: float
    cy: float
    size: float
    rotation: float


def _roi(p0: tuple[float, float], p1: tuple[float, float]) -> Roi:
    """MediaPipe's alignment-points rect: centred on p0, radius |p0 p1|, p0->p1 pointing up."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    rotation = math.pi / 2 - math.atan2(-dy, dx)
    rotation = rotation - 2 * math.pi * math.floor((rotation + math.pi) / (2 * math.pi))
    return Roi(p0[0], p0[1], 2 * math.hypot(dx, dy) * ROI_SCALE, rotation)


class BlazePose:
    """The pose engine (limber.core.form.PoseEngine). One instance per camera or video: it tracks.

    process(frame) treats frames as a video (the crop follows the person); process_image(frame)
    looks at one picture on its own, harder (every orientation, and a second, better crop).
    """

    def __init__(self, models: ModelPaths | None = None, threads: int = 2) -> None:
        np, cv2, interpreter_cls = require_vision()
        self._np, self._cv2 = np, cv2
        paths = models or ensure_models(fetch=False)
        for p in (paths.detector, paths.landmarks):
            if not p.is_file():
                raise UserError(f"the pose model {p} is missing; run `limber models` to fetch it")
        try:
            with _quiet_stderr():  # LiteRT announces its CPU delegate on stderr, every time
                self._detector = interpreter_cls(
                    model_path=str(paths.detector), num_threads=threads
                )
                self._landmarker = interpreter_cls(
                    model_path=str(paths.landmarks), num_threads=threads
                )
                for it in (self._detector, self._landmarker):
                    it.allocate_tensors()
        except (ValueError, RuntimeError) as e:
            raise UserError(f"cannot load the pose models ({e}); run `limber models`") from None
        self._det_in = self._detector.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._detector.get_output_details()}
        self._det_boxes, self._det_scores = outs["Identity"], outs["Identity_1"]
        self._lm_in = self._landmarker.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._landmarker.get_output_details()}
        self._lm_points, self._lm_flag, self._lm_heat = (
            outs["Identity"], outs["Identity_1"], outs["Identity_3"],
        )  # fmt: skip
        self._anchors = _anchors(np)
        self._track: Roi | None = None
        self.last_presence = 0.0
        self.detections = 0  # how many times the detector ran (for benchmarks and tests)

    def reset(self) -> None:
        """Forget the tracked person (a new video, or a camera restart)."""
        self._track = None

    # --- detection ----------------------------------------------------------------------------

    def _view_matrix(self, w: int, h: int, quarter_turns: int) -> Any:
        """Affine image->detector-input: letterbox into a square, turned by 90 deg steps."""
        np = self._np
        k = DETECT_SIZE / max(w, h)
        rot = {0: ((1, 0), (0, 1)), 1: ((0, -1), (1, 0)), 3: ((0, 1), (-1, 0))}[quarter_turns]
        r = np.array(rot, dtype=np.float64) * k
        c = np.array([w / 2, h / 2])
        t = np.array([DETECT_SIZE / 2, DETECT_SIZE / 2]) - r @ c
        return np.hstack([r, t[:, None]])

    def detect(self, frame: Any, quarter_turns: int = 0) -> tuple[float, Roi] | None:
        """The best person detection as (score, crop) in image pixels, or None."""
        np, cv2 = self._np, self._cv2
        h, w = frame.shape[:2]
        m = self._view_matrix(w, h, quarter_turns)
        img = cv2.warpAffine(frame, m, (DETECT_SIZE, DETECT_SIZE), flags=cv2.INTER_LINEAR)
        x = cv2.cvtColor(img, cv2.COLOR_BGR2RGB).astype(np.float32) * (2 / 255.0) - 1.0
        self._detector.set_tensor(self._det_in, x[None])
        self._detector.invoke()
        self.detections += 1
        raw = self._detector.get_tensor(self._det_boxes)[0]
        logits = np.clip(
            self._detector.get_tensor(self._det_scores)[0, :, 0].astype(np.float64), -100, 100
        )
        scores = 1 / (1 + np.exp(-logits))
        keep = np.nonzero(scores >= MIN_DETECTION)[0]
        if keep.size == 0:
            return None
        a = self._anchors[keep]
        r = raw[keep] / DETECT_SIZE
        s = scores[keep]
        boxes = np.stack(
            [
                r[:, 0] + a[:, 0] - r[:, 2] / 2,
                r[:, 1] + a[:, 1] - r[:, 3] / 2,
                r[:, 0] + a[:, 0] + r[:, 2] / 2,
                r[:, 1] + a[:, 1] + r[:, 3] / 2,
            ],
            axis=1,
        )
        kps = r[:, 4:12].reshape(-1, 4, 2) + a[:, None, :]
        # Weighted non-maximum suppression, first cluster only: we follow one person.
        best = int(np.argmax(s))
        b = boxes[best]
        ix = np.clip(np.minimum(boxes[:, 2], b[2]) - np.maximum(boxes[:, 0], b[0]), 0, None)
        iy = np.clip(np.minimum(boxes[:, 3], b[3]) - np.maximum(boxes[:, 1], b[1]), 0, None)
        inter = ix * iy
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        iou = inter / np.maximum(area + area[best] - inter, 1e-9)
        cluster = iou > NMS_IOU
        weights = s[cluster] / s[cluster].sum()
        kp = (kps[cluster] * weights[:, None, None]).sum(axis=0) * DETECT_SIZE
        # Back from detector-input pixels into the frame.
        inv = cv2.invertAffineTransform(m)
        pts = kp @ inv[:, :2].T + inv[:, 2]
        return float(s[best]), _roi((pts[0, 0], pts[0, 1]), (pts[1, 0], pts[1, 1]))

    def _find(self, frame: Any, every_turn: bool) -> Roi | None:
        found: list[tuple[float, Roi]] = []
        for turns in (0, 1, 3):
            d = self.detect(frame, turns)
            if d is not None:
                found.append(d)
                if not every_turn:
                    break
        return max(found, key=lambda d: d[0])[1] if found else None

    # --- landmarks ----------------------------------------------------------------------------

    def landmarks_in(self, frame: Any, roi: Roi) -> tuple[float, Any]:
        """Run the landmark model on one crop: (presence, 39 x 5 array in image pixels)."""
        np, cv2 = self._np, self._cv2
        n = LANDMARK_SIZE
        c, s = math.cos(roi.rotation), math.sin(roi.rotation)
        k = roi.size / n
        # crop pixel (u, v) -> image: centre + (u/n - 1/2) size * x_axis + (v/n - 1/2) size * y_axis
        a = np.array(
            [
                [k * c, -k * s, roi.cx - roi.size / 2 * (c - s)],
                [k * s, k * c, roi.cy - roi.size / 2 * (s + c)],
            ]
        )
        crop = cv2.warpAffine(
            frame, a, (n, n),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
        )  # fmt: skip
        x = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) * (1 / 255.0)
        self._landmarker.set_tensor(self._lm_in, x[None])
        self._landmarker.invoke()
        presence = float(self._landmarker.get_tensor(self._lm_flag).reshape(-1)[0])
        raw = self._landmarker.get_tensor(self._lm_points).reshape(39, 5).astype(np.float64)
        heat = self._landmarker.get_tensor(self._lm_heat)[0]
        raw[:33, :2] = self._refine(raw[:33, :2], heat)
        out = np.empty((39, 5))
        out[:, :2] = raw[:, :2] @ a[:, :2].T + a[:, 2]
        out[:, 2] = raw[:, 2] * k
        out[:, 3:] = 1 / (1 + np.exp(-np.clip(raw[:, 3:], -80, 80)))
        return presence, out

    def _refine(self, xy: Any, heat: Any, kernel: int = 7, min_conf: float = 0.5) -> Any:
        """MediaPipe's heatmap refinement: a confidence-weighted mean of a 7 x 7 neighbourhood."""
        np = self._np
        hh, hw, _ = heat.shape
        col = np.floor(xy[:, 0] / LANDMARK_SIZE * hw).astype(int)
        row = np.floor(xy[:, 1] / LANDMARK_SIZE * hh).astype(int)
        inside = (col >= 0) & (col < hw) & (row >= 0) & (row < hh)
        off = np.arange(kernel) - kernel // 2
        rows = row[:, None] + off  # 33 x 7
        cols = col[:, None] + off
        valid = ((rows >= 0) & (rows < hh))[:, :, None] & ((cols >= 0) & (cols < hw))[:, None, :]
        idx = np.arange(xy.shape[0])
        vals = heat[
            np.clip(rows, 0, hh - 1)[:, :, None],
            np.clip(cols, 0, hw - 1)[:, None, :],
            idx[:, None, None],
        ]
        conf = np.where(valid, 1 / (1 + np.exp(-np.clip(vals, -80, 80))), 0.0)
        total = conf.sum(axis=(1, 2))
        use = inside & (conf.max(axis=(1, 2)) >= min_conf) & (total > 0)
        safe = np.where(total > 0, total, 1.0)
        wc = (conf * cols[:, None, :]).sum(axis=(1, 2)) / safe / hw * LANDMARK_SIZE
        wr = (conf * rows[:, :, None]).sum(axis=(1, 2)) / safe / hh * LANDMARK_SIZE
        out = xy.copy()
        out[use, 0] = wc[use]
        out[use, 1] = wr[use]
        return out

    @staticmethod
    def _next_roi(pts: Any) -> Roi:
        return _roi((pts[33, 0], pts[33, 1]), (pts[34, 0], pts[34, 1]))

    def _result(self, frame: Any, presence: float, pts: Any) -> Landmarks:
        h, w = frame.shape[:2]
        points = tuple(
            Landmark(float(p[0]), float(p[1]), float(p[2]), float(min(p[3], p[4])))
            for p in pts[:33]
        )
        return Landmarks(points, w, h, presence)

    # --- the PoseEngine interface -------------------------------------------------------------

    def process(self, frame: Any) -> Landmarks | None:
        """One video frame: follow the person from the last frame, or find them again."""
        roi = self._track
        if roi is None:
            roi = self._find(frame, every_turn=False)
            if roi is None:
                self.last_presence = 0.0
                return None
        presence, pts = self.landmarks_in(frame, roi)
        if presence < MIN_PRESENCE and self._track is not None:
            # Lost while tracking: look for the person afresh in this very frame.
            self._track = None
            return self.process(frame)
        self.last_presence = presence
        if presence < MIN_PRESENCE:
            self._track = None
            return None
        self._track = self._next_roi(pts)
        return self._result(frame, presence, pts)

    def process_image(self, frame: Any) -> Landmarks | None:
        """One still picture, looked at harder than a video frame.

        Every orientation the detector finds the person in, each through the detector's crop,
        the crop its landmarks give, and a tighter one of each: the landmark model sometimes
        loses a leg pointing at the camera in a wide crop and finds it in a tight one. Kept is
        the look where the model itself is surest of the hips and legs (presence times their
        mean visibility); no label or expected answer enters the choice.
        """
        self._track = None
        looks: list[tuple[float, float, Any]] = []
        for turns in (0, 1, 3):
            d = self.detect(frame, turns)
            if d is None:
                continue
            presence, pts = self.landmarks_in(frame, d[1])
            for roi in (d[1], self._next_roi(pts)):
                for scale in (1.0, TIGHT):
                    look = Roi(roi.cx, roi.cy, roi.size * scale, roi.rotation)
                    presence, pts = self.landmarks_in(frame, look)
                    if presence >= MIN_PRESENCE:
                        looks.append((presence * float(pts[23:33, 3].mean()), presence, pts))
        if not looks:
            self.last_presence = 0.0
            return None
        # The surest few looks, averaged: one look's landmarks wobble by a few pixels.
        looks.sort(key=lambda x: -x[0])
        top = [x for x in looks[:3] if x[0] >= looks[0][0] - 0.05]
        pts = sum(x[2] for x in top) / len(top)
        presence = max(x[1] for x in top)
        self.last_presence = presence
        return self._result(frame, presence, pts)

"""Make a test clip: a slow pan and zoom over a licensed photo, 640 x 360, 30 s at 30 fps.

    .venv/bin/python bench/make_clip.py [OUT.mp4] [--photo PATH] [--seconds 30]

Every frame differs a little from the last (as in a real video), so the pose engine tracks the
person from frame to frame instead of seeing one still picture again. The photo defaults to the
Unlicense one in tests/data/photos (a man lying with a band round his foot).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "tests" / "data" / "photos" / "lying-band-leg-straight.jpg"
W, H, FPS = 640, 360, 30


def make_clip(out: Path, photo: Path = PHOTO, seconds: float = 30.0) -> Path:
    import cv2
    import numpy as np

    img = cv2.imread(str(photo))
    if img is None:
        raise SystemExit(f"{photo}: cannot read it")
    ih, iw = img.shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    if not writer.isOpened():
        raise SystemExit(f"cannot write {out}")
    n = round(seconds * FPS)
    for i in range(n):
        t = i / max(n - 1, 1)
        # Zoom between 100 % and 85 % of the picture's width and pan side to side, slowly.
        zoom = 1.0 - 0.15 * (0.5 - 0.5 * math.cos(2 * math.pi * t))
        cw = iw * zoom
        ch = min(ih, cw * H / W)
        cw = ch * W / H
        x0 = (iw - cw) * (0.5 + 0.5 * math.sin(2 * math.pi * t))
        y0 = (ih - ch) / 2
        k = W / cw
        m = np.array([[k, 0, -x0 * k], [0, k, -y0 * k]])
        frame = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        writer.write(frame)
    writer.release()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", nargs="?", default="var/clip-640x360.mp4")
    ap.add_argument("--photo", default=str(PHOTO))
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    make_clip(out, Path(args.photo), args.seconds)
    print(f"wrote {out} ({W}x{H}, {args.seconds:g} s at {FPS} fps)")


if __name__ == "__main__":
    sys.exit(main())

"""Image sizes read from headers alone: the limit checks before any decoder runs."""

from __future__ import annotations

import pytest

from limber.vision.imagesize import image_size, jpeg_size

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp", ".webp"])
def test_size_of_each_format_matches_the_decoded_picture(ext):
    img = np.zeros((37, 53, 3), np.uint8)
    ok, data = cv2.imencode(ext, img)
    assert ok
    assert image_size(data.tobytes()[:65536]) == (53, 37)


def test_jpeg_size_skips_metadata_segments_and_fill_bytes():
    ok, data = cv2.imencode(".jpg", np.zeros((480, 640, 3), np.uint8))
    raw = data.tobytes()
    # An EXIF-like APP1 segment and 0xFF fill bytes before the frame header, as cameras write.
    app1 = b"\xff\xe1" + (2 + 300).to_bytes(2, "big") + b"\xff" * 300
    tweaked = raw[:2] + app1 + b"\xff\xff" + raw[2:]
    assert jpeg_size(tweaked) == (640, 480)


def test_no_size_when_the_header_is_missing_or_not_an_image():
    ok, data = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    assert jpeg_size(data.tobytes()[:20]) is None  # cut before the frame header
    assert jpeg_size(b"GIF89a....") is None
    assert image_size(b"just some text, not a picture") is None

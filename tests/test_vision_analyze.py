"""Analyzing photos and video files, and the CLI commands around it."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from limber.cli import main
from limber.core.form import Landmarks
from limber.errors import UserError

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("ai_edge_litert")

from limber.vision.analyze import analyze, analyze_video, choose  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
POSES = REPO.parent / "shared" / "data" / "poses"
TOWEL = "towel-hamstring-stretch"


@pytest.fixture(autouse=True)
def models_env(models, monkeypatch):
    monkeypatch.setenv("LIMBER_MODELS_DIR", str(models.detector.parent))


@pytest.fixture(scope="session")
def engine(models):
    from limber.vision.engine import BlazePose

    return BlazePose(models)


def make_video(path: Path, frames: list, fps: float = 15) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def photo(name: str, size=(640, 480)):
    return cv2.resize(cv2.imread(str(POSES / name)), size)


# --- images -----------------------------------------------------------------------------------


def test_photo_of_the_towel_stretch(engine):
    r = analyze(POSES / "lying-band-leg-straight.jpg", TOWEL, engine=engine)
    assert r["exercise"] == TOWEL and r["kind"] == "image"
    assert r["person_found"] and r["in_position"]
    assert r["posture"] == "lying"
    knee = next(c for c in r["checks"] if c["name"] == "knee_straight")
    assert knee["ok"] is True and 150 < knee["measured_deg"] <= 180 and knee["target"] == 180


def test_bent_knee_photo_gets_the_specs_cue(engine):
    r = analyze(POSES / "lying-band-knee-bent.jpg", TOWEL, engine=engine)
    assert r["in_position"]
    assert "Straighten the knee slowly, only as far as you feel a gentle stretch." in r["cues"]


def test_annotated_photo_is_written(engine, tmp_path):
    out = tmp_path / "seen.png"
    analyze(POSES / "chair-sitting.jpg", "seated-hamstring-stretch", engine=engine, out=out)
    img = cv2.imread(str(out))
    assert img is not None and img.shape == (567, 850, 3)
    original = cv2.imread(str(POSES / "chair-sitting.jpg"))
    assert np.abs(img.astype(int) - original.astype(int)).mean() > 3  # something was drawn


def test_unknown_names_are_user_errors():
    with pytest.raises(UserError, match="choose one of: towel-hamstring-stretch"):
        choose("hamstring")
    with pytest.raises(UserError, match="no variant 'strap'"):
        choose(TOWEL, variant="strap")
    with pytest.raises(UserError, match="left or right, not 'both'"):
        choose(TOWEL, side="both")


def test_bad_files_are_user_errors(engine, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="empty"):
        analyze(empty, TOWEL, engine=engine)
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    with pytest.raises(UserError, match="notes.mp4"):
        analyze(text, TOWEL, engine=engine)
    fake_jpg = tmp_path / "photo.jpg"
    fake_jpg.write_text("not an image")
    with pytest.raises(UserError, match="not an image"):
        analyze(fake_jpg, TOWEL, engine=engine)
    with pytest.raises(UserError, match="no such file"):
        analyze(tmp_path / "missing.png", TOWEL, engine=engine)


# --- videos -----------------------------------------------------------------------------------


def test_video_counts_good_form_seconds(engine, tmp_path):
    blank = np.full((480, 640, 3), 180, np.uint8)
    held = photo("lying-band-leg-straight.jpg")
    video = make_video(tmp_path / "hold.mp4", [blank] * 15 + [held] * 45)  # 1 s empty, 3 s held
    out = tmp_path / "annotated.mp4"
    r = analyze(video, TOWEL, side="left", engine=engine, out=out)
    assert r["frames"] == 60 and r["seconds"] == pytest.approx(4.0)
    assert r["person_found"] and r["in_position"] and r["side"] == "left"
    assert r["good_form_s"] == pytest.approx(3.0, abs=0.5)
    assert [s["person"] for s in r["timeline"]] == [False, True, True, True]
    assert [s["good_form"] for s in r["timeline"]][1:] == [True, True, True]
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 60
    cap.release()


def test_video_without_anyone_is_a_clean_answer(engine, tmp_path):
    blank = np.full((240, 320, 3), 60, np.uint8)
    r = analyze(make_video(tmp_path / "empty-room.mp4", [blank] * 20), TOWEL, engine=engine)
    assert r["person_found"] is False and r["in_position"] is False
    assert r["good_form_s"] == 0 and all(c["ok"] is None for c in r["checks"])


def test_video_with_a_fake_engine_warns_of_a_jerk(tmp_path):
    """The engine is passed in: here a fake one whose person snaps the knee straight."""
    from test_form import synth

    from limber.core.body import interpolate
    from limber.core.spec import load_library

    variant = load_library()[TOWEL].default_variant

    class Snapping:
        def __init__(self) -> None:
            self.i = 0

        def process(self, frame) -> Landmarks | None:
            self.i += 1
            t = 0.0 if self.i < 15 else min(1.0, (self.i - 15) / 3)  # 90 -> 178 in 0.2 s
            return synth(interpolate(variant.start, variant.end, t), "lying", "right")

    video = make_video(tmp_path / "v.mp4", [np.zeros((480, 640, 3), np.uint8)] * 60)
    stretch, v = choose(TOWEL)
    r = analyze_video(video, stretch, v, "right", engine=Snapping())
    assert r["too_fast_at_s"] and 0.9 <= r["too_fast_at_s"][0] <= 1.3
    assert r["good_form_s"] > 2


# --- the CLI ----------------------------------------------------------------------------------


def test_eval_form_agrees_with_every_label(capsys):
    assert main(["eval-form", str(POSES)]) == 0
    out = capsys.readouterr().out
    assert "5 of 5 agree" in out


def test_eval_form_reports_a_disagreement(tmp_path, capsys):
    shutil.copy(POSES / "standing.jpg", tmp_path / "standing.jpg")
    (tmp_path / "labels.tsv").write_text(
        "file\texercise\tin_position\tknee_straight\nstanding.jpg\t" + TOWEL + "\ttrue\t-\n"
    )
    assert main(["eval-form", str(tmp_path)]) == 1
    assert "NO" in capsys.readouterr().out
    (tmp_path / "labels.tsv").write_text("file\texercise\nstanding.jpg\tx\n")
    assert main(["eval-form", str(tmp_path)]) == 2


def test_analyze_json(capsys):
    path = POSES / "chair-leg-extended.jpg"
    assert main(["analyze", str(path), "--exercise", "seated-hamstring-stretch", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["in_position"] is True and r["side"] in ("left", "right")
    assert {c["name"] for c in r["checks"]} == {"knee_straight", "heel_down", "trunk_upright"}


def test_analyze_summary_and_errors(capsys, tmp_path):
    path = str(POSES / "standing.jpg")
    assert main(["analyze", path, "--exercise", TOWEL, "-o", str(tmp_path / "a.png")]) == 0
    out = capsys.readouterr().out
    assert "NOT in position" in out and "Lie down on your back" in out
    assert (tmp_path / "a.png").exists()
    assert main(["analyze", path, "--exercise", TOWEL, "--side", "middle"]) == 2
    assert "not 'middle'" in capsys.readouterr().err
    assert main(["analyze", path, "--exercise", TOWEL, "--variant", "rope"]) == 2
    assert main(["analyze", path]) == 2  # --exercise is required


def test_progress_bar_on_stderr():
    from limber.vision.cli import _Bar

    stream = io.StringIO()
    bar = _Bar(stream, force=True)
    bar(10, 10)
    bar.close()
    assert "10/10 frames" in stream.getvalue()


def test_models_command(capsys, models):
    assert main(["models", "--check", "--dir", str(models.detector.parent)]) == 0
    assert capsys.readouterr().out.count("ok  ") == 2

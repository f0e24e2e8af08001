"""Live coaching: the camera socket (limber.practice.consumers) and the player using it.

The socket is tested through the whole ASGI application (origin check, session login) with
landmarks built from the body model (tests/test_form.py's synth) and a fake pose engine; the
player is tested in Chromium with its fake camera, against uvicorn serving the app in this
process (pytest-django's live_server speaks no WebSocket).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.test import Client

from limber.core.spec import load_library
from limber.errors import UserError
from limber.practice import consumers
from tests.conftest import chromium, watched_page
from tests.test_form import synth

TOWEL = load_library()["towel-hamstring-stretch"]
GOOD = synth(TOWEL.default_variant.end, "lying", "right", size=(640, 480))
BENT = synth(TOWEL.default_variant.start, "lying", "right", size=(640, 480))
POSES = Path(__file__).resolve().parent / "data" / "photos"  # licensed photos, see LICENSE-*

pytestmark = pytest.mark.django_db(transaction=True)


def points(lm) -> list[list[float]]:
    return [[p.x, p.y, p.z, p.visibility] for p in lm.points]


def landmarks_msg(lm) -> str:
    return json.dumps({"type": "landmarks", "points": points(lm), "width": lm.width,
                       "height": lm.height})  # fmt: skip


START = json.dumps({"type": "start", "exercise": TOWEL.slug, "variant": None, "side": "right",
                    "target_s": 30})  # fmt: skip


class FakeEngine:
    def __init__(self, lm=GOOD):
        self.lm = lm
        self.frames = []

    def process(self, frame):
        self.frames.append(frame.shape)
        return self.lm


@pytest.fixture
def fake_clock(monkeypatch):
    t = [1000.0]
    monkeypatch.setattr(consumers, "clock", lambda: t[0])
    return t


def cookie_for(user) -> bytes:
    c = Client()
    c.force_login(user)
    return f"sessionid={c.cookies['sessionid'].value}".encode()


class Socket(ApplicationCommunicator):
    """A WebSocket client for an ASGI app in this process (channels.testing's needs daphne)."""

    def __init__(self, application, path: str, headers: list[tuple[bytes, bytes]]):
        scope = {"type": "websocket", "path": path, "query_string": b"", "headers": headers,
                 "subprotocols": []}  # fmt: skip
        super().__init__(application, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, object]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, None

    async def send_to(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if text_data is not None:
            await self.send_input({"type": "websocket.receive", "text": text_data})
        else:
            await self.send_input({"type": "websocket.receive", "bytes": bytes_data})

    async def receive_from(self, timeout: float = 5) -> str:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return response["text"]

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(1)


def communicator(cookie: bytes | None = None, origin: bytes = b"http://localhost"):
    from limber.asgi import application

    headers = [(b"origin", origin), (b"host", b"localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    return Socket(application, "/ws/form/", headers=headers)


def run(coro):
    return asyncio.run(coro)


async def answer(ws, message=None, binary=None):
    if message is not None:
        await ws.send_to(text_data=message)
    if binary is not None:
        await ws.send_to(bytes_data=binary)
    return json.loads(await ws.receive_from(timeout=10))


def test_anonymous_is_turned_away():
    async def go():
        ws = communicator()
        connected, _ = await ws.connect()
        assert connected
        reply = json.loads(await ws.receive_from())
        assert reply["type"] == "error"
        closed = await ws.receive_output()
        assert closed == {"type": "websocket.close", "code": 4401}

    run(go())


def test_a_foreign_origin_is_refused(alice):
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie, origin=b"http://evil.example")
        connected, _ = await ws.connect()
        assert not connected

    run(go())


def test_good_form_is_counted_and_a_bent_knee_is_not(alice, fake_clock):
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        started = await answer(ws, START)
        assert started["type"] == "started" and started["side"] == "right"
        last = None
        for _ in range(31):  # 3 s of good form at 10 frames a second
            last = await answer(ws, landmarks_msg(GOOD))
            fake_clock[0] += 0.1
        assert last["type"] == "verdict"
        assert last["verdict"]["good_form"] is True and last["verdict"]["side"] == "right"
        assert last["hold"]["counting"] is True
        assert 2.5 <= last["hold"]["held_s"] <= 3.0
        assert len(last["landmarks"]) == 33
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y, _ in last["landmarks"])

        # A new hold: the knee bent all along counts nothing and says what to do.
        await answer(ws, START)
        for _ in range(20):
            last = await answer(ws, landmarks_msg(BENT))
            fake_clock[0] += 0.1
        assert last["hold"]["held_s"] == 0 and last["hold"]["counting"] is False
        assert last["verdict"]["good_form"] is False
        assert (
            "Straighten the knee slowly, only as far as you feel a gentle stretch."
            in last["verdict"]["cues"]
        )
        await ws.disconnect()

    run(go())


def short_knee(side="right"):
    """The towel stretch held with the knee at 145 degrees: tight hamstrings, stretch felt."""
    from dataclasses import replace

    return synth(replace(TOWEL.default_variant.end, knee=145), "lying", side, size=(640, 480))


async def frames_of(ws, lm, clock, n=20):
    """n frames of these landmarks, 0.1 s apart: the answer to the last."""
    last = None
    for _ in range(n):
        last = await answer(ws, landmarks_msg(lm))
        clock[0] += 0.1
    return last


def test_a_knee_short_of_straight_counts_once_the_person_says_the_stretch_is_felt(
    alice, fake_clock
):
    """ "I feel the stretch here": from the knee's angle then, on this stretch and leg, for the
    rest of the page's session; not on the other leg, and not before the camera saw the
    stretch."""
    cookie = cookie_for(alice)

    async def frames(ws, lm):
        return await frames_of(ws, lm, fake_clock)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        refused = await answer(ws, json.dumps({"type": "felt"}))
        assert refused["type"] == "error" and "start" in refused["message"]
        await answer(ws, START)
        unseen = await answer(ws, json.dumps({"type": "felt"}))
        assert unseen == {"type": "felt", "ok": False, "message": consumers.FELT_UNSEEN}
        last = await frames(ws, short_knee())
        assert last["hold"]["held_s"] == 0 and not last["verdict"]["good_form"]
        noted = await answer(ws, json.dumps({"type": "felt"}))
        assert noted["ok"] is True and 140 <= noted["knee_deg"] <= 150
        assert f"{noted['knee_deg']}°" in noted["message"]
        last = await frames(ws, short_knee())
        assert last["verdict"]["good_form"] is True and 1.5 <= last["hold"]["held_s"] <= 2.0

        # The next hold on this leg remembers it; the other leg has not been felt yet.
        await answer(ws, START)
        assert (await frames(ws, short_knee()))["verdict"]["good_form"] is True
        left = START.replace('"right"', '"left"')
        await answer(ws, left)
        last = await frames(ws, short_knee("left"))
        assert last["hold"]["held_s"] == 0 and not last["verdict"]["good_form"]
        await ws.disconnect()

    run(go())


def test_each_answer_says_the_knee_seen_in_the_stretch_and_whether_it_is_short(alice, fake_clock):
    """The median of the hold's frames in position: what a "gentle stretch" answered after the
    hold makes the angle the stretch is felt at (player.js)."""
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        first = await answer(ws, landmarks_msg(short_knee()))
        assert 140 <= first["hold"]["knee_deg"] <= 150 and first["hold"]["knee_short"] is True
        # A moment with the knee bent much further hardly moves it (a mean would drop ~13°).
        await frames_of(ws, BENT, fake_clock, n=3)
        last = await frames_of(ws, short_knee(), fake_clock, n=9)
        assert abs(last["hold"]["knee_deg"] - first["hold"]["knee_deg"]) <= 2
        await answer(ws, START)  # a new hold starts afresh
        last = await frames_of(ws, GOOD, fake_clock, n=5)
        assert last["hold"]["knee_deg"] >= 170 and last["hold"]["knee_short"] is False
        await ws.disconnect()

    run(go())


def test_where_the_stretch_was_felt_last_time_counts_from_the_first_frame(alice, fake_clock):
    """The page sends where the person last felt this stretch on this leg (felt_knees): no
    button to reach for, lying on the floor with both hands on the towel. A bad angle is a
    plain error that changes nothing."""
    cookie = cookie_for(alice)
    short = short_knee()
    remembered = json.loads(START) | {"knee_felt_deg": 146}
    ws = None

    async def frames(lm):
        return await frames_of(ws, lm, fake_clock)

    async def go():
        nonlocal ws
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        held = (await frames(GOOD))["hold"]["held_s"]
        assert held >= 1.5
        for bad in (200, -1, "146", True, [146]):
            refused = await answer(ws, json.dumps(remembered | {"knee_felt_deg": bad}))
            assert refused["type"] == "error" and "knee_felt_deg" in refused["message"]
        # Nothing changed: the same hold counts on, and a short knee is still short in it.
        assert (await frames(GOOD))["hold"]["held_s"] >= held + 1.5
        last = await frames(short)
        assert not last["verdict"]["good_form"] and last["hold"]["knee_felt_deg"] is None
        await answer(ws, json.dumps(remembered))
        last = await frames(short)
        assert last["verdict"]["good_form"] is True and last["hold"]["held_s"] >= 1.5
        assert last["hold"]["knee_felt_deg"] == 146
        await ws.disconnect()

    run(go())


def test_a_knee_the_clinician_says_cannot_straighten_counts_from_their_angle(
    alice, make_user, fake_clock
):
    """A prescription's knee_from_deg: the knee at 145 degrees counts from the first frame of the
    prescribed stretch, the check says why, and the answer's knee_felt_deg stays the person's
    own (none pressed). Without the prescription the same knee is short."""
    from limber.clinic.models import CareLink, Prescription

    cookie = cookie_for(alice)
    carol = make_user("carol@clinic.example", role="clinician")
    CareLink.objects.create(patient=alice, clinician=carol)
    item = {"exercise": TOWEL.slug, "variant": None, "sides": ["left", "right"],
            "reps_per_side": 2, "hold_cap_s": None, "knee_from_deg": 140}  # fmt: skip
    data = {"items": [item], "times_per_week": 7, "affected_side": None, "note": "",
            "override_reason": ""}  # fmt: skip
    ws = None

    async def session():
        nonlocal ws
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        last = await frames_of(ws, short_knee(), fake_clock)
        await ws.disconnect()
        return last

    before = run(session())
    assert before["verdict"]["good_form"] is False
    Prescription.objects.create(patient=alice, data=data, updated_by=carol)
    after = run(session())
    assert after["verdict"]["good_form"] is True and after["hold"]["held_s"] >= 1.5
    knee = next(c for c in after["verdict"]["checks"] if c["name"] == "knee_straight")
    assert knee["label"] == "Knee straight (from 140°, as your clinician set)"
    assert knee["min"] == 140
    assert after["hold"]["knee_felt_deg"] is None and after["hold"]["knee_short"] is False


def test_a_gap_in_the_frames_is_not_counted(alice, fake_clock):
    """The player pauses (or the network stalls) with the person in the stretch on both sides
    of the gap: only the seconds seen count."""
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        for _ in range(21):
            last = await answer(ws, landmarks_msg(GOOD))
            fake_clock[0] += 0.1
        before = last["hold"]["held_s"]
        assert 1.5 <= before <= 2.0
        fake_clock[0] += 10.0  # paused
        for _ in range(21):
            last = await answer(ws, landmarks_msg(GOOD))
            fake_clock[0] += 0.1
        assert before + 1.5 <= last["hold"]["held_s"] <= before + 2.0
        assert last["hold"]["remaining_s"] == round(30 - last["hold"]["held_s"], 2)
        await ws.disconnect()

    run(go())


def test_a_crooked_phone_counts_good_form_once_the_page_says_its_tilt(alice, fake_clock):
    """The phone propped up 30 degrees off level: the stretch slopes in the picture and reads
    out of position. The page's level (the phone's gravity sensor) says the tilt, and the same
    frames count, while the skeleton drawn stays where the body is in the picture."""
    from tests.test_form import tilted, with_world

    crooked = tilted(with_world(GOOD), -30)
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        last = await frames_of(ws, crooked, fake_clock)
        assert last["verdict"]["in_position"] is False and last["hold"]["held_s"] == 0
        await ws.send_to(text_data=json.dumps({"type": "level", "tilt_deg": 30}))
        last = await frames_of(ws, crooked, fake_clock)
        assert last["verdict"]["good_form"] is True and last["hold"]["held_s"] >= 1.5
        hip = crooked["right_hip"]
        assert last["landmarks"][24][:2] == pytest.approx([hip.x / 640, hip.y / 480], abs=1e-3)
        # No reading any more (the phone laid flat): judged as the picture shows it again.
        await ws.send_to(text_data=json.dumps({"type": "level", "tilt_deg": None}))
        last = await frames_of(ws, crooked, fake_clock)
        assert last["verdict"]["in_position"] is False
        await ws.disconnect()

    run(go())


def test_bad_messages_get_an_error_never_a_crash(alice, monkeypatch):
    monkeypatch.setattr(consumers, "engine_factory", FakeEngine)
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        bad = [
            ("text", "not json"),
            ("text", "[1, 2]"),
            ("text", json.dumps({"type": "dance"})),
            ("text", landmarks_msg(GOOD)),  # before start
            ("text", json.dumps({"type": "start", "exercise": "juggling", "target_s": 30})),
            ("text", json.dumps({"type": "start", "exercise": TOWEL.slug, "target_s": "x"})),
            (
                "text",
                json.dumps(
                    {"type": "start", "exercise": TOWEL.slug, "target_s": 30, "side": "middle"}
                ),
            ),  # fmt: skip
            ("text", json.dumps({"type": "level", "tilt_deg": 90})),
            ("text", json.dumps({"type": "level", "tilt_deg": "level"})),
            ("text", json.dumps({"type": "level", "tilt_deg": True})),
        ]
        for _kind, text in bad:
            reply = await answer(ws, text)
            assert reply["type"] == "error" and reply["message"], text
        await answer(ws, START)
        for frame in [b"not an image", b"\xff\xd8\xff" + b"\0" * 100, b"\xff" * (600 * 1024)]:
            reply = await answer(ws, binary=frame)
            assert reply["type"] == "error" and not reply["fatal"], reply
        reply = await answer(ws, json.dumps({"type": "landmarks", "points": [[1, 2]] * 33,
                                             "width": 640, "height": 480}))  # fmt: skip
        assert reply["type"] == "error"
        # Still working after all that.
        reply = await answer(ws, landmarks_msg(GOOD))
        assert reply["type"] == "verdict"
        await ws.disconnect()

    run(go())


HOSTILE = [
    ("nested 50,000 deep", "[" * 50_000 + "]" * 50_000),
    ("nested objects", '{"a":' * 20_000 + "1" + "}" * 20_000),
    ("over 64 KB", json.dumps({"type": "landmarks", "pad": "x" * 70_000})),
    ("an integer of 5,000 digits", '{"type": "start", "target_s": ' + "9" * 5000 + "}"),
    ("1e999", json.dumps({"type": "start", "exercise": TOWEL.slug}).replace("}", ', "target_s": 1e999}')),
    ("NaN", '{"type": "start", "exercise": "towel-hamstring-stretch", "target_s": NaN}'),
    ("-Infinity", '{"type": "landmarks", "width": -Infinity, "height": 1, "points": []}'),
    ("a width past any camera", json.dumps({"type": "landmarks", "points": points(GOOD),
                                            "width": 10**400, "height": 480})),
    ("a point past float", json.dumps({"type": "landmarks", "points": [[10**400, 1, 0, 1]] * 33,
                                       "width": 640, "height": 480})),
    ("an id that is a document", json.dumps({"type": "start", "exercise": TOWEL.slug,
                                             "target_s": 30, "id": {"a": [1] * 1000}})),
]  # fmt: skip


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"the answer contains {name}")

    return json.loads(text, parse_constant=refuse)


def test_hostile_messages_get_an_error_and_the_socket_stays_usable(alice, fake_clock):
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        for name, text in HOSTILE:
            await ws.send_to(text_data=text)
            reply = strict_json(await ws.receive_from(timeout=10))
            assert reply["type"] == "error" and reply["message"] and not reply["fatal"], name
        await answer(ws, START)
        reply = await answer(ws, landmarks_msg(GOOD))
        assert reply["type"] == "verdict"
        await ws.disconnect()

    run(go())


def test_answers_never_carry_nan_even_from_a_broken_pose(alice, monkeypatch, fake_clock):
    from limber.core.form import Landmark, Landmarks

    nan = float("nan")
    broken = Landmarks(tuple(Landmark(nan, nan, nan, 1.0) for _ in GOOD.points), 640, 480)
    monkeypatch.setattr(consumers, "engine_factory", lambda: FakeEngine(broken))
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        for _ in range(3):
            await ws.send_to(bytes_data=jpeg())
            reply = strict_json(await ws.receive_from(timeout=10))
            assert reply["type"] in ("verdict", "error")
            fake_clock[0] += 0.1
        await ws.disconnect()

    run(go())


@pytest.mark.parametrize(
    "origin, host, accepted",
    [
        (b"http://localhost", b"localhost", True),
        (b"http://localhost:8600", b"localhost:8600", True),
        (b"http://localhost:8601", b"localhost:8600", False),  # another port
        (b"https://localhost", b"localhost", False),  # another scheme
        (b"http://localhost:80", b"localhost", True),  # the default port, written out
        (b"http://localhost.evil.example", b"localhost", False),
        (b"null", b"localhost", False),
    ],
)
def test_the_origin_must_be_this_site_scheme_host_and_port(alice, origin, host, accepted):
    from limber.asgi import application

    cookie = cookie_for(alice)
    headers = [(b"origin", origin), (b"host", host), (b"cookie", cookie)]

    async def go():
        ws = Socket(application, "/ws/form/", headers=headers)
        connected, _ = await ws.connect()
        return connected

    assert run(go()) is accepted


def _files(*folders: Path) -> set[tuple[str, int]]:
    found = set()
    for folder in folders:
        for root, _dirs, names in os.walk(folder):
            for n in names:
                p = Path(root, n)
                try:
                    found.add((str(p), p.stat().st_mtime_ns))
                except OSError:
                    pass
    return found


def jpeg(width=640, height=480) -> bytes:
    import cv2
    import numpy as np

    image = np.full((height, width, 3), 200, dtype=np.uint8)
    cv2.circle(image, (width // 2, height // 2), 50, (30, 60, 90), -1)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return data.tobytes()


def test_frames_are_judged_in_memory_and_never_written(alice, monkeypatch, fake_clock, tmp_path):
    engine = FakeEngine()
    monkeypatch.setattr(consumers, "engine_factory", lambda: engine)
    cookie = cookie_for(alice)
    frame = jpeg()
    # A private temporary folder (other programs write to the shared one), and every file
    # opened for writing by Python while the frames are judged.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    watched = [Path(settings.DATA_DIR), tmp_path]
    before = _files(*watched)
    written: list[str] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            written.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            written.append(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        monkeypatch.setattr(builtins, "open", spy_open)
        monkeypatch.setattr(os, "open", spy_os_open)
        for _ in range(10):
            reply = await answer(ws, binary=frame)
            assert reply["type"] == "verdict", reply
            fake_clock[0] += 0.1
        monkeypatch.setattr(builtins, "open", real_open)
        monkeypatch.setattr(os, "open", real_os_open)
        assert reply["verdict"]["good_form"] is True
        await ws.disconnect()

    run(go())
    assert engine.frames == [(480, 640, 3)] * 10
    assert written == []
    assert _files(*watched) - before == set()


def test_stale_frames_are_dropped_while_busy(alice, monkeypatch):
    class Slow(FakeEngine):
        def process(self, frame):
            time.sleep(0.2)
            return super().process(frame)

    engine = Slow()
    monkeypatch.setattr(consumers, "engine_factory", lambda: engine)
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        frame = jpeg()
        for _ in range(5):  # all at once: the first is judged, the last waits, the rest go
            await ws.send_to(bytes_data=frame)
        first = json.loads(await ws.receive_from(timeout=5))
        second = json.loads(await ws.receive_from(timeout=5))
        assert first["type"] == second["type"] == "verdict"
        assert second["dropped"] == 3
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    run(go())
    assert len(engine.frames) == 2


def test_without_the_model_the_patient_gets_a_plain_word_and_the_log_the_fix(
    alice, monkeypatch, caplog
):
    def missing():
        raise UserError("the pose model var/models/x.tflite is missing; run `limber models`")

    monkeypatch.setattr(consumers, "engine_factory", missing)
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        reply = await answer(ws, binary=jpeg())
        assert reply["type"] == "error" and reply["fatal"] is True
        assert reply["message"] == (
            "The camera check is not set up on this server; your holds are timed as usual."
        )
        await ws.disconnect()

    with caplog.at_level("ERROR", logger="limber.practice.consumers"):
        run(go())
    assert "var/models/x.tflite" in caplog.text and "limber models" in caplog.text


async def _open(cookie):
    ws = communicator(cookie)
    assert (await ws.connect())[0]
    return ws


async def _is_refused(ws) -> str:
    reply = json.loads(await ws.receive_from())
    assert reply["type"] == "error" and reply["fatal"] is True
    assert await ws.receive_output() == {"type": "websocket.close", "code": 4429}
    return reply["message"]


def test_one_account_has_at_most_two_camera_sockets_open(alice, bob):
    cookie, other = cookie_for(alice), cookie_for(bob)

    async def go():
        first, second = await _open(cookie), await _open(cookie)
        assert (await answer(second, START))["type"] == "started"
        third = await _open(cookie)
        message = await _is_refused(third)
        assert "already on in another tab or window" in message
        bobs = await _open(other)  # someone else's count is their own
        assert (await answer(bobs, START))["type"] == "started"
        await first.disconnect()  # a closed socket gives its place back
        fourth = await _open(cookie)
        assert (await answer(fourth, START))["type"] == "started"
        for ws in (second, fourth, bobs):
            await ws.disconnect()

    run(go())


def test_a_crashed_process_cannot_hold_an_accounts_camera_sockets_for_ever(alice, monkeypatch):
    """Two sockets of a process that died without closing them: refused until their lease ends."""
    monkeypatch.setattr(consumers, "SOCKET_LEASE_S", 1)
    cookie = cookie_for(alice)

    async def go():
        for _ in range(consumers.MAX_SOCKETS_PER_USER):
            assert await consumers.take_slot(alice.pk, "a process now dead") is not None
        await _is_refused(await _open(cookie))
        await asyncio.sleep(1.2)
        ws = await _open(cookie)
        assert (await answer(ws, START))["type"] == "started"
        await asyncio.sleep(1.2)  # a live socket renews its lease
        assert await consumers.take_slot(alice.pk, "another") is not None
        assert await consumers.take_slot(alice.pk, "and another") is None
        await ws.disconnect()

    run(go())


def test_frames_a_second_apart_still_count_good_form(alice, fake_clock):
    """A background tab (Chrome runs its timers once a second) or a busy server: the person is
    seen every second, in good form, and those seconds count."""
    cookie = cookie_for(alice)

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        for _ in range(11):
            last = await answer(ws, landmarks_msg(GOOD))
            fake_clock[0] += 1.05  # a timer run once a second comes a little late
        assert 9.5 <= last["hold"]["held_s"] <= 10.5
        await ws.disconnect()

    run(go())


def test_the_camera_turning_to_the_one_stretching_is_not_a_jerk(alice, monkeypatch, fake_clock):
    """The engine first follows someone beside the person stretching, knee bent (BENT), then
    switches to the one in the stretch (GOOD, the knee straight): the socket starts the
    smoothing afresh on them, so there is no "Slowly" for a knee that never moved, and the
    hold counts from the switch."""

    class Switching(FakeEngine):
        switched = False

        def process(self, frame):
            self.switched = len(self.frames) == 10  # the 11th frame is someone else
            super().process(frame)
            return BENT if len(self.frames) <= 10 else GOOD

    monkeypatch.setattr(consumers, "engine_factory", Switching)
    cookie = cookie_for(alice)
    frame = jpeg()

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, START)
        replies = []
        for _ in range(30):
            replies.append(await answer(ws, binary=frame))
            fake_clock[0] += 0.1
        assert not any(r["hold"]["too_fast"] for r in replies)
        assert replies[10]["verdict"]["good_form"]  # at once, not blended with the knee bent
        assert 1.5 <= replies[-1]["hold"]["held_s"] <= 2.0
        await ws.disconnect()

    run(go())


def test_the_real_engine_on_a_photo(alice, models, monkeypatch):
    """The whole path with BlazePose and the real model files."""
    monkeypatch.setenv("LIMBER_MODELS_DIR", str(models.detector.parent))
    cookie = cookie_for(alice)
    seated = load_library()["seated-hamstring-stretch"]
    data = (POSES / "chair-leg-extended.jpg").read_bytes()
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    small = cv2.resize(image, (640, round(640 * h / w)))
    frame = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        await answer(ws, json.dumps({"type": "start", "exercise": seated.slug, "target_s": 30}))
        reply = await answer(ws, binary=frame)
        assert reply["type"] == "verdict", reply
        assert reply["verdict"]["person_found"] and reply["verdict"]["posture"] == "sitting"
        assert len(reply["landmarks"]) == 33
        await ws.disconnect()

    run(go())


def test_the_real_engine_judges_the_one_stretching_beside_someone_sitting(
    alice, models, monkeypatch
):
    """A partner sits on a chair beside the person doing the towel stretch: the person lying
    is judged, from the first frame (the engine would follow the one it finds first, the man
    sitting)."""
    import cv2

    monkeypatch.setenv("LIMBER_MODELS_DIR", str(models.detector.parent))
    cookie = cookie_for(alice)
    sitting, lying = (
        cv2.imread(str(POSES / n)) for n in ("chair-sitting.jpg", "lying-band-leg-straight.jpg")
    )
    both = cv2.resize(cv2.vconcat([sitting, lying]), (360, 480))
    frame = cv2.imencode(".jpg", both, [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes()

    async def go():
        ws = communicator(cookie)
        assert (await ws.connect())[0]
        start = {"type": "start", "exercise": "towel-hamstring-stretch", "target_s": 30}
        await answer(ws, json.dumps(start))
        reply = await answer(ws, binary=frame)
        assert reply["type"] == "verdict", reply
        assert reply["verdict"]["in_position"] and reply["verdict"]["posture"] == "lying"
        hips_y = [reply["landmarks"][i][1] for i in (23, 24)]  # fractions of the frame's height
        assert min(hips_y) > 0.5  # the lower half: the man lying
        await ws.disconnect()

    run(go())


# --- the player in Chromium, with its fake camera ------------------------------------------------


@pytest.fixture(scope="module")
def camera_browser():
    with chromium("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream") as b:
        yield b


@pytest.fixture
def asgi_server(transactional_db):
    """uvicorn serving the whole ASGI app (pages and socket) in a thread of this process, so it
    shares the test database and the test's replacements of the consumer's engine."""
    import uvicorn

    from limber.asgi import application

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", ws="websockets-sansio")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://localhost:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def camera_page(camera_browser, asgi_server):
    with watched_page(camera_browser, asgi_server, timeout_ms=30_000) as pg:
        yield pg


SHOTS = Path(os.environ.get("LIMBER_SCREENSHOT_DIR") or tempfile.gettempdir())


def follow(monkeypatch, engine, knee=None):
    """The fake person does as each hold asks: its stretch's end pose, on the leg it names
    (with the knee at this angle, when given: tight hamstrings)."""
    from dataclasses import replace

    start = consumers.FormConsumer.start

    def start_and_follow(self, msg):
        start(self, msg)
        pose = self.variant.end if knee is None else replace(self.variant.end, knee=knee)
        engine.lm = synth(pose, self.stretch.position, self.side or "right")

    monkeypatch.setattr(consumers.FormConsumer, "start", start_and_follow)
    monkeypatch.setattr(consumers, "engine_factory", lambda: engine)


@pytest.mark.browser
def test_the_camera_coaches_the_holds_and_logs_good_form(camera_page, monkeypatch):
    from limber.practice.models import Hold
    from tests.test_browser import hold_steps, play_to_the_end, play_until_ready, sign_up_and_screen

    # A person who does as asked: the end pose of each hold's stretch, on the leg it asks for.
    engine = FakeEngine()
    follow(monkeypatch, engine)
    page = camera_page
    sign_up_and_screen(page, "camera@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/?speed=8")
    expected = hold_steps(page)
    assert page.get_by_text(
        "Frames are checked on the server in memory and never stored."
    ).is_visible()
    # Where to put the camera is said before it is turned on.
    assert page.get_by_text("Set it level and side-on to where you stretch").is_visible()
    page.get_by_label("Use camera").check()
    page.screenshot(path=str(SHOTS / "limber-player-intro.png"), full_page=True)
    page.get_by_role("button", name="Start").click()
    play_until_ready(page)  # the questions before the first stretch, then its set-up
    page.locator("#ready").click()

    # The first hold: the skeleton is drawn over the video, with the checks and the seconds.
    page.wait_for_function("Number(document.getElementById('camera-overlay').dataset.drawn) >= 3")
    painted = page.evaluate("""() => {
        const c = document.getElementById('camera-overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n;
    }""")
    assert painted > 500
    assert page.evaluate("document.getElementById('camera-video').videoWidth") > 0
    # Both at once: a hold lasts a second or so at this speed, and the next one starts afresh.
    page.wait_for_function(
        "/Good form: [1-9]/.test(document.getElementById('camera-good').textContent)"
        " && document.getElementById('camera-checks').textContent.includes('✓')"
    )
    page.screenshot(path=str(SHOTS / "limber-player-camera.png"))

    play_to_the_end(page)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    verdicts = page.evaluate("window.limberEvents.filter(e => e.type === 'verdict')")
    bad = [
        (i, v["side"], v["cues"], v["held_s"]) for i, v in enumerate(verdicts) if not v["good_form"]
    ]
    assert len(verdicts) > 10 and not bad, (len(verdicts), bad)
    holds = list(Hold.objects.all())
    assert len(holds) == expected
    assert all(h.good_form_s is not None and 0 < h.good_form_s <= h.held_s for h in holds), [
        (h.held_s, h.good_form_s) for h in holds
    ]
    assert page.locator("#camera").is_hidden()  # camera released at the end


@pytest.mark.browser
def test_without_a_camera_the_player_carries_on(camera_page):
    from limber.practice.models import Hold
    from tests.test_browser import hold_steps, play_to_the_end, play_until_ready, sign_up_and_screen

    page = camera_page
    sign_up_and_screen(page, "nocamera@example.org")
    page.add_init_script("window.limberEvents = []; delete MediaDevices.prototype.getUserMedia;")
    page.goto("/practice/?speed=25")
    expected = hold_steps(page)
    page.get_by_label("Use camera").check()
    page.get_by_role("button", name="Start").click()
    play_until_ready(page)
    page.get_by_text("carrying on with the timer alone").wait_for()
    play_to_the_end(page)
    page.wait_for_function("document.getElementById('sync').dataset.waiting === '0'")
    holds = list(Hold.objects.all())
    assert len(holds) == expected and all(h.good_form_s is None for h in holds)


@pytest.mark.browser
def test_a_crooked_phone_is_judged_level_from_its_gravity_sensor(camera_page, monkeypatch):
    """The phone stands 30 degrees off level: the person lying reads as sloping, and no good
    form is counted, until the phone's orientation arrives; then the page says the tilt and
    the server judges the body as a level camera shows it."""
    from tests.test_browser import play_until_ready, sign_up_and_screen
    from tests.test_form import tilted

    engine = FakeEngine()
    follow(monkeypatch, engine)
    start = consumers.FormConsumer.start

    def start_crooked(self, msg):
        start(self, msg)
        engine.lm = tilted(engine.lm, -30)  # the picture turned 30 degrees to the left

    monkeypatch.setattr(consumers.FormConsumer, "start", start_crooked)
    page = camera_page
    sign_up_and_screen(page, "crooked@example.org")
    page.add_init_script("window.limberEvents = []")
    page.goto("/practice/")
    page.get_by_label("Use camera").check()
    page.get_by_role("button", name="Start").click()
    play_until_ready(page)
    page.locator("#ready").click()
    verdicts = "window.limberEvents.filter(e => e.type === 'verdict')"
    page.wait_for_function(f"{verdicts}.length >= 5")
    assert not any(v["good_form"] for v in page.evaluate(verdicts))
    assert page.locator("#camera-level").is_hidden()
    # Gravity 30 degrees to the right of the picture's down: the top of a phone standing
    # upright turned 30 degrees clockwise (beta 45, gamma 35.26: leaning back a little). The
    # orientation comes through Chromium's own sensor path, as a phone's would, so the page's
    # Permissions-Policy has to let the player read it.
    sensors = page.context.new_cdp_session(page)
    orient = "DeviceOrientation.setDeviceOrientationOverride"
    sensors.send(orient, {"alpha": 0, "beta": 45, "gamma": 35.26})
    page.get_by_text("The camera is tilted 30°: the check allows for it").wait_for()
    page.wait_for_function(f"{verdicts}.some(v => v.good_form)")
    page.wait_for_function(
        "/Good form: [1-9]/.test(document.getElementById('camera-good').textContent)"
    )
    page.screenshot(path=str(SHOTS / "limber-player-level.png"))
    # The same phone's selfie camera sees the room the other way round left to right; on its
    # side (the browser turns the picture with the screen) the tilt is from sideways.
    src = page.evaluate("document.querySelector('script[type=module]').src")
    tilts = page.evaluate(
        """async (src) => {
            const { tiltOf } = await import(new URL('camera.js', src));
            return [tiltOf(45, 35.26, true), tiltOf(90, 0), tiltOf(10, -90), tiltOf(null, 3)];
        }""",
        src,
    )
    assert tilts[0] == pytest.approx(-30, abs=0.1) and tilts[1] == pytest.approx(0, abs=1e-9)
    assert tilts[2] == pytest.approx(10, abs=0.1) and tilts[3] is None
    # Laid flat, the phone cannot say which way is down: the note goes, the picture is taken
    # as level again and the stretch reads out of position.
    sensors.send(orient, {"alpha": 0, "beta": 5, "gamma": 3})
    page.locator("#camera-level").wait_for(state="hidden")
    n = page.evaluate(f"{verdicts}.length")
    page.wait_for_function(f"{verdicts}.length >= {n + 5}")
    assert not any(v["good_form"] for v in page.evaluate(verdicts)[n + 2 :])

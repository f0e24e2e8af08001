"""The live camera socket: frames in, landmarks, a form verdict and the hold's good-form seconds out.

One socket per player page, one person per socket. The page sends a JSON "start" message when a
hold begins and then small JPEG frames as binary messages, one at a time (the next after the
answer to the last). Each frame is decoded in memory, run through the pose engine, smoothed,
judged (limber.core.form) and counted (limber.core.holdcounter); the answer carries the
landmarks normalised to 0..1 for drawing. Frames are never written anywhere, and never kept
after they are judged.

Tests (and pages without a camera) can send {"type": "landmarks", ...} instead of a frame.
A page on a phone also sends {"type": "level", "tilt_deg": ...} from the phone's gravity sensor
when the camera's tilt changes: the frames are judged as a level camera would show them.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.cache import cache

from limber.core.form import (
    LANDMARK_NAMES,
    Landmark,
    Landmarks,
    PoseEngine,
    check_form,
    judge_rule,
    wanting,
)
from limber.core.holdcounter import HoldCounter
from limber.core.smoothing import LandmarkSmoother
from limber.errors import UserError
from limber.vision.imagesize import jpeg_size as read_jpeg_size

logger = logging.getLogger(__name__)

__all__ = ["FormConsumer", "MAX_FRAME_BYTES", "MAX_SOCKETS_PER_USER", "clock", "engine_factory"]

MAX_FRAME_BYTES = 500 * 1024
MAX_TEXT_CHARS = 64 * 1024
MAX_SIDE_PX = 1920  # a frame wider or taller than this is refused before it is decoded
MAX_TARGET_S = 600.0
MAX_LANDMARK_PX = 16384  # injected landmarks: a frame size no camera has is a bad message
# The page sends the camera's tilt from the nearest of upright and sideways (camera.js), so it
# is never more than 45 degrees either way.
MAX_TILT_DEG = 45.0
CLOSE_UNAUTHENTICATED = 4401
CLOSE_TOO_MANY = 4429
# Camera sockets one account may have open at once. One person has one camera; the second is
# for a tab left open (or a page reloaded before the old socket is gone). Each socket holds a
# pose engine (~70 MB) for its life, so a page opening sockets in a loop must not take them all.
MAX_SOCKETS_PER_USER = 2
# A socket holds one of its user's slots as a cache key (shared by all processes when Redis is
# configured) that expires unless renewed: a process that dies without saying goodbye frees its
# slots after this long. Live sockets renew theirs every third of it.
SOCKET_LEASE_S = 60
TOO_MANY_SOCKETS = (
    "The camera check is already on in another tab or window (close it there to use it here);"
    " your holds are timed as usual."
)
NOT_SET_UP = "The camera check is not set up on this server; your holds are timed as usual."
FELT_NOTED = (
    "Noted: you feel the stretch with your knee at {deg}°. On this leg the camera counts the"
    " stretch from there today; there is no need to straighten further."
)
FELT_UNSEEN = (
    "The camera cannot see you in the stretch on this leg just now: stay in it where the camera"
    " sees your whole leg, then press again."
)
# No frame for this long (the player paused, the network stalled): the time between is not
# counted, whatever the frames on either side show. Between two frames closer than this, the
# counter credits the time between when both show good form (with its flicker rules). 1.0 s was
# "a few frames at 15 a second", but Chrome runs a background tab's timers once a second and a
# busy server answers late, so frames 1 s apart lost every second. 2.5 s keeps a tab throttled to
# 1/s (with its jitter) counting; a pause or a stall longer than that is still never credited.
GAP_S = 2.5


def default_engine() -> PoseEngine:
    """The real engine (BlazePose); a UserError saying how to fix it when it cannot run."""
    from limber.vision.engine import BlazePose, require_vision
    from limber.vision.models import ensure_models

    require_vision()
    return BlazePose(ensure_models(fetch=False), threads=2)


# Replaceable by tests: a function of no arguments returning a PoseEngine, and the clock.
engine_factory: Callable[[], PoseEngine] = default_engine
clock: Callable[[], float] = time.monotonic


def _now() -> float:
    return clock()  # looked up at each call, so a test's replacement takes effect


def _slot_key(user_id: Any, slot: int) -> str:
    return f"limber:camera-socket:{user_id}:{slot}"


async def take_slot(user_id: Any, owner: str) -> int | None:
    """One of the user's socket slots (add is atomic, in Redis too), or None when all are held."""
    for slot in range(MAX_SOCKETS_PER_USER):
        if await cache.aadd(_slot_key(user_id, slot), owner, timeout=SOCKET_LEASE_S):
            return slot
    return None


async def renew_slot(user_id: Any, slot: int, owner: str) -> None:
    key = _slot_key(user_id, slot)
    if await cache.aget(key) == owner:
        await cache.atouch(key, timeout=SOCKET_LEASE_S)
    else:  # expired while this process was stalled: take it back if still free
        await cache.aadd(key, owner, timeout=SOCKET_LEASE_S)


async def free_slot(user_id: Any, slot: int, owner: str) -> None:
    key = _slot_key(user_id, slot)
    if await cache.aget(key) == owner:  # not another socket's, after an expiry
        await cache.adelete(key)


class BadMessage(Exception):
    """A message the socket cannot use; the text is sent back to the page."""


def _refuse_constant(name: str) -> float:
    raise BadMessage(f"{name} is not a number the camera check can use")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise BadMessage(f"{text[:20]} is too large a number")
    return value


def parse_message(text: str) -> dict[str, Any]:
    """A text message as a JSON object, or BadMessage: never a crash, whatever the text."""
    if len(text) > MAX_TEXT_CHARS:
        raise BadMessage("the message is too long")
    try:
        msg = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise BadMessage("the message is nested too deeply") from None
    except ValueError:  # not JSON, or an integer with more digits than Python converts
        raise BadMessage("messages are JSON objects with a type") from None
    if not isinstance(msg, dict):
        raise BadMessage("messages are JSON objects with a type")
    return msg


def finite(value: Any) -> Any:
    """The answer with any NaN or infinity (a degenerate pose's angle) as null: JSON has none."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _origin(scheme: str, netloc: str) -> tuple[str, str, int | None]:
    parts = urlsplit(f"{scheme}://{netloc}")
    try:
        port = parts.port
    except ValueError:
        port = -1  # a port that is not a number matches nothing
    return scheme, (parts.hostname or ""), port or {"http": 80, "https": 443}.get(scheme)


def same_origin(scope: dict[str, Any]) -> bool:
    """The page that opened the socket was served by this site: same scheme, host and port.

    The site's scheme is https when the socket came over TLS, or when LIMBER_HTTPS says that
    a TLS proxy stands in front (it passes the socket on as plain ws)."""
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    if not origin or not host:
        return False
    tls = scope.get("scheme") == "wss" or getattr(settings, "SECURE_SSL_REDIRECT", False)
    page = urlsplit(origin)
    if page.scheme not in ("http", "https") or page.path not in ("", "/"):
        return False
    return _origin(page.scheme, page.netloc) == _origin("https" if tls else "http", host)


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's frame header, read without decoding the image."""
    if data[:2] != b"\xff\xd8":
        raise BadMessage("a frame must be a JPEG image")
    size = read_jpeg_size(data)
    if size is None:
        raise BadMessage("the frame is not a readable JPEG image")
    return size


def decode_frame(data: bytes) -> Any:
    """A JPEG frame (bytes) to a BGR image, in memory."""
    if len(data) > MAX_FRAME_BYTES:
        raise BadMessage(f"the frame is too large ({len(data) // 1024} KB; at most 500 KB)")
    width, height = jpeg_size(data)
    if not (0 < width <= MAX_SIDE_PX and 0 < height <= MAX_SIDE_PX):
        raise BadMessage(f"the frame is {width}x{height}; at most {MAX_SIDE_PX} pixels a side")
    from limber.vision.engine import require_vision

    np, cv2, _ = require_vision()
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise BadMessage("the frame is not a readable JPEG image")
    return image


def number_or_null(
    msg: dict[str, Any], key: str, low: float, high: float, says: str
) -> float | None:
    """msg[key] as a number from low to high, or None when it is null or missing; BadMessage
    saying what the number is (says) otherwise. parse_message has already refused NaN."""
    value = msg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BadMessage(f"{key} is {says} from {low:g} to {high:g} degrees, or null")
    return float(value)


def parse_tilt(msg: dict[str, Any]) -> float:
    """A level message's tilt in degrees; null (no sensor, or the phone lying flat) is level."""
    tilt = number_or_null(msg, "tilt_deg", -MAX_TILT_DEG, MAX_TILT_DEG, "the camera's tilt")
    return tilt or 0.0


def parse_landmarks(msg: dict[str, Any]) -> Landmarks:
    try:
        width, height = int(msg["width"]), int(msg["height"])
        points = msg["points"]
        if len(points) != len(LANDMARK_NAMES) or not (
            0 < width <= MAX_LANDMARK_PX and 0 < height <= MAX_LANDMARK_PX
        ):
            raise ValueError
        lm = tuple(Landmark(float(p[0]), float(p[1]), float(p[2]), float(p[3])) for p in points)
        if not all(math.isfinite(v) for p in lm for v in (p.x, p.y, p.z, p.visibility)):
            raise ValueError
    except (KeyError, TypeError, ValueError, IndexError, OverflowError):
        raise BadMessage(
            "landmarks need width, height and 33 points of [x, y, z, visibility] in pixels"
        ) from None
    return Landmarks(lm, width, height)


def _knee_from(user) -> dict[str, float]:
    from limber.practice.plan import clinician_plan

    plan = clinician_plan(user)
    return dict(plan.knee_from) if plan is not None else {}


class FormConsumer(AsyncWebsocketConsumer):
    """One player page's camera check. Frames are judged one at a time; a frame that arrives
    while another is being judged replaces any frame still waiting (stale frames are dropped)."""

    async def connect(self) -> None:
        if not same_origin(self.scope):
            await self.close()  # before accepting: the handshake is refused (403)
            return
        user = self.scope.get("user")
        signed_in = user is not None and user.is_authenticated
        # The angles this person's clinician counts each stretch's knee straight from (a knee
        # that cannot straighten), as prescribed when the camera opened. Read before the
        # handshake is answered: an open socket has them, and no read is still running in a
        # worker thread when a client that has just connected goes away (on PostgreSQL such a
        # read deadlocked with the test database's flush).
        self.knee_from: dict[str, float] = (
            await database_sync_to_async(_knee_from)(user) if signed_in else {}
        )
        await self.accept()
        if not signed_in:
            await self.send_error("log in to use the camera check")
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = user.pk
        self.owner = uuid.uuid4().hex
        self.slot = await take_slot(self.user_id, self.owner)
        if self.slot is None:
            await self.send_error(TOO_MANY_SOCKETS, fatal=True)
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.lease = asyncio.ensure_future(self.keep_slot())
        self.engine: PoseEngine | None = None
        self.engine_problem: str | None = None
        self.smoother = LandmarkSmoother()
        self.counter: HoldCounter | None = None
        self.hold: dict[str, Any] = {}
        self.prefer: str | None = None
        self.tilt = 0.0  # the camera's tilt as the page last said it (Landmarks.levelled)
        # Where this person said they feel each stretch, by (stretch, variant, leg): the knee's
        # angle then, pressed on this socket or sent by the page with a hold's start (the angle
        # stored with earlier holds: store.felt_knees).
        self.felt: dict[tuple[str, str, str | None], float] = {}
        self.felt_key: tuple[str, str, str | None] = ("", "", None)
        self.last_knee: float | None = None  # the working knee in the last frame in position
        self.knees: list[float] = []  # the working knee in this hold's frames in position, sorted
        self.waiting: tuple[int, str, Any] | None = None
        self.generation = 0  # one per start message: answers to older holds are not sent
        self.judged_generation = -1
        self.worker: asyncio.Task[None] | None = None
        self.dropped = 0

    async def keep_slot(self) -> None:
        while True:
            await asyncio.sleep(SOCKET_LEASE_S / 3)
            try:
                await renew_slot(self.user_id, self.slot, self.owner)
            except Exception:  # the cache away for a moment: the next renewal may do
                logger.warning("could not renew a camera socket's slot", exc_info=True)

    async def disconnect(self, code: int) -> None:
        self.waiting = None
        if getattr(self, "worker", None) is not None:
            self.worker.cancel()
        if getattr(self, "slot", None) is not None:
            self.lease.cancel()
            await free_slot(self.user_id, self.slot, self.owner)
            self.slot = None

    async def send_json(self, body: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(finite(body), allow_nan=False))

    async def send_error(self, message: str, fatal: bool = False) -> None:
        await self.send_json({"type": "error", "message": message, "fatal": fatal})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            if bytes_data is not None:
                if len(bytes_data) > MAX_FRAME_BYTES:
                    raise BadMessage(
                        f"the frame is too large ({len(bytes_data) // 1024} KB; at most 500 KB)"
                    )
                self.enqueue("frame", bytes_data)
                return
            await self.receive_text(text_data or "")
        except BadMessage as e:
            await self.send_error(str(e))

    async def receive_text(self, text: str) -> None:
        msg = parse_message(text)
        kind = msg.get("type")
        if kind == "start":
            self.start(msg)
            await self.send_json({"type": "started", **self.hold})
        elif kind == "landmarks":
            self.enqueue("landmarks", parse_landmarks(msg))
        elif kind == "felt":
            await self.send_json(self.felt_here())
        elif kind == "level":
            self.tilt = parse_tilt(msg)
        elif kind == "stop":
            self.counter = None
            self.generation += 1
            self.waiting = None
        else:
            raise BadMessage(
                f"unknown message type {kind!r}: use start, landmarks, felt, level or stop"
            )

    def felt_here(self) -> dict[str, Any]:
        """The person says they feel the stretch with the knee as the camera last saw it (in
        position): from now on, on this stretch and leg, the knee check is right from there
        (limber.core.form.judge's felt_knee), until the page closes the socket."""
        if self.counter is None:
            raise BadMessage("send a start message before saying where the stretch is felt")
        knee = self.last_knee
        if knee is None:
            return {"type": "felt", "ok": False, "message": FELT_UNSEEN}
        self.felt[self.felt_key] = knee
        return {"type": "felt", "ok": True, "knee_deg": round(knee),
                "message": FELT_NOTED.format(deg=round(knee))}  # fmt: skip

    def start(self, msg: dict[str, Any]) -> None:
        from limber.library import get_library

        library = get_library()
        try:
            stretch = library[str(msg.get("exercise"))]
        except KeyError:
            raise BadMessage(f"no stretch called {msg.get('exercise')!r}") from None
        try:
            variant = stretch.variant(msg.get("variant") or None)
        except KeyError:
            raise BadMessage(f"{stretch.slug} has no variant {msg.get('variant')!r}") from None
        side = msg.get("side") or None
        if side not in (None, "left", "right"):
            raise BadMessage("side is left, right or null")
        hold_id = msg.get("id")
        if not (
            hold_id is None
            or (isinstance(hold_id, str) and len(hold_id) <= 100)
            or (type(hold_id) is int and abs(hold_id) < 2**53)  # what a page's number holds
        ):
            raise BadMessage("id is the hold's id: a number, a short string, or null")
        try:
            target = float(msg.get("target_s"))
        except (TypeError, ValueError, OverflowError):
            raise BadMessage("target_s is a number of seconds") from None
        if not 0 < target <= MAX_TARGET_S:  # also refuses nan, which compares false
            raise BadMessage(f"target_s is between 0 and {MAX_TARGET_S:g} seconds")
        # Where the person last said they feel this stretch on this leg, as the page was given it
        # (the practice page's felt_knees).
        felt = number_or_null(msg, "knee_felt_deg", 0, 180, "the knee's angle")
        self.stretch, self.variant, self.side = stretch, variant, side
        self.counter = HoldCounter(target, _now)
        self.target_s = target
        self.banked_s = 0.0  # good-form seconds held before the last gap in the frames
        self.last_frame_at: float | None = None
        self.generation += 1
        self.waiting = None
        self.hold = {"exercise": stretch.slug, "variant": variant.slug, "side": side,
                     "target_s": target, "id": hold_id}  # fmt: skip
        self.felt_key = (stretch.slug, variant.slug, side)
        self.last_knee = None
        self.knees = []
        if felt is not None:  # a press on this socket since is fresher, and stands
            self.felt.setdefault(self.felt_key, felt)

    def knee_seen(self, verdict: Any) -> dict[str, Any]:
        """The working knee in this hold, as the camera saw it in the stretch (the median of its
        frames in position), and whether that is short of the knee check: a knee held short of
        straight by someone who then says "a gentle stretch" is where they feel it (the player
        keeps it, as if they had pressed "I feel the stretch here")."""
        if not self.knees:
            return {"knee_deg": None, "knee_short": False}
        n = len(self.knees)
        median = (self.knees[(n - 1) // 2] + self.knees[n // 2]) / 2
        rule = next((c.rule for c in verdict.checks if c.rule.measure == "working_knee"), None)
        short = rule is not None and median < rule.min and judge_rule(rule, median)[0] is False
        return {"knee_deg": round(median, 1), "knee_short": short}

    def enqueue(self, kind: str, payload: Any) -> None:
        if self.counter is None:
            raise BadMessage("send a start message before frames")
        if self.waiting is not None:
            self.dropped += 1
        self.waiting = (self.generation, kind, payload)
        if self.worker is None or self.worker.done():
            self.worker = asyncio.ensure_future(self.work())

    async def work(self) -> None:
        while self.waiting is not None:
            generation, kind, payload = self.waiting
            self.waiting = None
            try:
                answer = await asyncio.to_thread(self.judge, generation, kind, payload)
            except BadMessage as e:
                await self.send_error(str(e))
            except UserError as e:
                await self.send_error(str(e), fatal=True)
            except Exception:
                # Whatever a frame did to the engine or the maths, the socket goes on.
                logger.exception("the camera check failed on a frame")
                await self.send_error("the camera check could not judge that frame")
            else:
                if answer is not None and generation == self.generation:
                    await self.send_json(answer)

    def judge(self, generation: int, kind: str, payload: Any) -> dict[str, Any] | None:
        """One frame (or injected landmarks) to the answer; runs in a worker thread."""
        counter = self.counter
        if counter is None or generation != self.generation:
            return None  # a frame of a hold that has ended
        if generation != self.judged_generation:
            # A new hold: the smoothing starts afresh, not blended with the last hold's body.
            self.judged_generation = generation
            self.last_frame_at = None
            self.smoother.reset()
            self.prefer = self.side
        tilt = self.tilt  # one reading for the whole frame, whatever the page sends meanwhile
        if kind == "frame":
            if self.engine is None:
                if self.engine_problem is None:
                    try:
                        self.engine = engine_factory()
                    except UserError as e:
                        # The fix (a path, a command) is for whoever runs the server, not
                        # for the person stretching: it goes to the log, once per socket.
                        self.engine_problem = str(e)
                        logger.error("no camera check on this server: %s", e)
                if self.engine is None:
                    raise UserError(NOT_SET_UP)
            frame = decode_frame(payload)
            if hasattr(self.engine, "wanted"):
                # With several people in view (a partner helping), the one stretching is judged.
                self.engine.wanted = wanting(self.stretch, self.variant, self.side, tilt)
            raw = self.engine.process(frame)
            del frame  # judged and gone
            if getattr(self.engine, "switched", False):
                # Someone else from this frame on: their body is not blended with the last
                # person's, and the change of knees is not a jerk.
                self.smoother.reset()
                counter.new_body()
        else:
            raw = payload
        now = _now()
        lm = self.smoother(raw, now)
        felt = self.felt.get(self.felt_key)
        knee_from = self.knee_from.get(self.stretch.slug)
        verdict = check_form(
            None if lm is None else lm.levelled(tilt),
            self.stretch, self.variant, self.side, self.prefer, felt, knee_from,
        )  # fmt: skip
        if verdict.side is not None:
            self.prefer = verdict.side
        m = verdict.measurement
        self.last_knee = (
            m.values.get("working_knee")
            if m is not None and verdict.in_position and verdict.side_ok is not False
            else None
        )
        if self.last_knee is not None and generation == self.generation:
            # (not a frame of a hold that ended while it was judged: its body is another's)
            bisect.insort(self.knees, self.last_knee)
        if self.last_frame_at is not None and now - self.last_frame_at > GAP_S:
            # The counter would take a gap between two good frames for good form all along:
            # bank what was held, and count on afresh.
            self.banked_s += counter.held_s
            counter.start(max(0.0, self.target_s - self.banked_s))
        self.last_frame_at = now
        state = counter.update(verdict)
        hold = state.to_dict()
        held = min(self.target_s, self.banked_s + state.held_s)
        hold.update(held_s=round(held, 2), target_s=self.target_s,
                    remaining_s=round(self.target_s - held, 2), done=held >= self.target_s,
                    knee_felt_deg=None if felt is None else round(felt, 1),
                    **self.knee_seen(verdict))  # fmt: skip
        points = []
        if lm is not None:
            points = [
                [round(p.x / lm.width, 4), round(p.y / lm.height, 4), round(p.visibility, 2)]
                for p in lm.points
            ]
        return {
            "type": "verdict",
            "id": self.hold.get("id"),
            "landmarks": points,
            "verdict": verdict.to_dict(),
            "hold": hold,
            "dropped": self.dropped,
        }

// Live coaching: the camera, the socket to /ws/form/, the skeleton over the video, spoken cues.
// The server judges each frame in memory and answers landmarks, a verdict and the seconds held
// in good form; this module only shows and speaks what it is told. It decides no dosage: the
// player ends every hold at the script's deadline whatever the camera says.

const FRAME_MS = 1000 / 15; // at most 15 frames a second
// The longer side of a frame sent, in pixels. Frames of 640 px read no better on the live path
// (bench/bench_form.py --live-band --live-side 640) and are 1.8 times the pixels to send and read.
const FRAME_SIDE = 480;
const QUALITY = 0.7;
const CUE_EVERY_MS = 4000; // a spoken cue at most this often
const ANSWER_TIMEOUT_MS = 3000; // no answer this long: send the next frame anyway

// BlazePose's 33 points: the lines of the skeleton, and each leg's points.
const TRUNK = [[11, 12], [11, 23], [12, 24], [23, 24], [11, 13], [13, 15], [12, 14], [14, 16], [7, 0], [0, 8]];
const LEGS = {
  left: [[23, 25], [25, 27], [27, 29], [29, 31], [27, 31]],
  right: [[24, 26], [26, 28], [28, 30], [30, 32], [28, 32]],
};
const SEEN = 0.5;
// Seconds as the record keeps them (player.js stores tenths), so the screen and the log agree.
const tenths = (s) => (Math.round(s * 10) / 10).toFixed(1);
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_TOO_MANY = 4429;

// The level note is shown from this tilt on: photos tilted 5 degrees either way read as level
// ones do, and 15 lose rows even with the tilt allowed for (bench/bench_form.py --cv --live
// --tilt -15 --level: in position 94 of 100 held out, against 97 level).
const LEVEL_SAY_DEG = 5;
// A new reading is sent once it differs this much from the last sent: a phone's sensor
// wobbles by fractions of a degree, and each message is judged with the next frame.
const LEVEL_STEP_DEG = 1;

// How far the camera's picture is turned from level, from the phone's orientation (beta and
// gamma, the W3C DeviceOrientation angles in degrees): the angle from the picture's "down" to
// gravity's, positive toward the picture's right, as the server's Landmarks.levelled takes it.
// Gravity in the screen's plane is (cos β sin γ, sin β) along the picture's x (right) and y
// (down); the front camera's picture is the other way round left to right. The browser turns
// the picture with the screen, so the tilt is taken from the nearest of upright and sideways
// (within 45 degrees either way). Null when the phone lies within 30 degrees of flat: its
// screen's plane then holds too little of gravity to say which way is down.
export function tiltOf(beta, gamma, front = false) {
  if (typeof beta !== "number" || typeof gamma !== "number") return null;
  const r = Math.PI / 180;
  const x = Math.cos(beta * r) * Math.sin(gamma * r) * (front ? -1 : 1);
  const y = Math.sin(beta * r);
  if (Math.hypot(x, y) < 0.5) return null;
  const deg = Math.atan2(x, y) / r;
  return deg - 90 * Math.round(deg / 90);
}

// A hold's stretch and leg, as the server keys where the stretch is felt.
const feltKey = (s) => `${s.exercise}|${s.variant}|${s.side}`;

export class Coach {
  // felt: where each stretch was last felt, by feltKey (the server's felt_knees): the camera
  // counts from there at once, instead of waiting for "I feel the stretch here" again.
  constructor({ say, onVerdict, $, felt = {} }) {
    this.say = say;
    this.onVerdict = onVerdict || (() => {});
    this.box = $("camera");
    this.video = $("camera-video");
    this.canvas = $("camera-overlay");
    this.status = $("camera-status");
    this.good = $("camera-good");
    this.checks = $("camera-checks");
    this.cueBox = $("camera-cue");
    // "I feel the stretch here": offered while the knee is short of straight in the stretch.
    // The article says to straighten the knee until a stretch is felt; the server then counts
    // this leg's stretch from that knee angle instead of waiting for a straight knee.
    this.feltButton = $("camera-felt");
    this.offerFelt = "";
    this.feltAt = { ...felt };
    this.feltButton.addEventListener("click", () => {
      if (this.socket?.readyState === WebSocket.OPEN && this.hold) this.socket.send(JSON.stringify({ type: "felt" }));
    });
    this.toggle = $("use-camera");
    // The phone's level: its tilt is sent to the server, which judges the body as a level
    // camera would show it, and said on screen when it is more than a few degrees.
    this.levelBox = $("camera-level");
    this.tilt = null; // degrees (tiltOf), or null: no sensor, or the phone lying flat
    this.tiltSent = undefined; // what the server was last told on this socket
    this.onOrientation = (e) => this.level(tiltOf(e.beta, e.gamma, this.front()));
    this.stream = null;
    this.socket = null;
    this.broken = ""; // why the camera check is off for this session, once it failed
    this.hold = null; // the hold step being coached
    this.last = null; // the last verdict answer of this hold
    this.seen = false; // a frame of this hold found a person
    this.busy = false;
    this.timer = 0;
    this.spoken = { text: "", at: -Infinity };
    this.grab = document.createElement("canvas");
    this.drawn = 0;
    const saved = localStorage.getItem("limber.camera");
    if (saved !== null) this.toggle.checked = saved === "1";
    this.toggle.addEventListener("change", () => localStorage.setItem("limber.camera", this.toggle.checked ? "1" : "0"));
  }

  get wanted() {
    return this.toggle.checked && !this.broken;
  }

  fail(message) {
    this.broken = message;
    this.status.textContent = message;
    this.box.dataset.state = "off";
    this.blank();
    this.stopFrames();
    this.stopCamera();
    if (this.socket) this.socket.close();
  }

  // Ask for the camera and open the socket: called when the session starts (a click).
  async open() {
    if (!this.wanted) return;
    this.box.hidden = false;
    this.box.dataset.state = "starting";
    this.status.textContent = "Starting the camera…";
    if (!navigator.mediaDevices?.getUserMedia) {
      return this.fail(window.isSecureContext
        ? "No camera on this device: carrying on with the timer alone."
        : "The camera needs a secure (https) connection: carrying on with the timer alone.");
    }
    // iOS lets a page read the phone's orientation only when asked from a tap: this is one.
    const orientation = window.DeviceOrientationEvent;
    const allowed = typeof orientation?.requestPermission === "function"
      ? orientation.requestPermission().catch(() => "denied") : Promise.resolve("granted");
    try {
      if (!this.stream) this.watch(this.stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false }));
    } catch (e) {
      const why = e?.name === "NotAllowedError" ? "The camera was not allowed" : "The camera could not start";
      return this.fail(`${why}: carrying on with the timer alone.`);
    }
    this.video.srcObject = this.stream;
    this.video.play?.().catch(() => {});
    allowed.then((answer) => {
      if (answer === "granted" && this.stream) window.addEventListener("deviceorientation", this.onOrientation);
    });
    this.connect();
  }

  // Whether the picture comes from the camera on the screen's side (a selfie camera).
  front() {
    return this.stream?.getVideoTracks()[0]?.getSettings?.().facingMode === "user";
  }

  level(tilt) {
    this.tilt = tilt;
    const say = tilt !== null && Math.abs(tilt) >= LEVEL_SAY_DEG;
    this.levelBox.hidden = !say;
    const text = say ? `The camera is tilted ${Math.round(Math.abs(tilt))}°: the check allows`
      + " for it, and sees you best with the camera level." : "";
    // The sensor reports many times a second: the page changes only when the words do.
    if (say && this.levelBox.textContent !== text) this.levelBox.textContent = text;
    this.sendLevel();
  }

  sendLevel() {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    const sent = this.tiltSent;
    const same = sent === this.tilt
      || (sent != null && this.tilt !== null && Math.abs(sent - this.tilt) < LEVEL_STEP_DEG);
    if (same) return;
    this.tiltSent = this.tilt;
    const tilt = this.tilt === null ? null : Math.round(this.tilt * 10) / 10;
    this.socket.send(JSON.stringify({ type: "level", tilt_deg: tilt }));
  }

  // A camera unplugged, taken by another program or switched off ends its track: the video
  // would go black and black frames would be judged, so it is a lost camera.
  watch(stream) {
    for (const track of stream.getVideoTracks()) {
      track.addEventListener("ended", () => {
        if (this.stream === stream) this.fail("The camera stopped: carrying on with the timer alone.");
      });
    }
  }

  // Nothing left on screen that the server no longer vouches for: the skeleton, ticks and cue.
  blank() {
    this.clear();
    this.cueBox.textContent = "";
    delete this.box.dataset.good;
  }

  connect() {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/form/`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.status.textContent = "Camera on. Frames are checked on the server in memory and never stored.";
      this.box.dataset.state = "on";
      this.tiltSent = undefined; // a new socket knows no tilt yet
      this.sendLevel();
      if (this.hold) this.sendStart();
    };
    socket.onmessage = (e) => this.answer(JSON.parse(e.data));
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.busy = false;
      this.stopFrames();
      this.blank();
      if (e.code === CLOSE_UNAUTHENTICATED) this.fail("Log in again to use the camera check: carrying on with the timer alone.");
      else if (e.code === CLOSE_TOO_MANY) this.fail(this.broken || "The camera check is already on in another tab or window: carrying on with the timer alone.");
      else if (!this.broken && this.toggle.checked) {
        if (this.hold) this.good.textContent = `Good form: ${tenths(this.last?.hold.held_s ?? 0)} s (paused)`;
        this.status.textContent = "Camera check disconnected: good form is not counted until it is back (it reconnects at the next hold).";
      }
    };
  }

  // A hold step starts: coach it until endHold().
  startHold(step) {
    if (!this.wanted) return;
    this.hold = step;
    this.paused = false;
    this.holdId = (this.holdId || 0) + 1;
    this.last = null;
    this.seen = false;
    this.drawn = 0;
    this.clear();
    this.good.textContent = `Good form: ${tenths(0)} s`;
    this.cueBox.textContent = "";
    // Let the hold's own spoken instruction finish before any form cue.
    this.spoken = { text: "", at: performance.now() };
    if (!this.stream) return; // open() failed or is still asking
    if (!this.socket) this.connect();
    else if (this.socket.readyState === WebSocket.OPEN) this.sendStart();
  }

  sendStart() {
    const s = this.hold;
    this.socket.send(JSON.stringify({
      type: "start", id: this.holdId, exercise: s.exercise, variant: s.variant ?? null, side: s.side ?? null,
      target_s: s.target_s ?? s.seconds, knee_felt_deg: this.feltAt[feltKey(s)] ?? null,
    }));
    this.busy = false;
    this.scheduleFrame(0);
  }

  // The hold step ends: the server's seconds of good form (goodS) and the knee angle the person
  // said they feel the stretch at (kneeFeltDeg); null when the camera did not judge or found
  // nobody in any frame (0 s would say "seen, and never in good form").
  endHold() {
    const seen = this.hold && this.last && this.seen;
    const held = {
      goodS: seen ? this.last.hold.held_s : null,
      kneeFeltDeg: seen ? this.last.hold.knee_felt_deg ?? null : null,
      // The knee as seen in the stretch, when short of the check (see consumers.knee_seen).
      kneeShortDeg: seen && this.last.hold.knee_short ? this.last.hold.knee_deg : null,
    };
    this.hold = null;
    this.stopFrames();
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: "stop" }));
    this.clear();
    this.cueBox.textContent = "";
    return held;
  }

  // While the player is paused no frames are sent; the server does not count the gap.
  pause() {
    this.paused = true;
    this.stopFrames();
  }

  resume() {
    this.paused = false;
    if (this.hold) this.scheduleFrame(0);
  }

  close() {
    this.endHold();
    this.stopCamera();
    this.socket?.close();
    this.socket = null;
    this.box.hidden = true;
  }

  stopFrames() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  stopCamera() {
    window.removeEventListener("deviceorientation", this.onOrientation);
    this.tilt = null;
    this.levelBox.hidden = true;
    for (const track of this.stream?.getTracks() || []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  scheduleFrame(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.sendFrame(), ms);
  }

  sendFrame() {
    if (!this.hold || this.paused || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const v = this.video;
    if (!v.videoWidth || this.busy) return this.scheduleFrame(this.busy ? ANSWER_TIMEOUT_MS : 100);
    const scale = Math.min(1, FRAME_SIDE / Math.max(v.videoWidth, v.videoHeight));
    this.grab.width = Math.round(v.videoWidth * scale);
    this.grab.height = Math.round(v.videoHeight * scale);
    this.grab.getContext("2d").drawImage(v, 0, 0, this.grab.width, this.grab.height);
    this.busy = true;
    this.sentAt = performance.now();
    this.grab.toBlob((blob) => {
      if (blob && this.socket?.readyState === WebSocket.OPEN && this.hold) this.socket.send(blob);
      else this.busy = false;
    }, "image/jpeg", QUALITY);
    // If the answer never comes (a dropped frame), carry on after a while.
    this.scheduleFrame(ANSWER_TIMEOUT_MS);
  }

  answer(msg) {
    if (msg.type === "error") {
      this.busy = false;
      // A fatal message is written for the patient, whole (the server logs the details).
      if (msg.fatal) this.fail(msg.message);
      else this.status.textContent = `Camera check: ${msg.message}`;
      if (this.hold && !msg.fatal && !this.paused) this.scheduleFrame(FRAME_MS);
      return;
    }
    if (msg.type === "felt") {
      this.status.textContent = msg.message;
      if (msg.ok) {
        this.offerFelt = "done";
        if (this.hold) this.feltAt[feltKey(this.hold)] = msg.knee_deg; // for a reconnected socket
      }
      this.feltButton.hidden = this.offerFelt !== "offered";
      return;
    }
    if (msg.type !== "verdict") return;
    this.busy = false;
    if (!this.hold || msg.id !== this.holdId) return; // an answer about an earlier hold
    this.last = msg;
    if (msg.verdict.person_found) this.seen = true;
    if (this.paused) return;
    const wait = Math.max(0, FRAME_MS - (performance.now() - (this.sentAt || 0)));
    this.scheduleFrame(wait);
    this.draw(msg);
    this.show(msg);
    this.onVerdict(msg);
  }

  clear() {
    const ctx = this.canvas.getContext("2d");
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.canvas.dataset.drawn = "0";
    this.checks.replaceChildren();
    this.feltButton.hidden = true;
    this.offerFelt = ""; // "offered" once the knee was seen short of straight, "done" once pressed
  }

  draw({ landmarks, verdict }) {
    const c = this.canvas;
    const w = c.clientWidth || 320;
    const h = c.clientHeight || 240;
    const ratio = window.devicePixelRatio || 1;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio);
      c.height = Math.round(h * ratio);
    }
    const ctx = c.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (!landmarks.length) {
      c.dataset.drawn = String(this.drawn);
      return;
    }
    // The video is shown whole (object-fit: contain): map the frame into its box.
    const vw = this.video.videoWidth || 4;
    const vh = this.video.videoHeight || 3;
    const s = Math.min(w / vw, h / vh);
    const ox = (w - vw * s) / 2;
    const oy = (h - vh * s) / 2;
    const at = (i) => [ox + landmarks[i][0] * vw * s, oy + landmarks[i][1] * vh * s, landmarks[i][2]];
    const styles = getComputedStyle(document.documentElement);
    const accent = styles.getPropertyValue("--accent").trim() || "#0f766e";
    const line = (pairs, colour, width) => {
      for (const [a, b] of pairs) {
        const [x1, y1, va] = at(a);
        const [x2, y2, vb] = at(b);
        ctx.globalAlpha = va >= SEEN && vb >= SEEN ? 1 : 0.35;
        ctx.lineWidth = width + 3;
        ctx.strokeStyle = "rgba(0,0,0,.55)";
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
        ctx.lineWidth = width;
        ctx.strokeStyle = colour;
        ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
      }
    };
    ctx.lineCap = "round";
    const work = verdict.side || this.hold?.side || "right";
    const other = work === "left" ? "right" : "left";
    line(TRUNK, "#ffffff", 3);
    line(LEGS[other], "#ffffff", 3);
    line(LEGS[work], accent, 6);
    for (let i = 11; i < landmarks.length; i++) {
      const [x, y, vis] = at(i);
      ctx.globalAlpha = vis >= SEEN ? 1 : 0.35;
      ctx.fillStyle = LEGS[work].some((p) => p.includes(i)) ? accent : "#ffffff";
      ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.globalAlpha = 1;
    this.drawn += 1;
    c.dataset.drawn = String(this.drawn);
  }

  show({ verdict, hold }) {
    const rows = verdict.checks.filter((c) => c.judged).map((c) => {
      const li = document.createElement("li");
      const state = c.ok === true ? "ok" : c.ok === false ? "no" : "unknown";
      li.className = state;
      const mark = { ok: "✓", no: "✗", unknown: "?" }[state];
      const word = { ok: "", no: " — not yet", unknown: " — can't see" }[state];
      li.textContent = `${mark} ${c.label}${word}`;
      return li;
    });
    this.checks.replaceChildren(...rows);
    // Offered from the first frame in the stretch with the knee short of straight until pressed
    // or the hold ends: not shown and hidden frame by frame as a reading wobbles at the limit.
    const knee = verdict.checks.find((c) => c.name === "knee_straight");
    if (!this.offerFelt && verdict.in_position && verdict.side_ok !== false && knee?.ok === false
      && knee.measured_deg < knee.min) this.offerFelt = "offered";
    this.feltButton.hidden = this.offerFelt !== "offered";
    this.good.textContent = `Good form: ${tenths(hold.held_s)} s`;
    this.box.dataset.good = String(verdict.good_form);
    const cue = verdict.cues[0] || hold.cues[0] || "";
    this.cueBox.textContent = cue;
    const now = performance.now();
    if (cue && cue !== this.spoken.text && now - this.spoken.at >= CUE_EVERY_MS) {
      this.spoken = { text: cue, at: now };
      this.say(cue);
    }
  }
}

// The practice player: plays the session script the server wrote, and reports what happened.
// It holds no dosage logic: every second and every rep comes from the script.
// Timing uses deadlines on the monotonic clock (performance.now), never counted ticks, so a
// busy page or a throttled tab cannot stretch a hold.
import { Outbox } from "./outbox.js";
import { Coach } from "./camera.js";

const $ = (id) => document.getElementById(id);
const today = JSON.parse($("today-data").textContent);
const script = today.script;
const params = new URLSearchParams(location.search);
// Test mode for automated runs: ?speed=20 plays 20 times faster and logs the script's seconds.
const speed = Math.min(100, Math.max(1, Number(params.get("speed")) || 1));
const CURRENT = "limber.current";

const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "";
const outbox = new Outbox({
  url: $("player").dataset.api,
  headers: () => ({ "X-CSRFToken": decodeURIComponent(csrf()) }),
  onChange: showSync,
});

const state = {
  index: 0, // the step being played
  deadline: 0, // performance.now() at which the current timed step ends
  remaining: 0, // ms left, while paused
  paused: false,
  stepStarted: 0,
  pausedFor: 0, // ms paused during the current step
  session: null, // what is sent to the server
  pendingHolds: [], // holds of the stretch being played, awaiting its check-in answers
  timer: 0,
};

// --- sound and voice ----------------------------------------------------------------------------
let audio = null;
function beep(freq = 660, ms = 180) {
  if (!$("sound").checked) return;
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    gain.gain.value = 0.15;
    osc.frequency.value = freq;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + ms / 1000);
  } catch (e) {
    /* no audio device: the screen still shows everything */
  }
}
function say(text) {
  if (!text || !$("voice").checked || !("speechSynthesis" in window)) return;
  speechSynthesis.cancel();
  speechSynthesis.speak(new SpeechSynthesisUtterance(text));
}
function announce(text) {
  $("live").textContent = text;
}
// The camera check (optional): it shows, speaks and measures good form, and decides nothing.
const coach = new Coach({
  $, say,
  onVerdict: ({ verdict, hold }) => window.limberEvents?.push({
    type: "verdict", good_form: verdict.good_form, side: verdict.side, cues: verdict.cues,
    held_s: hold.held_s, counting: hold.counting, at: performance.now(),
  }),
});
for (const id of ["voice", "sound"]) {
  const saved = localStorage.getItem(`limber.${id}`);
  if (saved !== null) $(id).checked = saved === "1";
  $(id).addEventListener("change", () => localStorage.setItem(`limber.${id}`, $(id).checked ? "1" : "0"));
}

// --- the session record --------------------------------------------------------------------------
function nowIso() {
  return new Date().toISOString();
}
function saveCurrent() {
  localStorage.setItem(CURRENT, JSON.stringify({
    date: today.date, index: state.index, session: state.session, pending: state.pendingHolds,
  }));
}
// goodS: the camera's seconds of good form in this hold (null: no camera, or it saw nothing).
function recordHold(step, heldMs, goodS = null) {
  const held_s = Math.round((heldMs / 1000) * speed * 10) / 10;
  const hold = {
    id: crypto.randomUUID(),
    exercise: step.exercise, variant: step.variant, side: step.side, rep: step.rep,
    target_s: step.target_s ?? step.seconds,
    held_s,
    good_form_s: goodS === null ? null : Math.min(held_s, Math.round(goodS * speed * 10) / 10),
    stretch_felt: null, pain: null,
  };
  state.session.holds.push(hold);
  state.pendingHolds.push(hold.id);
  outbox.put(state.session);
  window.limberEvents?.push({ type: "hold", hold, at: performance.now() });
}

// --- playing steps -------------------------------------------------------------------------------
function showFigure(step) {
  for (const fig of document.querySelectorAll("#figures .fig")) {
    fig.hidden = !(fig.dataset.exercise === step.exercise && fig.dataset.side === (step.side || "right"));
  }
}
function fmt(ms) {
  return String(Math.max(0, Math.ceil(ms / 1000)));
}
function render(step) {
  $("what").textContent = step.title || "";
  $("leg").textContent = step.side ? (step.side === "left" ? "Left leg" : "Right leg") : "";
  $("rep").textContent = step.rep ? `Rep ${step.rep} of ${step.of}` : "";
  $("text").textContent = step.text || "";
  $("stage").dataset.kind = step.kind;
  if (step.exercise) showFigure(step);
}

function play(index) {
  state.index = index;
  saveCurrent();
  const step = script.steps[index];
  if (!step) return finish();
  if (step.kind === "check_in") return checkIn(step);
  if (step.kind === "done") return finish();
  $("intro").hidden = $("checkin").hidden = true;
  $("stage").hidden = false;
  document.body.classList.add("playing");
  render(step);
  const ms = (step.seconds * 1000) / speed;
  state.stepStarted = performance.now();
  state.pausedFor = 0;
  state.deadline = state.stepStarted + ms;
  state.paused = false;
  $("pause").textContent = "Pause";
  if (step.kind === "hold") {
    beep(880);
    coach.startHold(step);
  }
  say(step.say);
  announce([step.title, $("leg").textContent, $("rep").textContent, step.text].filter(Boolean).join(". "));
  window.limberEvents?.push({ type: "step", kind: step.kind, index, at: state.stepStarted });
  tick();
}

function tick() {
  clearTimeout(state.timer);
  if (state.paused) return;
  const left = state.deadline - performance.now();
  $("clock").textContent = fmt(left);
  if (left <= 0) return endStep(false);
  // Wake at the next whole second shown, or at the deadline itself if that comes first.
  state.timer = setTimeout(tick, Math.min(left, (left % 1000) + 1, 250));
}

function endStep(skipped) {
  clearTimeout(state.timer);
  const step = script.steps[state.index];
  const end = performance.now();
  if (step.kind === "hold") {
    const held = skipped ? end - state.stepStarted - state.pausedFor : step.seconds * 1000 / speed;
    window.limberEvents?.push({ type: "hold-end", at: end, deadline: state.deadline });
    beep(520, 260);
    recordHold(step, held, coach.endHold());
  }
  play(state.index + 1);
}

function togglePause() {
  const step = script.steps[state.index];
  if (!step || $("stage").hidden) return;
  if (!state.paused) {
    state.paused = true;
    state.remaining = state.deadline - performance.now();
    state.pauseStarted = performance.now();
    $("pause").textContent = "Resume";
    coach.pause();
    announce("Paused");
    speechSynthesis?.cancel?.();
  } else {
    state.paused = false;
    state.pausedFor += performance.now() - state.pauseStarted;
    state.deadline = performance.now() + state.remaining;
    $("pause").textContent = "Pause";
    coach.resume();
    announce("Resumed");
    tick();
  }
}

function stopSession() {
  clearTimeout(state.timer);
  const step = script.steps[state.index];
  if (step?.kind === "hold") {
    recordHold(step, performance.now() - state.stepStarted - state.pausedFor, coach.endHold());
  }
  // Jump to the final check-in: how the session went is worth keeping even when it is cut short.
  const last = script.steps.findLastIndex((s) => s.kind === "check_in" && s.final);
  play(last >= 0 ? last : script.steps.length);
}

// --- check-ins -----------------------------------------------------------------------------------
function checkIn(step) {
  $("stage").hidden = true;
  $("checkin").hidden = false;
  $("checkin-title").textContent = step.title || "How did that go?";
  $("felt-box").hidden = !!step.final;
  $("spread-box").hidden = !step.final;
  for (const r of document.querySelectorAll('#checkin input[value="0"], #checkin input[value="yes"][name="felt"], #checkin input[value="no"][name="spread"]')) r.checked = true;
  say(step.say);
  announce(step.title || "");
  $("checkin-next").focus();
  $("checkin-next").onclick = () => {
    const pain = Number(document.querySelector('input[name="pain_now"]:checked').value);
    if (step.final) {
      state.session.pain_after = pain;
      state.session.pain_spread = document.querySelector('input[name="spread"]:checked').value === "yes";
    } else {
      const felt = document.querySelector('input[name="felt"]:checked').value === "yes";
      for (const hold of state.session.holds) {
        if (state.pendingHolds.includes(hold.id)) Object.assign(hold, { stretch_felt: felt, pain });
      }
      state.pendingHolds = [];
    }
    outbox.put(state.session);
    play(state.index + 1);
  };
}

function finish() {
  clearTimeout(state.timer);
  $("stage").hidden = $("checkin").hidden = true;
  $("done").hidden = false;
  document.body.classList.remove("playing");
  coach.close();
  state.session.finished_at = nowIso();
  outbox.put(state.session);
  localStorage.removeItem(CURRENT);
  const n = state.session.holds.length;
  $("done-note").textContent = `${n} hold${n === 1 ? "" : "s"} logged.`;
  // DESIGN §6: symptoms that change are a reason to screen again before the next session.
  $("spread-note").hidden = !state.session.pain_spread;
  say("Well done. That's today's session.");
  announce("Session finished");
  $("done").querySelector("a.button").focus();
}

function showSync({ waiting, online, error }) {
  let text = "";
  if (error) text = error;
  else if (waiting && !online) text = `Offline: ${waiting} update${waiting === 1 ? "" : "s"} kept on this device, sent when you are back online.`;
  else if (waiting) text = "Saving…";
  else if (state.session) text = "All holds saved.";
  $("sync").textContent = text;
  $("sync").dataset.waiting = String(waiting);
}

// --- start, resume, keys -------------------------------------------------------------------------
function start() {
  const pain = Number(document.querySelector('input[name="pain_before"]:checked').value);
  state.session = {
    id: crypto.randomUUID(), started_at: nowIso(), finished_at: null,
    pain_before: pain, pain_after: null, pain_spread: null, holds: [],
  };
  outbox.put(state.session);
  coach.open();
  play(0);
}

const saved = JSON.parse(localStorage.getItem(CURRENT) || "null");
if (saved && saved.date === today.date && saved.session && saved.index < script.steps.length) {
  // A reload mid-session: the finished holds are already safe in the outbox; carry on from
  // the step that was playing.
  const note = $("resume-note");
  note.hidden = false;
  note.textContent = `You have a session in progress (${saved.session.holds.length} holds done). Start continues it.`;
  $("start").onclick = () => {
    state.session = saved.session;
    state.pendingHolds = saved.pending || [];
    coach.open();
    play(saved.index);
  };
} else {
  $("start").onclick = start;
}
$("pause").onclick = togglePause;
$("skip").onclick = () => endStep(true);
$("stop").onclick = stopSession;
document.addEventListener("keydown", (e) => {
  if ($("stage").hidden || e.target.closest?.("input, textarea, select")) return;
  if (e.key === " ") { e.preventDefault(); togglePause(); }
  else if (e.key === "n" || e.key === "N" || e.key === "ArrowRight") endStep(true);
  else if (e.key === "Escape") stopSession();
});
outbox.flush();

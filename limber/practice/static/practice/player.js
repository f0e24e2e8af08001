// The practice player: plays the session script the server wrote, and reports what happened.
// It holds no dosage logic: every second, rep, cue and question comes from the script.
// Timing uses deadlines on the monotonic clock (performance.now), never counted ticks, so a
// busy page or a throttled tab cannot stretch a hold.
// It is built to be followed lying on the floor: everything is spoken, set-up waits for
// "I'm ready" (tap, Space or Enter), questions can be answered by voice where the browser listens.
import { Outbox } from "./outbox.js";
import { Coach } from "./camera.js";
import { Voice, listening, listenOnce } from "./voice.js";

const $ = (id) => document.getElementById(id);
const today = JSON.parse($("today-data").textContent);
const settings = JSON.parse($("player-settings").textContent);
const script = today.script;
const params = new URLSearchParams(location.search);
// Test mode for automated runs: ?speed=20 plays 20 times faster and logs the script's seconds.
// The server allows it only with LIMBER_DEBUG or the test settings; in production it is ignored.
const speed = settings.fast_playback ? Math.min(100, Math.max(1, Number(params.get("speed")) || 1)) : 1;
// This account's own keys in the browser (limber/accounts/device.py): a shared browser never
// offers one person another's unfinished session.
const STORE = settings.storage;
const CURRENT = `${STORE}.current`;
// Before keys were per account, a browser kept one unnamed set: the first account to open the
// player takes it over (on most devices the one person who used it), so no unsent hold is lost.
for (const [old, key] of [["limber.current", CURRENT], ["limber.outbox", `${STORE}.outbox`]]) {
  const value = localStorage.getItem(old);
  if (value === null) continue;
  if (localStorage.getItem(key) === null) localStorage.setItem(key, value);
  localStorage.removeItem(old);
}
const LANG = document.documentElement.lang || "en";
// Which record field each question fills, and the question on the page that asks it.
const BOX = {
  new_symptoms: "new_symptoms", pain_before: "pain_now", stretch_felt: "felt", too_strong: "felt", pain: "pain_now",
  pain_after: "pain_now", pain_spread: "spread",
};
const ASKED = ["new_symptoms", "felt", "pain_now", "spread"];
const HOLDS = script.steps.filter((s) => s.kind === "hold").length;
// Steps that wait for "I'm ready": the script says so; older scripts waited on set-up and leg changes.
const waits = (step) => step.wait_for_ready ?? (step.kind === "intro" || step.kind === "switch_side");
const autoStartS = (step) => step.auto_start_s ?? step.seconds;
// The pain Limber calls severe is the server's rule (SEVERE_PAIN in limber/core/progression.py,
// 7/10 or more on the 0-10 scale), given with the page's settings, never a number of its own.
const SEVERE = settings.severe_pain;
const isSevere = (pain) => typeof pain === "number" && pain >= SEVERE;
const holdsAhead = (index) => script.steps.slice(index).some((s) => s.kind === "hold");

const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "";
const outbox = new Outbox({
  key: STORE,
  url: $("player").dataset.api,
  headers: () => ({ "X-CSRFToken": decodeURIComponent(csrf()) }),
  onChange: showSync,
});

const state = {
  index: 0, // the step being played
  deadline: 0, // performance.now() at which the current timed step ends (0: waits for the person)
  remaining: 0, // ms left, while paused
  paused: false,
  waiting: false, // an "I'm ready" step is showing
  stepStarted: 0,
  pausedFor: 0, // ms paused during the current step
  cuesSaid: 0, // how many of the hold's timed cues were spoken
  session: null, // what is sent to the server
  stored: false, // whether the session was handed to the outbox yet
  pendingHolds: [], // holds of the stretch being played, awaiting its check-in answers
  kneeShort: {}, // hold id -> the knee angle the camera saw it held at, short of straight
  timer: 0,
  stopListening: () => {},
  wakeLock: null,
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
const voice = new Voice({ enabled: () => $("voice").checked });
const say = (texts, opts) => voice.say(texts, opts);
function announce(text) {
  $("live").textContent = text;
}
// The camera check (optional): it shows, speaks and measures good form, and decides nothing.
const coach = new Coach({
  $, say: (text) => say(text), felt: settings.felt_knees,
  onVerdict: ({ verdict, hold }) => window.limberEvents?.push({
    type: "verdict", good_form: verdict.good_form, side: verdict.side, cues: verdict.cues,
    held_s: hold.held_s, counting: hold.counting, at: performance.now(),
  }),
});
for (const id of ["voice", "sound", "auto-start", "listen"]) {
  const saved = localStorage.getItem(`limber.${id}`);
  if (saved !== null) $(id).checked = saved === "1";
  $(id).addEventListener("change", () => localStorage.setItem(`limber.${id}`, $(id).checked ? "1" : "0"));
}

// Voice answers: offered only where the browser can listen; tapping always works.
let recogniser = null;
listening(LANG).then((r) => {
  recogniser = r;
  const note = $("listen-note");
  note.hidden = false;
  if (!r) {
    note.textContent = "This browser cannot listen for spoken answers: tap to answer the questions.";
    return;
  }
  $("listen-box").hidden = false;
  note.textContent = r.local
    ? "Spoken answers are recognised on this device."
    : "Spoken answers are sent to your browser's speech service to be recognised. Tapping works too.";
});

// --- the screen stays awake while a session plays -----------------------------------------------
async function keepAwake() {
  const note = $("wake-note");
  if (!("wakeLock" in navigator)) {
    note.hidden = false;
    note.textContent = "This browser cannot keep the screen awake: set a longer screen timeout, or tap the screen now and then.";
    return;
  }
  try {
    state.wakeLock = await navigator.wakeLock.request("screen");
    note.hidden = true;
  } catch (e) {
    note.hidden = false;
    note.textContent = "The screen may turn off during the session (the browser did not allow keeping it awake).";
  }
}
function letSleep() {
  state.wakeLock?.release?.().catch(() => {});
  state.wakeLock = null;
}
// The browser drops the lock when the page is hidden; take it again when the person comes back.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && document.body.classList.contains("playing")) keepAwake();
});

// --- the session record --------------------------------------------------------------------------
function nowIso() {
  return new Date().toISOString();
}
// The session in progress is kept on this device from its first step, so a reload resumes it;
// it is handed to the outbox (and so to the account) only once a hold ends or it is finished:
// a session left before any hold is nothing to keep in the history.
function saveCurrent() {
  keepCurrent(JSON.stringify({
    date: today.date, index: state.index, session: state.session, pending: state.pendingHolds,
    stored: state.stored,
  }));
}
// The session in progress as this tab last saw it (null: none): another tab that started or
// finished a session since makes this page out of date (start() draws it again).
let seenCurrent = localStorage.getItem(CURRENT);
function keepCurrent(value) {
  if (value === null) localStorage.removeItem(CURRENT);
  else localStorage.setItem(CURRENT, value);
  seenCurrent = value;
}
function store() {
  state.stored = true;
  outbox.put(state.session);
}
// What the camera measured in this hold (Coach.endHold): goodS, its seconds of good form,
// kneeFeltDeg and kneeShortDeg; each null with no camera, or when it saw nothing.
function recordHold(step, heldMs, { goodS = null, kneeFeltDeg = null, kneeShortDeg = null } = {}) {
  const held_s = Math.round((heldMs / 1000) * speed * 10) / 10;
  const hold = {
    id: crypto.randomUUID(),
    exercise: step.exercise, variant: step.variant, side: step.side, rep: step.rep,
    target_s: step.target_s ?? step.seconds,
    held_s,
    good_form_s: goodS === null ? null : Math.min(held_s, Math.round(goodS * speed * 10) / 10),
    stretch_felt: null, too_strong: null, pain: null, knee_felt_deg: kneeFeltDeg,
  };
  state.session.holds.push(hold);
  state.pendingHolds.push(hold.id);
  if (kneeShortDeg !== null) state.kneeShort[hold.id] = kneeShortDeg;
  store();
  window.limberEvents?.push({ type: "hold", hold, at: performance.now() });
}

// --- playing steps -------------------------------------------------------------------------------
// The movement is demonstrated while setting up; during a hold the figure is still, in the stretch.
const POSE = { intro: "animated", hold: "end" };
function showFigure(step, index) {
  const pose = POSE[step.kind] || "start";
  // A set-up step shows the leg that goes first: the next step of this stretch that names one.
  const side = step.side || script.steps.slice(index).find((s) => s.exercise === step.exercise && s.side)?.side;
  for (const fig of document.querySelectorAll("#figures .fig")) {
    fig.hidden = !(fig.dataset.exercise === step.exercise && fig.dataset.side === (side || "right")
      && fig.dataset.pose === pose);
  }
}
function fmt(ms) {
  return String(Math.max(0, Math.ceil(ms / 1000)));
}
function render(step, index) {
  $("what").textContent = step.title || "";
  $("leg").textContent = step.side ? (step.side === "left" ? "Left leg" : "Right leg") : "";
  $("rep").textContent = step.rep ? `Rep ${step.rep} of ${step.of}` : "";
  // While setting up, the steps one by one take the place of the running text (which would
  // repeat them, and state an auto-start that the person may have switched off).
  const lines = waits(step) ? step.lines || [] : [];
  $("text").textContent = lines.length ? "" : step.text || "";
  $("text").hidden = !!lines.length;
  $("setup").hidden = !lines.length;
  $("setup").replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
  $("stage").dataset.kind = step.kind;
  if (step.exercise) showFigure(step, index);
}
function showOnly(id) {
  for (const panel of ["intro", "stage", "checkin", "severe", "done", "done-today"]) {
    if ($(panel)) $(panel).hidden = panel !== id;
  }
}

function play(index) {
  state.index = index;
  state.stopListening();
  const step = script.steps[index];
  saveCurrent();
  if (!step || step.kind === "done") return finish(false);
  if (step.kind === "check_in" || step.kind === "pre_check") return checkIn(step);
  showOnly("stage");
  document.body.classList.add("playing");
  render(step, index);
  state.stepStarted = performance.now();
  state.pausedFor = 0;
  state.paused = false;
  state.cuesSaid = 0;
  state.waiting = waits(step);
  $("pause").textContent = "Pause";
  $("ready-box").hidden = !state.waiting;
  $("pause").hidden = $("skip").hidden = state.waiting;
  $("clock").hidden = false;
  if (state.waiting) {
    const auto = $("auto-start").checked;
    state.deadline = auto ? state.stepStarted + (autoStartS(step) * 1000) / speed : 0;
    $("ready-note").textContent = auto
      ? `Tap, or press Space or Enter, when you are in position. Starting by itself in ${autoStartS(step)} s.`
      : "Tap, or press Space or Enter, when you are in position.";
    $("clock").hidden = !auto;
    $("ready").focus();
  } else {
    state.deadline = state.stepStarted + (step.seconds * 1000) / speed;
    // Focus left on the now-hidden "I'm ready" would swallow the next Space, and focus left on
    // a button of a panel now hidden (Start, a resumed session's first step; a check-in's
    // Continue) would fall back to the page itself: Pause takes it.
    if ($("ready-box").contains(document.activeElement) || !$("stage").contains(document.activeElement)) {
      $("pause").focus();
    }
  }
  if (step.kind === "hold") {
    beep(880);
    coach.startHold(step);
  }
  // Everything needed is spoken: each set-up step one by one, what to move as a hold starts.
  const lines = step.lines?.length ? [...step.lines] : [step.say];
  if (state.waiting && $("auto-start").checked) lines.push(`Or I will start by myself in ${autoStartS(step)} seconds.`);
  say(lines).then(() => listenForReady(step));
  // Said as shown: the set-up lines where they stand in for the text (which states an
  // auto-start), and whether it starts by itself as the ready note says, which follows the setting.
  const shown = state.waiting && step.lines?.length ? step.lines.join(" ") : step.text;
  const ready = state.waiting ? $("ready-note").textContent : "";
  announce([step.title, $("leg").textContent, $("rep").textContent, shown, ready].filter(Boolean).join(". "));
  window.limberEvents?.push({ type: "step", kind: step.kind, index, at: state.stepStarted });
  tick();
}

// How long the current step has run: paused time left out, a pause still going on included.
function elapsedMs(now = performance.now()) {
  return (state.paused ? state.pauseStarted : now) - state.stepStarted - state.pausedFor;
}

function tick() {
  clearTimeout(state.timer);
  if (state.paused) return;
  if (!state.deadline) {
    $("clock").textContent = "";
    return; // waits for "I'm ready"
  }
  const now = performance.now();
  const left = state.deadline - now;
  $("clock").textContent = fmt(left);
  const step = script.steps[state.index];
  // Calm cues during long holds (halfway, 5 more seconds): their times are the script's.
  const cues = step.kind === "hold" ? step.cues || [] : [];
  const elapsedS = (elapsedMs(now) * speed) / 1000;
  while (state.cuesSaid < cues.length && elapsedS >= cues[state.cuesSaid].at_s && left > 0) {
    say(cues[state.cuesSaid].say);
    window.limberEvents?.push({ type: "cue", say: cues[state.cuesSaid].say, at: now });
    state.cuesSaid += 1;
  }
  if (left <= 0) return endStep(false);
  // Wake at the next whole second shown, the next cue, or the deadline, whichever comes first.
  const next = state.cuesSaid < cues.length ? ((cues[state.cuesSaid].at_s - elapsedS) * 1000) / speed : Infinity;
  state.timer = setTimeout(tick, Math.max(0, Math.min(left, (left % 1000) + 1, 250, next + 1)));
}

function endStep(skipped) {
  clearTimeout(state.timer);
  const step = script.steps[state.index];
  const end = performance.now();
  if (step.kind === "hold") {
    // Skipped (also while paused): only the time it was held counts, never the pause.
    const held = skipped ? elapsedMs(end) : step.seconds * 1000 / speed;
    window.limberEvents?.push({ type: "hold-end", at: end, deadline: state.deadline });
    beep(520, 260);
    recordHold(step, held, coach.endHold());
    // The stretch's own way out of the hold ("slowly bend the knee and lower the leg").
    say(step.release);
  }
  play(state.index + 1);
}

function ready() {
  if (!state.waiting || $("stage").hidden) return;
  state.waiting = false;
  state.stopListening();
  voice.hush();
  endStep(false);
}

function togglePause() {
  const step = script.steps[state.index];
  if (!step || $("stage").hidden || state.waiting) return;
  if (!state.paused) {
    state.paused = true;
    state.remaining = state.deadline - performance.now();
    state.pauseStarted = performance.now();
    $("pause").textContent = "Resume";
    coach.pause();
    announce("Paused");
    voice.hush();
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

// --- stopping: asked first, because a stray tap on the floor must not end the session -----------
function askToStop() {
  const dialog = $("stop-confirm");
  if (dialog.open || $("stage").hidden) return;
  const wasPaused = state.paused || state.waiting;
  if (!wasPaused) togglePause();
  const done = state.session.holds.length;
  $("stop-confirm-note").textContent = `You have done ${done} of ${HOLDS} holds. What you have done is kept.`;
  dialog.dataset.resume = wasPaused ? "" : "1";
  dialog.showModal();
  $("stop-no").focus();
  say("Stop the session? Tap Stop here, or Carry on.", { interrupt: true });
}
function carryOn() {
  const dialog = $("stop-confirm");
  if (dialog.open) dialog.close();
  if (dialog.dataset.resume && state.paused) togglePause();
}
function stopSession() {
  $("stop-confirm").dataset.resume = "";
  $("stop-confirm").close();
  clearTimeout(state.timer);
  const step = script.steps[state.index];
  if (step?.kind === "hold") recordHold(step, elapsedMs(), coach.endHold());
  toFinalCheckIn();
}
// Jump to the final check-in: how the session went is worth keeping even when it is cut short.
function toFinalCheckIn() {
  state.stopped = true;
  const last = script.steps.findLastIndex((s) => s.kind === "check_in" && s.final);
  play(last > state.index ? last : script.steps.length);
}

// --- severe pain: the player does not go on by itself; stopping is the first choice -------------
// DESIGN.md §6 and the severe_pain rule: after an answer of severe pain with stretching still to
// come, say so plainly and ask; "carry on" plays `next`, "stop" goes to how the session went.
function warnSevere(pain, next) {
  clearTimeout(state.timer);
  state.stopListening();
  showOnly("severe");
  const said = `You said your pain is ${pain}/10. That is severe pain (${SEVERE}/10 or more is severe).`;
  $("severe-said").textContent = said;
  $("severe-stop").onclick = toFinalCheckIn;
  $("severe-go").onclick = () => play(next);
  $("severe-stop").focus();
  say([said, "A stretch should be felt, not painful. Stopping now is the safe choice.",
    "Tap Stop the session, or Carry on with the next stretch."], { interrupt: true });
  announce(`Severe pain. ${said}`);
  window.limberEvents?.push({ type: "severe", pain, index: state.index, at: performance.now() });
}
// The highest answer of severe pain among `pains`, or null.
function severeOf(pains) {
  const severe = pains.filter(isSevere);
  return severe.length ? Math.max(...severe) : null;
}

// --- check-ins: nothing pre-filled; each question answered or skipped (stored as null) ----------
function answerOf(name) {
  const value = document.querySelector(`input[name="${name}"]:checked`)?.value;
  if (value === undefined) return undefined;
  if (value === "skip") return null;
  if (value === "yes" || value === "no") return value === "yes";
  if (value === "strong") return value;
  return Number(value);
}
// The stretch question has three answers that fill two fields: "too strong" is a stretch felt
// (stretch_felt true) that was too much (too_strong true); a skip leaves both null.
const FIELD_VALUE = {
  stretch_felt: (v) => (v === "strong" ? true : v),
  too_strong: (v) => (v === null ? null : v === "strong"),
};
const fieldValue = (field, v) => (FIELD_VALUE[field] ? FIELD_VALUE[field](v) : v);
function shownQuestions() {
  return ASKED.filter((name) => !$(`${name}-box`).hidden);
}
function updateContinue() {
  const missing = shownQuestions().filter((name) => answerOf(name) === undefined);
  $("checkin-next").disabled = missing.length > 0;
  $("checkin-hint").hidden = missing.length === 0;
  return missing;
}
function asksOf(step) {
  if (step.asks?.length) return step.asks;
  return step.final ? ["pain_after", "pain_spread"] : ["stretch_felt", "too_strong", "pain"];
}

function checkIn(step) {
  showOnly("checkin");
  document.body.classList.toggle("playing", step.kind !== "pre_check");
  const asks = asksOf(step);
  const boxes = new Set(asks.map((a) => BOX[a]).filter(Boolean));
  for (const name of ASKED) {
    $(`${name}-box`).hidden = !boxes.has(name);
    for (const input of document.querySelectorAll(`input[name="${name}"]`)) input.checked = false;
  }
  $("checkin-title").textContent = step.title || "How did that go?";
  $("heard").textContent = "";
  updateContinue();
  say(step.say, { interrupt: false }).then(() => listenForAnswers(step));
  announce(step.title || "");
  window.limberEvents?.push({ type: "step", kind: step.kind, index: state.index, at: performance.now() });
  $("checkin-next").onclick = () => {
    if (updateContinue().length) return;
    state.stopListening();
    const answers = Object.fromEntries(asks.map((a) => [a, fieldValue(a, answerOf(BOX[a]))]));
    if (step.kind === "pre_check" && answers.new_symptoms === true) {
      // New or worse symptoms: the full symptoms check comes before any stretching.
      keepCurrent(null);
      location.assign(step.if_yes || "/screening/");
      return;
    }
    for (const field of ["pain_before", "pain_after", "pain_spread"]) {
      if (field in answers) state.session[field] = answers[field];
    }
    const holdAnswers = ["stretch_felt", "too_strong", "pain"].filter((f) => f in answers);
    if (holdAnswers.length) {
      // "A gentle stretch", after holds the camera saw with the knee short of straight: that is
      // where it is felt, as if "I feel the stretch here" had been pressed (the article:
      // straighten the knee until a stretch is felt); the next session counts from there.
      const gentle = answers.stretch_felt === true && answers.too_strong === false;
      for (const hold of state.session.holds) {
        if (!state.pendingHolds.includes(hold.id)) continue;
        for (const f of holdAnswers) hold[f] = answers[f];
        if (gentle && hold.knee_felt_deg == null) hold.knee_felt_deg = state.kneeShort[hold.id] ?? null;
      }
      state.pendingHolds = [];
    }
    if (state.stored) store();
    const severe = severeOf([answers.pain_before, answers.pain, answers.pain_after]);
    if (severe !== null && holdsAhead(state.index + 1)) return warnSevere(severe, state.index + 1);
    play(state.index + 1);
  };
  const first = document.querySelector(`#${shownQuestions()[0]}-box input`);
  first?.focus();
}
document.getElementById("checkin").addEventListener("change", updateContinue);

// Spoken answers fill the unanswered questions in order ("yes, three"); tapping works as well.
function listenForAnswers(step) {
  if (!recogniser || !$("listen").checked || $("checkin").hidden || script.steps[state.index] !== step) return;
  let tries = 0;
  const go = () => {
    state.stopListening = listenOnce(recogniser, LANG, (answers, heard) => {
      for (const a of answers) {
        const name = updateContinue()[0];
        if (!name) break;
        const scale = name === "pain_now";
        let value = null;
        if (a.kind === "skip") value = "skip";
        else if (scale && a.kind === "number") value = String(a.value);
        else if (!scale && (a.kind === "yes" || a.kind === "no")) value = a.kind;
        else if (name === "felt" && a.kind === "strong") value = "strong";
        const input = value && document.querySelector(`input[name="${name}"][value="${value}"]`);
        if (input) input.checked = true;
      }
      $("heard").textContent = `Heard: “${heard}”.`;
      if (!updateContinue().length) {
        say("Thank you.");
        $("checkin-next").click();
      }
    }, () => {
      if (updateContinue().length && ++tries < 3 && !$("checkin").hidden && script.steps[state.index] === step) go();
    });
  };
  go();
}

// "Tell me when you are ready": where the browser listens, saying "ready" works like the button.
function listenForReady(step) {
  if (!recogniser || !$("listen").checked || !state.waiting || script.steps[state.index] !== step) return;
  state.stopListening = listenOnce(recogniser, LANG, (answers) => {
    if (answers.some((a) => a.kind === "ready") && script.steps[state.index] === step) ready();
  }, () => {
    if (state.waiting && script.steps[state.index] === step) listenForReady(step);
  });
}

function finish() {
  clearTimeout(state.timer);
  showOnly("done");
  document.body.classList.remove("playing");
  coach.close();
  letSleep();
  releaseLock?.();
  state.session.finished_at = nowIso();
  store();
  keepCurrent(null);
  const holds = state.session.holds;
  const n = holds.length;
  // The done screen tells the truth: a stopped session says how far it got, and a hold skipped
  // or cut short is not called done. A hold is done at the share of its time progression
  // counts (COMPLETE_FRACTION in limber/core/progression.py). Whether the records reached the
  // account is the status line's to say (#sync), not this one's.
  const full = holds.filter((h) => h.held_s >= settings.complete_fraction * h.target_s).length;
  const short = n - full ? ` (${n - full} skipped or cut short)` : "";
  const all = n >= HOLDS && full === n;
  $("done-title").textContent = all ? "Well done — that's today's session." : n >= HOLDS ? "Session finished" : "Session stopped";
  $("done-note").textContent = all
    ? `All ${n} holds done.`
    : n >= HOLDS
      ? `${full} of ${n} holds held in full${short}.`
      : `Stopped after ${n} of ${HOLDS} holds${short}.`;
  // DESIGN §6: symptoms that change are a reason to screen again before the next session.
  $("spread-note").hidden = !state.session.pain_spread;
  // Severe pain at any time (the severe_pain flag: before, during or after) says what to do now.
  const severe = severeOf([state.session.pain_before, state.session.pain_after, ...holds.map((h) => h.pain)]);
  $("severe-note").hidden = severe === null;
  $("severe-reached").textContent = severe === null
    ? "" : `Severe pain: pain reached ${severe}/10 in this session (${SEVERE}/10 or more is severe).`;
  const said = [all ? "Well done. That's today's session." : $("done-note").textContent];
  if (severe !== null) said.push($("severe-reached").textContent, $("severe-advice").textContent.trim());
  say(said);
  announce($("done-title").textContent);
  $("done").querySelector("a.button").focus();
}

function showSync({ waiting, online, unreachable, error }) {
  let text = "";
  const kept = `${waiting} update${waiting === 1 ? "" : "s"} kept on this device`;
  if (error) text = error;
  else if (waiting && !online) text = `Offline: ${kept}, sent when you are back online.`;
  else if (waiting && unreachable) text = `Limber cannot be reached just now: ${kept}, sent when it can be.`;
  else if (waiting) text = "Saving…";
  else if (state.session && state.stored) text = state.session.holds.length ? "All holds saved." : "Saved.";
  $("sync").textContent = text;
  $("sync").dataset.waiting = String(waiting);
}

// --- one session at a time on this device ------------------------------------------------------
// Two tabs playing today's session would each store their holds: the same stretches twice in the
// history and in what progression counts. A tab holds a Web Lock from Start until its session is
// done; the browser lets go of it when the tab is closed, reloaded or left. A browser without
// Web Locks plays as before.
let releaseLock = null;
function takeLock() {
  if (!navigator.locks || releaseLock) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks.request(`${STORE}.playing`, { ifAvailable: true }, (lock) => {
      resolve(lock !== null);
      // Held until the promise returned here settles: until the session is done.
      return lock && new Promise((done) => { releaseLock = () => { releaseLock = null; done(); }; });
    });
  });
}
// Start (or resume) only while no other tab of this browser plays a session for this person.
function alone(go) {
  return async () => {
    const free = await takeLock();
    $("elsewhere-note").hidden = free;
    if (free) go();
  };
}
// This page was drawn before another tab started or finished a session: drawn again, it offers
// what is true now (to carry on that session, or today's done).
function redraw() {
  releaseLock?.();
  location.reload();
}

// --- start, resume, keys -------------------------------------------------------------------------
// Pain before the session is asked on this page only when the script does not ask it itself.
const introPain = $("pain_before-box");
// While a clinician is suggested (severe pain, or pain above the usual), Start waits until the
// person says they have talked to one, or will go gently: the advice is read, not scrolled past.
const clinicianOk = $("clinician-ok");
function updateStart() {
  const answered = !introPain || answerOf("pain_before") !== undefined;
  $("start").disabled = !answered || (clinicianOk ? !clinicianOk.checked : false);
  $("start-hint").hidden = answered;
}
introPain?.addEventListener("change", updateStart);
clinicianOk?.addEventListener("change", updateStart);
updateStart();

function start() {
  if (localStorage.getItem(CURRENT) !== seenCurrent) return redraw();
  state.session = {
    id: crypto.randomUUID(), started_at: nowIso(), finished_at: null,
    pain_before: introPain ? answerOf("pain_before") : null, pain_after: null, pain_spread: null, holds: [],
  };
  keepAwake();
  coach.open();
  // The pain question asked on this page (older scripts): severe pain is pointed out here too.
  const severe = severeOf([state.session.pain_before]);
  if (severe !== null && holdsAhead(0)) return warnSevere(severe, 0);
  play(0);
}

const saved = JSON.parse(localStorage.getItem(CURRENT) || "null");
if (saved && saved.date === today.date && saved.session && saved.index < script.steps.length) {
  // A reload mid-session: the finished holds are already safe in the outbox; carry on from
  // the step that was playing.
  const note = $("resume-note");
  const inProgress = (rec) => `You have a session in progress (${rec.session.holds.length} of ${HOLDS} holds done). Start continues it.`;
  note.hidden = false;
  note.textContent = inProgress(saved);
  // Played on in another tab meanwhile, the note follows it (a storage event reaches every
  // other tab of this browser), so it never offers to continue from a count long past.
  window.addEventListener("storage", (e) => {
    if (e.key !== CURRENT || !$("stage").hidden) return;
    const latest = JSON.parse(e.newValue || "null");
    note.textContent = latest?.session?.id === saved.session.id
      ? inProgress(latest)
      : "That session ended in another tab or window. Start shows what is next.";
  });
  if (introPain) introPain.hidden = true;
  $("start").disabled = clinicianOk ? !clinicianOk.checked : false;
  $("start-hint").hidden = true;
  $("start").onclick = alone(() => {
    // Carried on from where it was last left, in this tab or another one since this page was
    // drawn; finished elsewhere in the meantime, it is not played again.
    const latest = JSON.parse(localStorage.getItem(CURRENT) || "null");
    if (latest?.session?.id !== saved.session.id) return redraw();
    state.session = latest.session;
    // Kept before this version: it was sent from its first step on.
    state.stored = latest.stored ?? true;
    state.pendingHolds = latest.pending || [];
    keepAwake();
    coach.open();
    play(latest.index);
  });
} else {
  $("start").onclick = alone(start);
}
$("again")?.addEventListener("click", () => {
  showOnly("intro");
  $("start").focus();
});
$("ready").onclick = ready;
$("pause").onclick = togglePause;
$("skip").onclick = () => (state.waiting ? ready() : endStep(true));
$("stop").onclick = askToStop;
$("stop-yes").onclick = stopSession;
$("stop-no").onclick = carryOn;
$("stop-confirm").addEventListener("cancel", (e) => {
  e.preventDefault(); // Escape in the question means "carry on"
  carryOn();
});
document.addEventListener("keydown", (e) => {
  if ($("stage").hidden || $("stop-confirm").open || e.target.closest?.("input, textarea, select")) return;
  // A focused button already answers Space and Enter itself.
  if ((e.key === " " || e.key === "Enter") && e.target.closest?.("button")) return;
  if (state.waiting && (e.key === " " || e.key === "Enter")) { e.preventDefault(); ready(); }
  else if (e.key === " ") { e.preventDefault(); togglePause(); }
  // No one-key skip (it was N and the right arrow): a stray key press cut a hold short, and a
  // single-character shortcut cannot be turned off (WCAG 2.1.4). Skip is its button.
  else if (e.key === "Escape") {
    e.preventDefault(); // or the same key press would close the question it just opened
    askToStop();
  }
});
outbox.flush();

// Voice for a person lying on the floor: speech out (the browser's speechSynthesis) and, where
// the browser can listen, spoken answers to the check-in questions. Tapping always works too.

const NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
// "A gentle stretch" / "no stretch" / "too strong" answer the stretch question as the buttons say them.
const STRONG = /\btoo (strong|much|hard|painful)\b/;
const YES = /\b(yes|yeah|yep|yup|gentle)\b/;
const NO = /\b(no|nope)\b/;
const ZERO = /\b(no pain|none|nothing)\b/g; // "no pain" answers the pain question, not a yes/no one
const SKIP = /\b(skip|pass)\b/;
const READY = /\b(ready|start|go)\b/;

export class Voice {
  constructor({ enabled }) {
    this.enabled = enabled; // () => bool: the "Spoken cues" switch
  }

  // Queue texts in order; nothing is cut off by the next step's words unless interrupt is set.
  say(texts, { interrupt = false } = {}) {
    const list = (Array.isArray(texts) ? texts : [texts]).filter(Boolean);
    if (!list.length || !this.enabled() || !("speechSynthesis" in window)) return Promise.resolve();
    if (interrupt) speechSynthesis.cancel();
    return new Promise((resolve) => {
      list.forEach((text, i) => {
        const u = new SpeechSynthesisUtterance(text);
        if (i === list.length - 1) u.onend = u.onerror = () => resolve();
        speechSynthesis.speak(u);
      });
    });
  }

  hush() {
    if ("speechSynthesis" in window) speechSynthesis.cancel();
  }
}

// The recogniser the browser offers, and whether it runs on the device or sends audio away.
export async function listening(lang) {
  const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (!Recognition) return null;
  let local = false;
  try {
    // Newer Chromium can say whether recognition runs on the device for this language.
    if (Recognition.available) local = (await Recognition.available({ langs: [lang], processLocally: true })) === "available";
  } catch (e) {
    local = false;
  }
  return { Recognition, local };
}

// What a spoken answer said: a pain number, yes, no, too strong, skip or ready (several may come in one phrase).
export function parseAnswer(text) {
  const words = ` ${text.toLowerCase().replace(/[^a-z0-9 ]+/g, " ").replace(ZERO, "zero")} `;
  const out = [];
  for (const m of words.matchAll(/\b(\d{1,2}|zero|one|two|three|four|five|six|seven|eight|nine|ten)\b/g)) {
    const n = /\d/.test(m[1]) ? Number(m[1]) : NUMBERS.indexOf(m[1]);
    if (n >= 0 && n <= 10) out.push({ at: m.index, kind: "number", value: n });
  }
  for (const [re, kind] of [[STRONG, "strong"], [YES, "yes"], [NO, "no"], [SKIP, "skip"], [READY, "ready"]]) {
    const m = words.match(re);
    if (m) out.push({ at: m.index, kind });
  }
  return out.sort((a, b) => a.at - b.at);
}

// Listen once for answers; `onAnswers` gets the parsed list. Returns a stop function.
export function listenOnce({ Recognition, local }, lang, onAnswers, onEnd) {
  const r = new Recognition();
  r.lang = lang;
  r.interimResults = false;
  r.maxAlternatives = 1;
  if (local) r.processLocally = true;
  r.onresult = (e) => onAnswers(parseAnswer(e.results[0][0].transcript), e.results[0][0].transcript);
  r.onend = () => onEnd?.();
  r.onerror = () => {};
  try {
    r.start();
  } catch (e) {
    return () => {};
  }
  return () => {
    r.onend = null;
    try { r.abort(); } catch (e) { /* already stopped */ }
  };
}

// On a phone the main navigation folds behind a "Menu" button. Without this script the links
// simply stay visible (the fold only applies once the page knows it can open it again).
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("menu-button");
  const nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
});

// The player keeps an account's unfinished session and unsent records in this browser, under
// a key of that account's own (limber/accounts/device.py). Logging out forgets them, except
// records not yet sent: those stay, under that key only, until the same account is back online
// and they are sent (logging never loses a hold). A deleted account's are forgotten whole.
function forgetDevice(prefix, keepUnsent) {
  if (!prefix) return;
  try {
    const outbox = JSON.parse(localStorage.getItem(`${prefix}.outbox`) || "{}");
    const unsent = Object.fromEntries(Object.entries(outbox).filter(([, item]) => !item.sent));
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(`${prefix}.`)) localStorage.removeItem(key);
    }
    if (keepUnsent && Object.keys(unsent).length) {
      localStorage.setItem(`${prefix}.outbox`, JSON.stringify(unsent));
    }
  } catch (e) {
    /* storage switched off or damaged: nothing of the account's is kept there to forget */
  }
}
// A signed-in page says which time zone Limber has for the person (data-time-zone); when this
// browser's differs (a first visit, a journey, a change of clock), it says its own, so the
// person's days and times follow the clock they live by (limber/accounts/device.py). A page
// drawn in another zone is drawn again at once, unless the person has begun to use it or it
// answered a form (loading it again would send the form again).
function sayTimeZone(form) {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  // Said only when it changes something: a zone already known, or the one the page was drawn
  // in while none is known (the site's), needs no request.
  if (!zone || zone === form.dataset.timeZone || (!form.dataset.timeZone && zone === form.dataset.drawnIn)) return;
  let used = false;
  const use = () => { used = true; };
  for (const type of ["pointerdown", "keydown", "input"]) document.addEventListener(type, use, { once: true, capture: true });
  const csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "";
  fetch("/api/v1/time-zone", {
    method: "PUT",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(csrf) },
    body: JSON.stringify({ time_zone: zone }),
  }).then((r) => {
    if (!r.ok) return;
    form.dataset.timeZone = zone;
    if (zone !== form.dataset.drawnIn && "redraw" in form.dataset && !used) location.replace(location.href);
  }, () => {});
}
document.addEventListener("DOMContentLoaded", () => {
  const account = document.querySelector("form[data-time-zone]");
  if (account) sayTimeZone(account);
  for (const form of document.querySelectorAll("form[data-device-storage]")) {
    form.addEventListener("submit", () => forgetDevice(form.dataset.deviceStorage, true));
  }
  const deleted = document.querySelector("[data-forget-device-storage]");
  if (deleted) forgetDevice(deleted.dataset.forgetDeviceStorage, false);
});

// A drawing that moves by itself for ever gets a control to stop it (WCAG 2.2.2, Pause, Stop,
// Hide): the library's animation, and the player's while a stretch is set up. With reduced
// motion the drawing shows the still end position instead, and needs none.
function pausableDrawings() {
  if (matchMedia("(prefers-reduced-motion: reduce)").matches) return;
  for (const svg of document.querySelectorAll("svg")) {
    if (!svg.querySelector("animate") || !svg.pauseAnimations) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary pause-drawing";
    button.textContent = "Pause the animation";
    button.addEventListener("click", () => {
      const paused = !svg.animationsPaused();
      if (paused) svg.pauseAnimations();
      else svg.unpauseAnimations();
      button.textContent = paused ? "Play the animation" : "Pause the animation";
    });
    svg.after(button);
  }
}
document.addEventListener("DOMContentLoaded", pausableDrawings);

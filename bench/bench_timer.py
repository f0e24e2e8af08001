"""How exactly the player's hold timer ends, in headless Chromium, at real speed.

Seeds an account whose history puts the towel stretch at 30 s holds, plays today's session in
the real player page, and measures, for each of the first N holds, when the hold ended against
when it started (performance.now() in the page). A hold that should last 30 s and lasts
30.004 s has an error of +4 ms.

    .venv/bin/python bench/bench_timer.py            # 3 holds of 30 s (about 2.5 minutes)
    .venv/bin/python bench/bench_timer.py --holds 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.dirname(__file__))
from bench_sessions import free_port, limber  # noqa: E402

PASSWORD = "bench-password-123"


def api(port: int, token: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--holds", type=int, default=3)
    args = ap.parse_args()

    data_dir = tempfile.mkdtemp(prefix="limber-timer-")
    env = {**os.environ, "LIMBER_DATA_DIR": data_dir, "LIMBER_PASSWORD": PASSWORD}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    limber(env, "migrate", "--no-input")
    limber(env, "createuser", "timer@example.org")
    token = limber(env, "token", "timer@example.org")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "limber", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    time.sleep(2)
    try:
        from limber.core.screening import QUESTIONS

        api(port, token, "/screening", {"answers": {q.id: False for q in QUESTIONS}})
        yesterday = datetime.now(UTC) - timedelta(days=1)
        holds = [
            {"id": str(uuid.uuid4()), "exercise": "towel-hamstring-stretch", "variant": "towel",
             "side": side, "rep": rep, "target_s": 30, "held_s": 30, "stretch_felt": True, "pain": 0}
            for side in ("left", "right") for rep in (1, 2, 3)
        ]  # fmt: skip
        api(port, token, "/sessions", {
            "id": str(uuid.uuid4()), "started_at": yesterday.isoformat(),
            "finished_at": (yesterday + timedelta(minutes=10)).isoformat(),
            "pain_before": 1, "pain_after": 1, "pain_spread": False, "holds": holds,
        })  # fmt: skip

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )  # fmt: skip
            page = browser.new_page(base_url=f"http://127.0.0.1:{port}", bypass_csp=True)
            page.goto("/accounts/login/")
            page.get_by_label("E-mail").fill("timer@example.org")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/practice/")
            page.add_init_script("window.limberEvents = []")
            # The person: skips every question and is ready at once (set-up and leg changes wait
            # for "I'm ready"; the timer measured is the hold's).
            page.add_init_script(
                """setInterval(() => {
                     const $ = (id) => document.getElementById(id);
                     if ($("checkin") && !$("checkin").hidden) {
                       for (const box of document.querySelectorAll("#checkin fieldset.question"))
                         if (!box.hidden) box.querySelector('input[value="skip"]').checked = true;
                       $("checkin").dispatchEvent(new Event("change"));
                       $("checkin-next").click();
                     } else if ($("ready-box") && !$("ready-box").hidden) $("ready").click();
                   }, 100)"""
            )
            page.reload()
            page.wait_for_load_state("networkidle")
            # What the player page loads, by kind, before compression (decoded sizes).
            weights = page.evaluate(
                """() => {
                  const w = {document: performance.getEntriesByType('navigation')[0].decodedBodySize};
                  for (const r of performance.getEntriesByType('resource')) {
                    const kind = r.name.endsWith('.css') ? 'stylesheet'
                               : r.name.endsWith('.js') ? 'script' : 'other';
                    w[kind] = (w[kind] || 0) + r.decodedBodySize;
                  }
                  return w;
                }"""
            )
            first_hold = page.evaluate(
                "JSON.parse(document.getElementById('today-data').textContent)"
                ".script.steps.find(s => s.kind === 'hold').target_s"
            )
            page.get_by_role("button", name="Start").click()
            page.wait_for_function(
                f"window.limberEvents.filter(e => e.type === 'hold-end').length >= {args.holds}",
                timeout=(args.holds * 60 + 60) * 1000,
            )
            events = page.evaluate("window.limberEvents")
            browser.close()
    finally:
        server.terminate()
        server.wait(10)

    errors = []
    start = None
    for e in events:
        if e["type"] == "step" and e["kind"] == "hold":
            start = e["at"]
        elif e["type"] == "hold-end" and start is not None:
            errors.append(e["at"] - start - first_hold * 1000)
            start = None
    errors = errors[: args.holds]
    js_css = weights.get("script", 0) + weights.get("stylesheet", 0)
    print(
        f"player page         JS+CSS {js_css / 1024:.1f} KB, HTML {weights.get('document', 0) / 1024:.1f} KB (uncompressed)"
    )
    print(f"hold length         {first_hold} s, {len(errors)} holds, headless Chromium")
    print("error per hold ms   " + "  ".join(f"{x:+.1f}" for x in errors))
    print(
        f"median error ms     {statistics.median(errors):+.1f}; worst {max(errors, key=abs):+.1f}"
    )


if __name__ == "__main__":
    main()

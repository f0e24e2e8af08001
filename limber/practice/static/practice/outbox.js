// Session records waiting for the server, kept in localStorage so that a dropped network or a
// reload loses nothing. Each session is sent whole, with its id: the server stores it once
// however often it arrives, so sending again is always safe. `key` is this account's own
// (limber/accounts/device.py): on a shared browser, each account sends only its own records.
const RETRY_MS = 5000;

export class Outbox {
  constructor({ key, url, headers, onChange }) {
    this.key = key;
    this.url = url;
    this.headers = headers;
    this.onChange = onChange || (() => {});
    this.sending = false;
    this.error = "";
    this.unreachable = false; // the last try found no server (no answer, or a 5xx)
    window.addEventListener("online", () => this.flush());
    setInterval(() => this.flush(), RETRY_MS);
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(`${this.key}.outbox`) || "{}");
    } catch (e) {
      return {};
    }
  }

  save(items) {
    localStorage.setItem(`${this.key}.outbox`, JSON.stringify(items));
    this.report();
  }

  waiting() {
    return Object.values(this.load()).filter((item) => !item.sent);
  }

  report() {
    this.onChange({
      waiting: this.waiting().length, online: navigator.onLine, unreachable: this.unreachable, error: this.error,
    });
  }

  put(session) {
    const items = this.load();
    items[session.id] = { body: JSON.parse(JSON.stringify(session)), sent: false };
    this.save(items);
    this.flush();
  }

  async flush() {
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = true;
    try {
      for (const { body } of this.waiting()) {
        const id = body.id;
        let response;
        try {
          response = await fetch(this.url, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "Idempotency-Key": id, ...this.headers() },
            body: JSON.stringify(body),
          });
        } catch (e) {
          this.unreachable = true;
          break; // offline: try again later, in order
        }
        this.unreachable = response.status >= 500;
        const items = this.load();
        if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 403 && response.status !== 429)) {
          if (!response.ok) {
            // The server will never accept this record as it is; keep a copy aside for export
            // instead of retrying forever, and say so.
            const problem = await response.json().catch(() => ({}));
            this.error = `A record was refused: ${problem.error?.message || response.status}.`;
            localStorage.setItem(`${this.key}.refused.${id}`, JSON.stringify(body));
          }
          // Settle it only if nothing newer was queued for this session while it was in flight;
          // a finished session leaves the outbox, an unfinished one stays for its next update.
          if (items[id] && JSON.stringify(items[id].body) === JSON.stringify(body)) {
            if (body.finished_at || !response.ok) delete items[id];
            else items[id].sent = true;
            this.save(items);
          }
        } else {
          break; // 5xx, 401, 403, 429: keep everything and retry later
        }
      }
    } finally {
      this.sending = false;
      this.report();
      if (this.again) {
        this.again = false;
        this.flush();
      }
    }
  }
}

// Jobboard's browser side of notifications: permission state and one notification per job
// across all open tabs. Everything shown comes in as data and is set as text, never as markup.
(function () {
  "use strict";
  const MARK_PREFIX = "jobboard:notified:";
  const MARK_TTL_MS = 24 * 3600 * 1000;

  function supported() {
    return "Notification" in window && window.isSecureContext === true;
  }

  function permission() {
    return supported() ? Notification.permission : "unsupported";
  }

  // Tell the app the permission changed: the hidden sync button re-reads it through Reflex.
  function sync() {
    const button = document.getElementById("jb-permission-sync");
    if (button) button.click();
  }

  async function requestPermission() {
    if (!supported()) return "unsupported";
    try {
      return await Notification.requestPermission();
    } catch (err) {
      return permission();
    }
  }

  // First tab to claim a tag wins; Web Locks make the check-and-set atomic across tabs.
  function claim(tag) {
    const key = MARK_PREFIX + tag;
    const mark = () => {
      if (localStorage.getItem(key)) return false;
      localStorage.setItem(key, String(Date.now()));
      return true;
    };
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(key, () => mark());
    }
    return Promise.resolve(mark());
  }

  function pruneMarks() {
    const now = Date.now();
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key && key.startsWith(MARK_PREFIX)) {
        const at = Number(localStorage.getItem(key));
        if (!at || now - at > MARK_TTL_MS) localStorage.removeItem(key);
      }
    }
  }

  const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // What each notify() decided, by tag: lets tests and support see why one was not shown.
  const outcomes = {};

  async function notify(n) {
    const outcome = await decide(n);
    outcomes[n.tag] = outcome;
    return outcome;
  }

  // n = {tag, title, body, url, onlyInBackground}
  async function decide(n) {
    if (permission() !== "granted") return "not-permitted";
    const visible = document.visibilityState === "visible";
    if (n.onlyInBackground && visible) {
      await claim(n.tag); // the user is looking at the app: the toast is enough, for every tab
      return "visible";
    }
    // A visible tab claims first, so "only in background" is decided by the tab the user sees.
    if (!visible) await delay(150);
    if (!(await claim(n.tag))) return "duplicate";
    const notification = new Notification(String(n.title), {
      body: String(n.body || ""),
      tag: String(n.tag),
    });
    notification.onclick = () => {
      window.focus();
      if (n.url) window.location.assign(String(n.url));
      notification.close();
    };
    return "shown";
  }

  function testNotification() {
    return notify({
      tag: "jobboard-test-" + Date.now(),
      title: "Jobboard notifications work",
      body: "You will see one like this when a job finishes or fails.",
      url: null,
    });
  }

  async function watchPermission() {
    if (!supported() || !navigator.permissions || !navigator.permissions.query) return;
    try {
      const status = await navigator.permissions.query({ name: "notifications" });
      status.addEventListener("change", sync);
    } catch (err) {
      // Some browsers do not expose notifications to the Permissions API; clicks still sync.
    }
  }

  window.jobboard = { permission, requestPermission, notify, testNotification, sync, outcomes };
  try {
    pruneMarks();
  } catch (err) {
    // Storage may be unavailable (private mode); notifications still work per tab.
  }
  watchPermission();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") sync();
  });
})();

// Sign-in, sign-up and sign-out forms (data-auth): posted as JSON to /api/auth/*, which sets or
// clears the HttpOnly session cookie. On success the tab starts a fresh Reflex session (new
// client token, so nothing of the previous user's state is kept) and goes where the server says.
(function () {
  "use strict";

  function safeNext(value) {
    return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") &&
      !value.includes("\\") ? value : "/tasks";
  }

  function showError(form, message) {
    const box = form.querySelector("#auth-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  // A form post without JavaScript comes back with ?error=...; show it the same way.
  function showQueryError() {
    const message = new URLSearchParams(window.location.search).get("error");
    const form = document.querySelector("form[data-auth]");
    if (!message || !form) return false;
    showError(form, message);
    return true;
  }
  const watcher = new MutationObserver(() => { if (showQueryError()) watcher.disconnect(); });
  watcher.observe(document.documentElement, { childList: true, subtree: true });
  setTimeout(() => watcher.disconnect(), 10000);

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.auth) return;
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form).entries());
    data.next = new URLSearchParams(window.location.search).get("next") || "";
    const button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    showError(form, "");
    try {
      const response = await fetch(form.getAttribute("action"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(data),
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        window.sessionStorage.removeItem("token");
        window.location.assign(safeNext(body.next));
        return;
      }
      showError(form, body.detail || "Something went wrong. Try again.");
    } catch (err) {
      showError(form, "Jobboard cannot be reached. Try again in a moment.");
    } finally {
      if (button) button.disabled = false;
    }
  });
})();

// Any screen: the header's menu toggle (below 768 px), column names on table cells (tables
// become stacked cards below 640 px, each value under its column's name) and a name for the
// file inputs the upload areas hide. Everything here is layout; no data goes anywhere.
(function () {
  "use strict";

  function setMenu(open, focusToggle) {
    const header = document.getElementById("site-header");
    const toggle = document.getElementById("menu-toggle");
    if (!header || !toggle) return;
    header.toggleAttribute("data-menu-open", open);
    toggle.setAttribute("aria-expanded", String(open));
    if (focusToggle) toggle.focus();
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const toggle = target.closest("[data-menu-toggle]");
    if (toggle) {
      setMenu(toggle.getAttribute("aria-expanded") !== "true", false);
    } else if (target.closest("#site-menu a")) {
      setMenu(false, false); // going somewhere: the menu has done its job
    }
  });
  document.addEventListener("keydown", (event) => {
    const header = document.getElementById("site-header");
    if (event.key === "Escape" && header && header.hasAttribute("data-menu-open")) {
      setMenu(false, true);
    }
  });

  function labelTables() {
    for (const table of document.querySelectorAll(".rt-TableRoot table")) {
      const heads = Array.from(table.querySelectorAll("thead th"), (th) => th.textContent.trim());
      if (!heads.length) continue;
      for (const row of table.querySelectorAll("tbody tr")) {
        Array.from(row.children).forEach((cell, i) => {
          const label = heads[i] || "";
          if (cell.getAttribute("data-label") !== label) cell.setAttribute("data-label", label);
        });
      }
    }
    for (const input of document.querySelectorAll("input[type=file]:not([aria-label])")) {
      const owner = input.closest("[data-file-label]");
      input.setAttribute("aria-label", owner ? owner.dataset.fileLabel : "Choose a file");
    }
  }

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      labelTables();
    });
  }
  // Only added or removed nodes matter (new rows, a page rendered); text updates do not.
  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
  document.addEventListener("DOMContentLoaded", schedule);
})();

// The job queue notice. Reflex keeps each page's state in Redis, so while Redis does not answer
// (the app does) no Reflex event of the page gets through — the page can neither hear of the
// outage through its state nor start a job. This asks /api/health every few seconds instead and,
// while the queue is down, fills the #queue-banner live region (components/connection.py) and
// stops the buttons that start a job with a message instead of a silent failure. A page that
// loaded during the outage never got its data; it is loaded again once the queue is back.
(function () {
  "use strict";
  const EVERY_MS = 3000; // while the queue answers
  const DOWN_EVERY_MS = 2000; // while it does not: the notice goes soon after it is back
  const TIMEOUT_MS = 4000;
  // The controls that start (or change) a job: upload, the AI jobs, exports, cancel and retry.
  const STARTS_JOB =
    "#upload-submit, [id^='start-'], [id^='export-'], [data-action]:not([data-action='download'])";
  let down = false;
  let everLive = false;
  let refused = false; // a job start was stopped during this outage
  let timer = 0;

  function line(tag, text) {
    const el = document.createElement(tag);
    el.textContent = text;
    return el;
  }

  function render() {
    const box = document.getElementById("queue-banner");
    if (!box) return;
    const want = down ? (refused ? "refused" : "down") : "";
    if (box.dataset.state !== want) {
      box.replaceChildren();
      if (down) {
        box.append(
          line("strong", "Live updates paused — the job queue (Redis) is not answering; retrying… "),
          line("span", "Running jobs keep going; nothing new can start until it is back."),
        );
        if (refused) {
          box.append(line("span", " Not started: try again when this notice is gone."));
        }
      }
      box.dataset.state = want;
    }
    document.documentElement.toggleAttribute("data-queue-down", down);
    // The sticky header sits under the notice, not behind it.
    const height = down ? box.offsetHeight : 0;
    document.documentElement.style.setProperty("--jb-queue-banner", `${height}px`);
  }

  async function queueState() {
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const response = await fetch("/api/health", {
        cache: "no-store",
        credentials: "omit",
        signal: abort.signal,
      });
      return response.ok ? (await response.json()).queue : null;
    } catch (err) {
      return null; // the app itself is away: the "Reconnecting…" bar says so
    } finally {
      clearTimeout(timeout);
    }
  }

  async function check() {
    clearTimeout(timer);
    if (document.querySelector('#header-slot[data-live="true"]')) everLive = true;
    const state = document.visibilityState === "visible" ? await queueState() : undefined;
    if (state !== undefined) {
      const was = down;
      down = state === "down";
      if (!down) refused = false;
      render();
      if (was && state === "up" && !everLive && document.getElementById("header-slot")) {
        window.location.reload(); // loaded during the outage: its data never came
        return;
      }
    }
    timer = setTimeout(check, down ? DOWN_EVERY_MS : EVERY_MS);
  }

  window.addEventListener(
    "click",
    (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!down || !target || !target.closest(STARTS_JOB)) return;
      // Before React sees it: the click would go to Redis and fail without a word.
      event.preventDefault();
      event.stopImmediatePropagation();
      refused = true;
      render();
    },
    true,
  );
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", check);
  } else {
    check();
  }
})();

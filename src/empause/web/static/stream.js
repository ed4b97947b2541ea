// The app stream's script: its own session token travels in a header (no third-party
// cookies); hsp.js (the App Directory SDK) carries status messages, the placement subtitle
// and the dashboard's refresh. The server decides everything; this only shows and asks.
"use strict";

(function () {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`);
  let token = meta("stream-session").content;
  const header = meta("stream-session-header").content;
  const body = document.body;
  const confirmWord = body.dataset.confirmWord;
  const IDLE_POLL_MS = 15000;
  const BUSY_POLL_MS = 1000;
  let timer = null;
  let lastPaused = null;
  let ended = false;

  // Forget the single sign-on parameters: a reload would replay them (and be refused).
  if (window.history && window.location.search) {
    window.history.replaceState(null, "", window.location.pathname);
  }

  const sdk = () => (typeof window.hsp === "object" && window.hsp) || null;

  function statusMessage(text, type) {
    const hsp = sdk();
    if (hsp && typeof hsp.showStatusMessage === "function") hsp.showStatusMessage(text.slice(0, 70), type);
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  function localTime(iso) {
    if (!iso) return "";
    const zone = body.dataset.tz || undefined;
    try {
      return new Date(iso).toLocaleString(undefined, { timeZone: zone, dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return new Date(iso).toLocaleString();
    }
  }

  function showMessage(text, ok) {
    const el = document.getElementById("s-message");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("s-ok", Boolean(ok));
    el.hidden = !text;
  }

  async function call(method, path, payload) {
    const headers = { Accept: "application/json" };
    headers[header] = token;
    const init = { method, headers, credentials: "omit", cache: "no-store" };
    if (payload !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const response = await fetch(path, init);
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    if (response.status === 401) sessionEnded(data.detail);
    return { ok: response.ok, status: response.status, data };
  }

  function sessionEnded(detail) {
    ended = true;
    if (timer) clearTimeout(timer);
    document.querySelectorAll("#s-controls form").forEach((f) => { f.hidden = true; });
    showMessage(detail || "Your stream session has ended. Refresh the stream from Hootsuite.");
    statusMessage("Emergency Pause: session ended, refresh the stream", "warning");
  }

  function render(state) {
    const paused = Boolean(state.paused);
    const box = document.getElementById("s-state");
    box.classList.toggle("s-paused", paused);
    box.classList.toggle("s-normal", !paused);
    body.dataset.paused = paused ? "true" : "false";
    setText("s-state-word", paused ? "PAUSED" : "NORMAL");
    setText("s-state-text", paused ? "Scheduled posts are stopped." : "Scheduled posts publish as planned.");
    box.querySelector(".s-icon").textContent = paused ? "⚠" : "✓";
    document.getElementById("s-pause-details").hidden = !paused;
    setText("s-reason", state.reason || "");
    setText("s-by", state.by || "unknown");
    const since = document.querySelector("#s-since time");
    since.dateTime = state.since || "";
    since.textContent = localTime(state.since);

    const op = state.operation;
    const progress = document.getElementById("s-progress");
    progress.hidden = !op;
    if (op) {
      document.getElementById("s-progress-bar").value = op.percent;
      setText("s-op-kind", op.kind ? op.kind.charAt(0).toUpperCase() + op.kind.slice(1) : "");
      setText("s-op-status", op.status || "");
      setText("s-progress-handled", String(op.moved || 0));
      setText("s-progress-scope", String(op.in_scope || 0));
      setText("s-progress-percent", String(op.percent));
      setText("s-progress-failed", String(op.failed || 0));
    }
    const pauseForm = document.getElementById("s-pause-form");
    const resumeForm = document.getElementById("s-resume-form");
    const controls = document.getElementById("s-controls");
    if (controls) controls.hidden = !state.can_act;
    if (pauseForm) pauseForm.hidden = paused;
    if (pauseForm && !paused && state.can_act) showPreview();
    if (paused) previewShown = false;
    if (resumeForm) resumeForm.hidden = !paused;

    if (paused !== lastPaused) {
      const hsp = sdk();
      if (hsp && typeof hsp.updatePlacementSubtitle === "function") {
        hsp.updatePlacementSubtitle(paused ? "Paused" : "");
      }
      lastPaused = paused;
    }
    const busy = Boolean(state.busy) || Boolean(op && op.running);
    body.dataset.busy = busy ? "true" : "false";
    return busy;
  }

  async function refresh() {
    if (ended) return;
    if (timer) clearTimeout(timer);
    let busy = false;
    try {
      const answer = await call("GET", "/hootsuite/stream/state");
      if (answer.ok) {
        if (answer.data.token) token = answer.data.token;
        busy = render(answer.data);
      }
    } catch (e) {
      busy = false;
    }
    if (!ended) timer = setTimeout(refresh, busy ? BUSY_POLL_MS : IDLE_POLL_MS);
  }

  let previewShown = false;

  async function showPreview() {
    const note = document.getElementById("s-preview");
    if (!note || previewShown) return;
    previewShown = true;
    try {
      const answer = await call("GET", "/hootsuite/stream/preview");
      if (!answer.ok) { previewShown = false; return; }
      const p = answer.data;
      const days = Number.isInteger(p.horizon_days) ? p.horizon_days : p.horizon_days.toFixed(1);
      const count = p.more ? `More than ${p.count}` : String(p.count);
      const posts = p.count === 1 && !p.more ? "scheduled post is" : "scheduled posts are";
      note.textContent = `${count} ${posts} due in the next ${days} days: a pause moves them all, for the whole organization.`;
      note.dataset.count = String(p.count);
    } catch (e) {
      previewShown = false;
    }
  }

  async function submit(form, path, payload, started) {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const answer = await call("POST", path, payload);
      if (answer.ok) {
        showMessage(started, true);
        statusMessage(started, "success");
        form.reset();
      } else if (answer.status !== 401) {
        const text = answer.data.detail || answer.data.error || `Refused (${answer.status})`;
        showMessage(text);
        statusMessage(text, "error");
      }
    } catch (e) {
      const text = "Emergency Pause did not answer; try again.";
      showMessage(text);
      statusMessage(text, "error");
    } finally {
      button.disabled = false;
    }
    refresh();
  }

  function wireForms() {
    // A correction clears the last complaint, so it never sits next to a fixed field.
    document.querySelectorAll("#s-controls form").forEach((form) => {
      form.addEventListener("input", () => showMessage(""));
    });
    const pauseForm = document.getElementById("s-pause-form");
    if (pauseForm) {
      pauseForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const reason = pauseForm.elements.reason.value.trim();
        const confirm = pauseForm.elements.confirm.value.trim();
        if (!reason) { showMessage("Give a reason: everyone sees it."); pauseForm.elements.reason.focus(); return; }
        if (confirm !== confirmWord) {
          showMessage(`Type ${confirmWord} (in capitals) to confirm.`);
          pauseForm.elements.confirm.focus();
          return;
        }
        submit(pauseForm, "/hootsuite/stream/pause", { reason, confirm }, "Pause started: scheduled posts are being moved");
      });
    }
    const resumeForm = document.getElementById("s-resume-form");
    if (resumeForm) {
      resumeForm.addEventListener("submit", (event) => {
        event.preventDefault();
        const restore = resumeForm.querySelector("input[name=restore]:checked").value;
        submit(resumeForm, "/hootsuite/stream/resume", { restore }, "Resume started: posts are being put back");
      });
    }
  }

  function connectSdk() {
    const hsp = sdk();
    if (!hsp) return;
    hsp.init({ useTheme: true, callBack: () => {} });
    hsp.bind("refresh", () => { refresh(); });
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireForms();
    connectSdk();
    lastPaused = null;
    refresh();
  });
})();

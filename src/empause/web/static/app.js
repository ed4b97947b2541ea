// Progressive enhancement only: every control works without this file.
"use strict";

function openDialogs() {
  document.querySelectorAll("[data-open-dialog]").forEach((opener) => {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (!dialog || typeof dialog.showModal !== "function") return;
    opener.addEventListener("click", (event) => {
      event.preventDefault();
      dialog.showModal();
      const first = dialog.querySelector("textarea, input:not([type=hidden]), select");
      if (first) first.focus();
    });
    dialog.querySelectorAll("[data-close-dialog]").forEach((closer) => {
      closer.addEventListener("click", () => { dialog.close(); opener.focus(); });
    });
  });
  // Without a dialog (the stand-alone page), Cancel goes back to the dashboard.
  document.querySelectorAll("[data-close-dialog]").forEach((closer) => {
    if (!closer.closest("dialog")) {
      closer.addEventListener("click", () => { window.location.href = "/"; });
    }
  });
}

function formatSeconds(value) {
  if (value === null || value === undefined) return "not yet";
  const s = Number(value);
  if (s < 60) return s.toFixed(1) + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min " + Math.floor(s % 60) + " s";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}

function setText(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
}

// The banner follows the stream: PAUSING… at once, PAUSED when everything is safe.
function showBanner(state) {
  const banner = document.getElementById("banner");
  if (!banner) return;
  const op = state.operation || {};
  let word = state.paused ? "PAUSED" : "NORMAL";
  let what = state.paused ? "scheduled posts are stopped." : "scheduled posts publish as planned.";
  if (state.paused && op.kind === "pause" && op.running && !op.safe_at) {
    word = "PAUSING…";
    what = "scheduled posts are being stopped, soonest first.";
  } else if (op.kind === "resume" && op.running) {
    word = "RESUMING…";
    what = "posts are being put back.";
  }
  banner.dataset.state = word.replace("…", "").toLowerCase();
  setText("banner-state", word);
  setText("banner-what", what);
}

function showSoonest(items) {
  const panel = document.getElementById("soonest-panel");
  const list = document.getElementById("soonest");
  if (!panel || !list) return;
  list.replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    const when = new Date(item.original_time);
    li.textContent = (isNaN(when) ? item.original_time : when.toLocaleString())
      + " · " + (item.text || item.message_id);
    return li;
  }));
  panel.hidden = items.length === 0;
}

function liveProgress() {
  const panel = document.getElementById("progress");
  if (!panel || typeof EventSource === "undefined") return;
  const renderedOp = panel.dataset.operation;
  const renderedStatus = panel.dataset.operationStatus;
  const renderedPaused = !!document.querySelector(".banner-paused");
  let sawRunning = panel.dataset.live === "running";
  const source = new EventSource("/events/status");
  source.addEventListener("status", (event) => {
    const state = JSON.parse(event.data);
    const op = state.operation;
    if (op) {
      const bar = document.getElementById("progress-bar");
      if (bar) bar.value = op.percent;
      setText("op-kind", op.kind ? op.kind.charAt(0).toUpperCase() + op.kind.slice(1) : "");
      setText("op-status", op.status || "");
      setText("progress-moved", String(op.moved || 0));
      setText("progress-scope", String(op.in_scope || 0));
      setText("progress-percent", String(op.percent));
      setText("progress-failed", String(op.failed || 0));
      setText("progress-safety", formatSeconds(op.seconds_to_safety));
      setText("op-phase", op.running && op.phase ? "(" + op.phase + ")" : "");
      showSoonest(op.running ? (op.soonest || []) : []);
      if (op.running || state.busy) sawRunning = true;
    }
    showBanner(state);
    const changed = (op && (String(op.id) !== renderedOp || op.status !== renderedStatus))
      || Boolean(state.paused) !== renderedPaused;
    const settled = !state.busy && (!op || !op.running);
    // Reload once the work settles so the banner, controls and lists show the new state.
    if (settled && changed && (sawRunning || !op || String(op.id) !== renderedOp)) {
      source.close();
      window.location.replace("/");
    }
  });
}

function fillRows(tableId, counts) {
  const body = document.querySelector("#" + tableId + " tbody");
  if (!body) return;
  body.replaceChildren();
  Object.entries(counts || {}).forEach(([name, count]) => {
    const row = document.createElement("tr");
    const label = document.createElement("td");
    label.textContent = name;
    const value = document.createElement("td");
    value.textContent = String(count);
    row.append(label, value);
    body.append(row);
  });
}

// The confirm form shows what would move (the same listing a pause makes) before the
// typed confirmation; again whenever the window changes.
function pausePreview() {
  const panel = document.getElementById("pause-preview");
  if (!panel || typeof fetch === "undefined") return;
  const horizon = document.getElementById("horizon");
  let asked = 0;
  const load = () => {
    const mine = ++asked;
    panel.hidden = false;
    setText("preview-summary", "Counting…");
    const query = horizon && horizon.value ? "?horizon=" + encodeURIComponent(horizon.value) : "";
    fetch(panel.dataset.previewUrl + query, { credentials: "same-origin" })
      .then((answer) => answer.json().then((body) => ({ ok: answer.ok, body })))
      .then(({ ok, body }) => {
        if (mine !== asked) return;
        if (!ok) { setText("preview-summary", body.error || body.detail || "Could not count."); return; }
        setText("preview-summary", body.messages + " scheduled post(s) will move; "
          + body.pending_approval + " pending approval.");
        panel.dataset.messages = String(body.messages);
        fillRows("preview-profiles", body.by_profile);
        fillRows("preview-days", body.by_day);
        const list = document.getElementById("preview-first");
        if (list) {
          list.replaceChildren();
          (body.first_due || []).slice(0, 5).forEach((item) => {
            const li = document.createElement("li");
            li.textContent = item.due + " · " + item.profile + " · " + item.text;
            list.append(li);
          });
        }
      })
      .catch(() => { if (mine === asked) setText("preview-summary", "Could not count."); });
  };
  const opener = document.querySelector("[data-open-dialog=pause-dialog]");
  if (opener && panel.closest("dialog")) opener.addEventListener("click", load);
  else load();
  if (horizon) horizon.addEventListener("change", load);
}

document.addEventListener("DOMContentLoaded", () => {
  openDialogs();
  pausePreview();
  liveProgress();
});

// The sandbox dashboard's side of the App Directory SDK: loads each app stream (a POST of the
// signed single sign-on fields into its named iframe) and answers hsp.js calls that come from
// that iframe, on that stream's origin, only.
"use strict";

(function () {
  const STATUS_MS = 5000;
  const memberInfo = JSON.parse(document.body.dataset.memberInfo || "{}");
  const saved = {};

  function columns() { return Array.from(document.querySelectorAll("section.column")); }

  function columnOf(event) {
    return columns().find((column) => {
      const frame = column.querySelector("iframe");
      return frame && frame.contentWindow === event.source && event.origin === column.dataset.origin;
    });
  }

  function showStatus(message, type) {
    const area = document.getElementById("status-messages");
    const note = document.createElement("p");
    note.className = `status status-${["info", "error", "warning", "success"].includes(type) ? type : "info"}`;
    note.dataset.type = type;
    note.textContent = message;
    area.appendChild(note);
    setTimeout(() => note.remove(), STATUS_MS);
  }

  function reply(column, id, data) {
    column.querySelector("iframe").contentWindow.postMessage(
      { hsp: "reply", id, data }, column.dataset.origin);
  }

  window.addEventListener("message", (event) => {
    const column = columnOf(event);
    const data = event.data;
    if (!column || !data || data.hsp !== "call") return;
    const args = data.args || {};
    switch (data.call) {
      case "init":
        column.dataset.initialised = "true";
        if (args.subtitle) column.querySelector("[data-subtitle]").textContent = args.subtitle;
        reply(column, data.id, "No Error");
        break;
      case "bind":
        column.dataset.bound = ((column.dataset.bound || "") + " " + args.event).trim();
        break;
      case "getMemberInfo":
        reply(column, data.id, memberInfo);
        break;
      case "showStatusMessage":
        showStatus(String(args.message || "").slice(0, 70), args.type);
        break;
      case "clearStatusMessage":
        document.getElementById("status-messages").replaceChildren();
        break;
      case "updatePlacementSubtitle":
        column.querySelector("[data-subtitle]").textContent = String(args.name || "").slice(0, 35);
        break;
      case "saveData":
        saved[column.dataset.frame] = args.data;
        reply(column, data.id, args.data);
        break;
      case "getData":
        reply(column, data.id, saved[column.dataset.frame]);
        break;
      default:
        break;
    }
  });

  document.addEventListener("DOMContentLoaded", () => {
    columns().forEach((column) => {
      column.querySelector("form[data-sso]").submit();
      column.querySelector("[data-refresh]").addEventListener("click", () => {
        column.querySelector("iframe").contentWindow.postMessage(
          { hsp: "event", name: "refresh" }, column.dataset.origin);
      });
    });
  });
})();

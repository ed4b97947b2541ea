// A stand-in for Hootsuite's App Directory SDK (jsapi 2.0, hsp.js), served by the sandbox
// dashboard. Like the real one it lives on the dashboard's side and talks to the dashboard
// page over postMessage; the app stream runs on another site, in an iframe named
// `{apiKey}_{pid}`. Implements: init, bind (refresh, ...), getMemberInfo, showStatusMessage,
// clearStatusMessage, updatePlacementSubtitle, saveData, getData.
"use strict";

(function () {
  const script = document.currentScript;
  const dashboardOrigin = new URL(script ? script.src : window.location.href).origin;
  const handlers = {};
  const replies = {};
  let sequence = 0;

  function post(call, args, reply) {
    sequence += 1;
    if (reply) replies[sequence] = reply;
    window.parent.postMessage(
      { hsp: "call", call, args: args || {}, id: sequence, placement: window.name },
      dashboardOrigin,
    );
  }

  window.addEventListener("message", (event) => {
    if (event.origin !== dashboardOrigin || event.source !== window.parent) return;
    const data = event.data;
    if (!data || typeof data !== "object") return;
    if (data.hsp === "event" && handlers[data.name]) {
      handlers[data.name].forEach((handler) => handler(data.data));
    } else if (data.hsp === "reply" && replies[data.id]) {
      const reply = replies[data.id];
      delete replies[data.id];
      reply(data.data);
    }
  });

  window.hsp = {
    init(params) {
      const options = params || {};
      post("init", { subtitle: options.subtitle || "" }, () => {
        if (typeof options.callBack === "function") options.callBack("No Error");
      });
    },
    bind(eventName, callback) {
      if (typeof callback !== "function") return;
      (handlers[eventName] = handlers[eventName] || []).push(callback);
      post("bind", { event: eventName });
    },
    getMemberInfo(callback) { post("getMemberInfo", {}, callback); },
    showStatusMessage(message, type) {
      post("showStatusMessage", { message: String(message).slice(0, 70), type: type || "info" });
    },
    clearStatusMessage() { post("clearStatusMessage", {}); },
    updatePlacementSubtitle(name) {
      post("updatePlacementSubtitle", { name: String(name == null ? "" : name).slice(0, 35) });
    },
    saveData(data, callback) { post("saveData", { data }, callback); },
    getData(callback) { post("getData", {}, callback); },
  };
})();

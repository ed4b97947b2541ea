// The planner refreshes itself from /_sandbox/planner.json. Progressive enhancement only:
// without this file the page still shows the planner and the form works.
"use strict";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function plainTime(iso) {
  return iso.replace("T", " ").replace("Z", "");
}

function messageItem(m, createdId) {
  const item = el("li", "message state-" + m.state.toLowerCase() + (m.id === createdId ? " created" : ""));
  item.dataset.messageId = m.id;
  const time = el("time", "", m.time);
  time.dateTime = m.scheduledSendTime;
  item.append(time, " ", el("span", "state", m.stateLabel), " ",
    el("span", "author", m.author), " ", el("span", "text", m.text));
  return item;
}

function renderDays(container, days, createdId) {
  const fresh = document.createDocumentFragment();
  if (!days.length) fresh.append(el("p", "", "Nothing is scheduled in these two weeks."));
  for (const day of days) {
    const block = el("div", "day");
    const heading = el("h3", "", day.label + " ");
    heading.append(el("span", "count", "(" + day.count + ")"));
    const profiles = el("div", "profiles");
    for (const group of day.profiles) {
      const box = el("div", "profile");
      const list = el("ol", "messages");
      for (const m of group.messages) list.append(messageItem(m, createdId));
      box.append(el("h4", "", group.label), list);
      profiles.append(box);
    }
    block.append(heading, profiles);
    fresh.append(block);
  }
  container.replaceChildren(fresh);
}

function renderPublished(list, published) {
  const items = published.map((p) => {
    const item = el("li");
    const time = el("time", "", plainTime(p.publishedAt));
    time.dateTime = p.publishedAt;
    item.append(time, " ", el("span", "profile-name", p.profile), " ", el("span", "text", p.text));
    return item;
  });
  if (!items.length) items.push(el("li", "", "Nothing published yet."));
  list.replaceChildren(...items);
}

function startRefresh() {
  const panel = document.getElementById("planner");
  if (!panel || typeof fetch !== "function") return;
  const every = Number(panel.dataset.refreshMs) || 3000;
  const url = "/_sandbox/planner.json?organization=" + encodeURIComponent(panel.dataset.organization);
  const createdId = panel.dataset.created;
  async function refresh() {
    if (document.hidden) return;
    try {
      const answer = await fetch(url, { cache: "no-store" });
      if (!answer.ok) return;
      const view = await answer.json();
      const now = document.getElementById("now");
      if (now) { now.textContent = plainTime(view.now); now.dateTime = view.now; }
      document.getElementById("summary").textContent = view.summary;
      renderDays(document.getElementById("days"), view.days, createdId);
      renderPublished(document.getElementById("published"), view.published);
    } catch (error) {
      // The sandbox restarts or the network blips: try again on the next tick.
    }
  }
  setInterval(refresh, every);
}

document.addEventListener("DOMContentLoaded", startRefresh);

// agent-fork live view: follows a run's journal (server-sent events) and
// swaps the page's <main> for the server's new rendering when it grows.
// Only server HTML is inserted; every text in it was escaped there.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token") || "";
  const q = "?token=" + encodeURIComponent(token);
  const body = document.body;
  const badge = document.getElementById("live-state");
  const show = (text) => { if (badge) badge.textContent = text; };
  if (body.dataset.index) {
    const events = new EventSource("/events" + q);
    let first = true;
    events.addEventListener("runs", () => { if (first) { first = false; } else { location.reload(); } });
    return;
  }
  const run = body.dataset.run;
  if (!run) return;
  let seq = body.dataset.seq || "";
  let busy = false;
  const refresh = async (next) => {
    if (busy || next === seq) return;
    busy = true;
    try {
      const response = await fetch("/runs/" + encodeURIComponent(run) + "/body" + q, { cache: "no-store" });
      if (response.ok) {
        const main = document.getElementById("run");
        const open = new Set();
        main.querySelectorAll("details[open]").forEach((d) => {
          const owner = d.closest("[id]");
          open.add((owner ? owner.id : "") + "/" + d.className);
        });
        main.innerHTML = await response.text();
        main.querySelectorAll("details").forEach((d) => {
          const owner = d.closest("[id]");
          if (open.has((owner ? owner.id : "") + "/" + d.className)) d.open = true;
        });
        seq = next;
        body.dataset.seq = next;
        show("live, event " + next);
      }
    } finally {
      busy = false;
    }
  };
  const events = new EventSource("/runs/" + encodeURIComponent(run) + "/events" + q);
  events.addEventListener("journal", (event) => { refresh(event.data); });
  events.onopen = () => show("connected");
  events.onerror = () => show("reconnecting");
})();

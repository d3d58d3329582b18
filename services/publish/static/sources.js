// newsflow live page: the sources intake polls, with their health (GET /v1/sources, refreshed every 30 s).
"use strict";
(() => {
  const $list = document.getElementById("sources");
  const $count = document.getElementById("sources-count");

  function when(epoch) {
    return epoch ? new Date(epoch * 1000).toLocaleString() : "never";
  }

  function item(s) {
    const state = s.paused ? "paused" : s.health.state;
    const li = el("li", { class: `source ${state}`, "data-id": s.id },
      el("span", { class: `chip state ${state}` }, state),
      " ", el("strong", {}, s.id), " ", el("a", { href: s.url, rel: "noopener", target: "_blank" }, s.url),
      el("div", { class: "meta" },
        `every ${s.interval_s} s · last success ${when(s.health.last_success)} · ` +
        `${s.health.entries_new} new of ${s.health.entries_seen + s.health.entries_new} entries · ${s.health.polls} polls`));
    if (state === "failing" && s.health.last_error) {
      li.append(el("div", { class: "reason" }, `${s.health.last_error} (${s.health.failures} failed in a row)`));
    }
    return li;
  }

  async function refresh() {
    try {
      const res = await fetch("/v1/sources", { headers: auth() });
      if (!res.ok) { $count.textContent = `(HTTP ${res.status})`; return; }
      const { sources } = await res.json();
      const failing = sources.filter((s) => !s.paused && s.health.state === "failing").length;
      $count.textContent = `(${sources.length}${failing ? `, ${failing} failing` : ""})`;
      $list.replaceChildren(...sources.map(item));
    } catch (e) {
      $count.textContent = "(unavailable)";
    }
  }

  refresh();
  setInterval(refresh, 30_000);
})();

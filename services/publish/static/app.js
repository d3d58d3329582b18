// newsflow live story page: /v1/stories once, then new articles over SSE (/v1/stream), no reload.
"use strict";
const stories = new Map(); // story id -> story object (as /v1/stories returns it)
const byArticle = new Map(); // article id -> story id
const $stories = document.getElementById("stories");
const $filter = document.getElementById("filter");
const $status = document.getElementById("status");
const $empty = document.getElementById("empty");

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function chips(items, cls) {
  return el("div", { class: "chips" }, ...items.map((t) => el("span", { class: `chip ${cls}` }, t)));
}

function ago(iso) {
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function render(story) {
  const outlets = story.outlets.map((o) => o.name);
  const card = el("article", { class: "story", "data-id": story.id },
    el("h2", {}, story.headline),
    el("div", { class: "meta" },
      `${story.article_count} article${story.article_count === 1 ? "" : "s"}` +
      (outlets.length ? ` · ${outlets.join(", ")}` : "") + ` · updated ${ago(story.last_update)}`),
    story.articles.length && story.articles[0].summary ? el("p", { class: "summary" }, story.articles[0].summary) : null,
    story.category ? chips([story.category.name], "category") : null,
    chips(story.countries.map((c) => c.name), "country"),
    chips(story.entities.slice(0, 8).map((e) => e.name), "entity"),
    el("ul", { class: "articles" }, ...story.articles.map((a) =>
      el("li", {},
        el("a", { href: a.url || `/v1/articles/${encodeURIComponent(a.id)}`, target: "_blank", rel: "noopener" }, a.title),
        el("span", { class: "src" }, a.source || ""),
        el("a", { class: "json", href: `/v1/articles/${encodeURIComponent(a.id)}`, target: "_blank" }, "json")))));
  card.dataset.text = [story.headline, ...outlets, story.category ? story.category.name : "", story.category ? story.category.code : "",
    ...story.countries.map((c) => c.name), ...story.entities.map((e) => e.name),
    ...story.articles.map((a) => `${a.title} ${a.summary || ""}`)].join(" ").toLowerCase();
  return card;
}

function applyFilter() {
  const words = $filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const card of $stories.children) {
    const ok = words.every((w) => card.dataset.text.includes(w));
    card.classList.toggle("hidden", !ok);
    if (ok) shown++;
  }
  $empty.classList.toggle("hidden", stories.size > 0);
}

function place(story, fresh) {
  const old = $stories.querySelector(`[data-id="${CSS.escape(story.id)}"]`);
  const card = render(story);
  if (old) old.remove();
  $stories.prepend(card); // most recently updated first
  if (fresh) { card.classList.add("fresh"); setTimeout(() => card.classList.remove("fresh"), 2500); }
  applyFilter();
}

function addArticle(a) {
  const sid = a.story_id || `article:${a.id}`;
  let s = stories.get(sid);
  if (!s) {
    s = { id: sid, headline: a.title, first_seen: a.ingested_at, last_update: a.ingested_at, article_count: 0,
          outlets: [], countries: [], entities: [], category: a.category, articles: [] };
    stories.set(sid, s);
  }
  const known = s.articles.findIndex((x) => x.id === a.id);
  if (known >= 0) s.articles.splice(known, 1); else s.article_count++;
  s.articles.unshift(a);
  s.last_update = new Date().toISOString();
  const bump = (list, names) => {
    for (const n of names) {
      const hit = list.find((x) => x.name === n);
      if (hit) hit.count++; else list.push({ name: n, count: 1 });
    }
    list.sort((x, y) => y.count - x.count);
  };
  if (known < 0) {
    bump(s.outlets, a.source ? [a.source] : []);
    bump(s.countries, a.countries);
    bump(s.entities, a.entities);
  }
  if (!s.category && a.category) s.category = a.category;
  byArticle.set(a.id, sid);
  place(s, true);
}

// A key (scope read) is needed unless the server allows anonymous reading (newsflow dev does). It is kept in
// this tab's sessionStorage and sent as a header; the EventSource, which cannot send headers, gets a
// short-lived token from POST /v1/stream/token instead (the key never goes in a URL).
const KEY = "newsflow.key";
const $keyform = document.getElementById("keyform");
const auth = () => (sessionStorage.getItem(KEY) ? { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` } : {});
let lastId = "";

function askForKey(message) {
  $status.textContent = message;
  $keyform.hidden = false;
}

$keyform.addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, document.getElementById("key").value.trim());
  $keyform.hidden = true;
  start();
});

async function openStream() {
  let query = lastId ? `last_event_id=${encodeURIComponent(lastId)}` : "";
  if (sessionStorage.getItem(KEY)) {
    const res = await fetch("/v1/stream/token", { method: "POST", headers: auth() });
    if (res.status === 401 || res.status === 403) { askForKey("the key was refused"); return; }
    const { token } = await res.json();
    query += `${query ? "&" : ""}token=${encodeURIComponent(token)}`;
  }
  const es = new EventSource(`/v1/stream${query ? `?${query}` : ""}`);
  es.onopen = () => { $status.textContent = "live"; $status.classList.add("live"); };
  es.onerror = () => {
    $status.textContent = "reconnecting…";
    $status.classList.remove("live");
    if (es.readyState === EventSource.CLOSED) setTimeout(openStream, 2000); // a refused reconnect: new token
  };
  es.addEventListener("article", (ev) => { lastId = ev.lastEventId || lastId; addArticle(JSON.parse(ev.data)); });
}

async function start() {
  try {
    const res = await fetch("/v1/stories?limit=100", { headers: auth() });
    if (res.status === 401 || res.status === 403) {
      askForKey(sessionStorage.getItem(KEY) ? "the key was refused" : "an API key (scope read) is needed");
      return;
    }
    const body = await res.json();
    lastId = body.stream_last_id || "";
    for (const s of body.stories.reverse()) { stories.set(s.id, s); place(s, false); }
  } catch (err) {
    $status.textContent = "could not load stories";
  }
  applyFilter();
  openStream();
}

$filter.addEventListener("input", applyFilter);
start();

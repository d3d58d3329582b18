// The archive's search on the live page: GET /v1/search, results with their facets; a facet click narrows
// the search. "country:JP", "entity:..." (quoted when it has spaces), "category:", "language:", "source:",
// "story:" in the box become filters; the rest is the text query (words, "a phrase", -excluded).
"use strict";
(() => {
  const FILTERS = ["entity", "country", "category", "language", "source", "story"];
  const $form = document.getElementById("search");
  const $q = document.getElementById("q");
  const $view = document.getElementById("search-view");
  const $live = document.getElementById("live");
  const $close = document.getElementById("search-close");
  const $results = document.getElementById("results");
  const $facets = document.getElementById("facets");
  const $summary = document.getElementById("search-summary");
  const $more = document.getElementById("more");
  let next = null;
  let current = null;

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (k === "class") e.className = v; else e.setAttribute(k, v);
    for (const c of children) if (c != null) e.append(c);
    return e;
  }

  function parse(text) {
    const params = new URLSearchParams();
    const words = [];
    const re = /(\w+):"([^"]*)"|(\w+):(\S+)|(-?"[^"]*"?)|(\S+)/g;
    let m;
    while ((m = re.exec(text)) !== null) {
      const name = m[1] || m[3];
      if (name && FILTERS.includes(name.toLowerCase())) params.append(name.toLowerCase(), m[2] ?? m[4]);
      else words.push(m[0]);
    }
    if (words.length) params.set("q", words.join(" "));
    return params;
  }

  function hit(h) {
    return el("li", { class: "hit" },
      el("a", { class: "title", href: h.url || `/v1/articles/${encodeURIComponent(h.id)}`, target: "_blank", rel: "noopener" }, h.title),
      el("div", { class: "meta" }, [h.source, new Date(h.time).toLocaleString(), h.language,
        h.category ? h.category.name : null, h.countries.join(" ")].filter(Boolean).join(" · ")),
      h.summary ? el("p", { class: "summary" }, h.summary) : null,
      h.story_id ? el("a", { class: "json", href: `/v1/stories/${encodeURIComponent(h.story_id)}/articles`,
                             target: "_blank" }, "story timeline") : null);
  }

  function facetGroup(title, name, counts) {
    if (!counts || !counts.length) return null;
    return el("div", { class: "facet" }, el("h3", {}, title), el("ul", {}, ...counts.map((c) => {
      const a = el("a", { href: "#", "data-filter": name, "data-value": c.value }, `${c.value} `, el("span", {}, `${c.count}`));
      a.addEventListener("click", (ev) => {
        ev.preventDefault();
        const v = String(c.value);
        $q.value = `${$q.value.trim()} ${name}:${v.includes(" ") ? `"${v}"` : v}`.trim();
        run();
      });
      return el("li", {}, a);
    })));
  }

  async function fetchPage(params) {
    const res = await fetch(`/v1/search?${params}`, { headers: auth() });
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || body.title || `HTTP ${res.status}`);
    return body;
  }

  async function run() {
    current = parse($q.value);
    $view.classList.remove("hidden");
    $live.classList.add("hidden");
    $close.classList.remove("hidden");
    $results.replaceChildren();
    $facets.replaceChildren();
    $summary.textContent = "searching…";
    try {
      const body = await fetchPage(current);
      show(body, true);
    } catch (err) {
      $summary.textContent = `Search refused: ${err.message}`;
      $more.classList.add("hidden");
    }
  }

  function show(body, first) {
    for (const h of body.results) $results.append(hit(h));
    next = body.next_cursor;
    $more.classList.toggle("hidden", !next);
    if (first) {
      const f = body.facets;
      const n = f ? f.hits : body.results.length;
      $summary.textContent = body.results.length ? `${n >= 1000 ? "1000+" : n} result${n === 1 ? "" : "s"}` : "No results.";
      if (f) $facets.append(...[facetGroup("Countries", "country", f.countries), facetGroup("Entities", "entity", f.entities),
        facetGroup("Categories", "category", f.categories), facetGroup("Sources", "source", f.sources)].filter(Boolean));
    }
  }

  $more.addEventListener("click", async () => {
    if (!next || !current) return;
    const params = new URLSearchParams(current);
    params.set("cursor", next);
    params.set("facets", "false");
    show(await fetchPage(params), false);
  });
  $form.addEventListener("submit", (ev) => { ev.preventDefault(); if ($q.value.trim()) run(); });
  $close.addEventListener("click", () => {
    $view.classList.add("hidden");
    $live.classList.remove("hidden");
    $close.classList.add("hidden");
  });
})();

// Search of a published strongroom release, entirely in the browser: the release's
// search-index.json maps each word (already redacted at publish time) to the items holding it.
// Every word must match; the last word also matches as a prefix while it is being typed.
"use strict";
(function () {
  const form = document.getElementById("search");
  const input = document.getElementById("q");
  const status = document.getElementById("status");
  const list = document.getElementById("results");
  if (!form || !input || !status || !list) return;
  const WORD = /[\p{L}\p{N}]+/gu;
  const SHOWN = 200;
  let loading = null;

  function load() {
    if (loading === null) {
      loading = fetch("search-index.json")
        .then(function (response) {
          if (!response.ok) throw new Error("search-index.json: HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          data.byNum = new Map(data.items.map(function (e) { return [e.n, e]; }));
          return data;
        });
    }
    return loading;
  }

  function words(text) {
    return (text.toLowerCase().match(WORD) || []).filter(function (w) { return w.length < 40; });
  }

  function postings(data, word, prefix) {
    const found = new Set(data.words[word] || []);
    if (prefix && word.length >= 3) {
      for (const key of Object.keys(data.words)) {
        if (key.startsWith(word)) data.words[key].forEach(function (n) { found.add(n); });
      }
    }
    return found;
  }

  function search(data, query) {
    const terms = words(query);
    let found = null;
    terms.forEach(function (term, i) {
      const prefix = i === terms.length - 1 && !/\s$/.test(query);
      const hits = postings(data, term, prefix);
      found = found === null ? hits : new Set([...found].filter(function (n) { return hits.has(n); }));
    });
    if (found === null) return [];
    return [...found].sort(function (a, b) { return a - b; }).map(function (n) { return data.byNum.get(n); });
  }

  function show(results, query) {
    list.replaceChildren();
    if (!words(query).length) {
      status.textContent = "";
      return;
    }
    status.textContent = results.length === 1 ? "1 matching item" : results.length + " matching items";
    if (results.length > SHOWN) status.textContent += " (the first " + SHOWN + " shown)";
    results.slice(0, SHOWN).forEach(function (entry) {
      const item = document.createElement("li");
      item.className = "hit";
      const link = document.createElement("a");
      link.href = "items/" + entry.n + ".html";
      link.textContent = "#" + entry.n + " " + entry.t;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [entry.d.slice(0, 10), entry.f, entry.k].filter(Boolean).join(" · ");
      item.append(link, " ", meta);
      list.append(item);
    });
  }

  function run(query) {
    status.textContent = "Searching…";
    load()
      .then(function (data) { show(search(data, query), query); })
      .catch(function (error) { status.textContent = "The search index could not be loaded (" + error.message + ")."; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const query = input.value;
    history.replaceState(null, "", "?q=" + encodeURIComponent(query));
    run(query);
  });
  const initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();

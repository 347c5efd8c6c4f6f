// The one script of the reading room, and reading never needs it: it only lets a reader drag
// across the month histogram to search a date range (a click on one month works without it).
"use strict";
document.querySelectorAll("ol.histogram[data-base]").forEach((list) => {
  let start = null;
  list.addEventListener("mousedown", (event) => {
    const bar = event.target.closest("a[data-month]");
    if (bar) {
      start = bar.dataset.month;
      event.preventDefault(); // no link drag image
    }
  });
  list.addEventListener("mouseup", (event) => {
    const bar = event.target.closest("a[data-month]");
    const first = start;
    start = null;
    if (!bar || first === null || bar.dataset.month === first) {
      return; // a plain click: the link does the rest
    }
    event.preventDefault();
    const [low, high] = [first, bar.dataset.month].sort();
    const query = `${list.dataset.query} date:${low}..${high}`.trim();
    window.location.assign(`${list.dataset.base}?q=${encodeURIComponent(query)}`);
  });
});

// The dashboard's script: draws each chart from the Vega-Lite spec kept beside it, filters the parameter
// editor, flags values outside a parameter's range as they are typed, and follows a run's progress.
"use strict";

window.chacraViews = {};  // figure id -> Vega view (the browser test reads the drawn rows through it)

function drawCharts() {
  for (const div of document.querySelectorAll("div.chart[data-spec]")) {
    const spec = JSON.parse(document.getElementById(div.dataset.spec).textContent);
    vegaEmbed(div, spec, {actions: false, renderer: "svg"})
      .then((r) => { window.chacraViews[div.parentElement.id] = r.view; div.dataset.drawn = "1"; })
      .catch((e) => { div.textContent = "The chart could not be drawn: " + e; div.dataset.drawn = "error"; });
  }
}

// The editor's filter: shows the parameters whose name, unit or description holds every word typed.
function filterParameters(text) {
  const words = text.toLowerCase().split(/\s+/).filter((w) => w);
  for (const section of document.querySelectorAll("details.section")) {
    let shown = 0;
    for (const tr of section.querySelectorAll("tr[data-name]")) {
      const hay = tr.dataset.search;
      const keep = words.every((w) => hay.includes(w));
      tr.hidden = !keep;
      shown += keep ? 1 : 0;
    }
    section.hidden = shown === 0;
    section.open = words.length > 0 && shown > 0 ? true : section.open;
  }
}

// A number outside [min, max] is marked at once; the server still checks it (with the command line's message).
function checkRange(input) {
  const v = Number(input.value), lo = input.dataset.min, hi = input.dataset.max;
  const bad = input.value !== "" && (Number.isNaN(v) || (lo !== undefined && v < Number(lo)) ||
                                      (hi !== undefined && v > Number(hi)));
  input.classList.toggle("out-of-range", bad);
}

function followJob(url) {
  const bar = document.getElementById("progress"), text = document.getElementById("progress-text");
  fetch(url).then((r) => r.json()).then((job) => {
    if (job.total > 0) { bar.max = job.total; bar.value = job.done; }
    text.textContent = job.text;
    document.body.dataset.state = job.state;
    if (job.state === "done") {
      window.location.href = job.result;
    } else if (job.state === "failed") {
      const pre = document.getElementById("job-error");
      pre.textContent = job.error;
      pre.hidden = false;
    } else {
      setTimeout(() => followJob(url), 400);
    }
  }).catch(() => setTimeout(() => followJob(url), 1000));
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts();
  const filter = document.getElementById("param-filter");
  if (filter) filter.addEventListener("input", () => filterParameters(filter.value));
  for (const input of document.querySelectorAll("input[data-min], input[data-max]"))
    input.addEventListener("input", () => checkRange(input));
  const job = document.body.querySelector("[data-job]");
  if (job) followJob(job.dataset.job);
});

/// The page at `GET /`: pick or drop a face photo, see it previewed, and see every task's
/// answer (a value for regression, a bar per class for the others). Self-contained: no
/// external scripts, styles or fonts; it reads the tasks from `/v1/model` and posts the
/// file's bytes to `/v1/predict`.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HydraNet</title>
<style>
  :root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --accent:#3b6ef5; --bg:#f7f8fa; }
  * { box-sizing: border-box; }
  body { margin:0; font:16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
  main { max-width: 760px; margin: 0 auto; padding: 20px 16px 40px; }
  h1 { font-size: 1.4rem; margin: 0 0 4px; }
  .sub { color: var(--muted); margin: 0 0 18px; font-size: .95rem; }
  #drop { display:block; border: 2px dashed #b8c2d6; border-radius: 14px; background:#fff; padding: 22px; text-align:center; cursor:pointer; }
  #drop.over { border-color: var(--accent); background:#eef3ff; }
  #drop strong { color: var(--accent); }
  #file { position:absolute; width:1px; height:1px; opacity:0; }
  .grid { display:flex; flex-wrap:wrap; gap:18px; margin-top:18px; }
  .card { background:#fff; border:1px solid var(--line); border-radius:14px; padding:16px; }
  #preview-card { flex: 0 1 240px; display:none; }
  #preview { width:100%; max-height: 260px; object-fit: contain; border-radius:10px; display:block; }
  #results { flex: 1 1 300px; display:none; }
  .task { margin-bottom: 16px; }
  .task h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 6px; }
  .value { font-size: 2.2rem; font-weight: 650; }
  .value small { font-size: 1rem; color: var(--muted); font-weight: 400; }
  .row { display:grid; grid-template-columns: minmax(60px, 90px) 1fr 56px; align-items:center; gap:8px; margin: 3px 0; font-size:.92rem; }
  .bar { height: 12px; background:#edf0f5; border-radius: 6px; overflow:hidden; }
  .bar span { display:block; height:100%; background:#a9b8d9; border-radius:6px; }
  .row.top .bar span { background: var(--accent); }
  .row.top .name { font-weight: 600; }
  .pct { text-align:right; font-variant-numeric: tabular-nums; }
  #status { margin-top: 12px; color: var(--muted); min-height: 1.4em; }
  #status.error { color: #b42318; }
  footer { margin-top: 28px; color: var(--muted); font-size: .85rem; }
  @media (max-width: 520px) { #preview-card { flex-basis: 100%; } .value { font-size: 1.9rem; } }
</style>
</head>
<body>
<main>
  <h1>HydraNet</h1>
  <p class="sub" id="model">One photo, every task the model was trained for.</p>
  <label id="drop" for="file">
    <input type="file" id="file" accept="image/jpeg,image/png">
    <div><strong>Choose a face photo</strong> or drop it here</div>
    <div class="sub" style="margin:4px 0 0">JPEG or PNG</div>
  </label>
  <div id="status" role="status" aria-live="polite"></div>
  <div class="grid">
    <div class="card" id="preview-card"><img id="preview" alt="the chosen photo"></div>
    <div class="card" id="results" data-state="empty"></div>
  </div>
  <footer>Served by <code>hydranet serve</code> · <a href="/v1/model">model</a> · <a href="/metrics">metrics</a></footer>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let tasks = null;
const pct = (p) => (100 * p).toFixed(1) + "%";
function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }

fetch("/v1/model").then(r => r.json()).then(m => {
  tasks = m.tasks;
  $("model").textContent = m.backbone + " · " + m.tasks.map(t => t.name).join(", ") +
    (m.input ? " · input " + m.input.width + "×" + m.input.height : "");
}).catch(() => {});

function render(predictions) {
  const box = $("results");
  box.replaceChildren();
  const names = tasks ? tasks.map(t => t.name).filter(n => n in predictions) : Object.keys(predictions);
  for (const name of names) {
    const p = predictions[name];
    const section = el("section", "task");
    section.dataset.task = name;
    section.appendChild(el("h2", null, name));
    if ("value" in p) {
      const v = el("div", "value", p.value.toFixed(1));
      v.dataset.value = String(p.value);
      if (name === "age") v.appendChild(el("small", null, " years"));
      section.appendChild(v);
    } else if (p.probabilities) {
      if (p.label !== undefined) section.dataset.label = p.label;
      if (p.labels !== undefined) section.dataset.labels = p.labels.join(";");
      const entries = Object.entries(p.probabilities);
      const order = tasks ? (tasks.find(t => t.name === name) || {}).classes || [] : [];
      entries.sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]));
      for (const [cls, prob] of entries) {
        const top = p.label === cls || (p.labels || []).includes(cls);
        const row = el("div", "row" + (top ? " top" : ""));
        row.dataset.class = cls;
        row.dataset.probability = String(prob);
        row.appendChild(el("span", "name", cls));
        const bar = el("div", "bar"); const fill = el("span"); fill.style.width = (100 * prob).toFixed(1) + "%";
        bar.appendChild(fill); row.appendChild(bar);
        row.appendChild(el("span", "pct", pct(prob)));
        section.appendChild(row);
      }
    }
    box.appendChild(section);
  }
  box.style.display = "block";
  box.dataset.state = "done";
}

async function analyse(file) {
  if (!file) return;
  const status = $("status");
  status.className = ""; status.textContent = "Analysing " + file.name + "…";
  $("results").dataset.state = "busy";
  $("preview").src = URL.createObjectURL(file);
  $("preview-card").style.display = "block";
  try {
    const response = await fetch("/v1/predict", { method: "POST", body: file,
      headers: { "Content-Type": file.type || "application/octet-stream" } });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || ("HTTP " + response.status));
    render(answer.images[0].predictions);
    status.textContent = file.name;
  } catch (e) {
    status.className = "error"; status.textContent = String(e.message || e);
    $("results").dataset.state = "error";
  }
}

$("file").addEventListener("change", (e) => analyse(e.target.files[0]));
const drop = $("drop");
for (const t of ["dragenter", "dragover"]) drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const t of ["dragleave", "drop"]) drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); });
drop.addEventListener("drop", (e) => analyse(e.dataTransfer.files[0]));
</script>
</body>
</html>
"""#
}

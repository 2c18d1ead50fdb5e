// alliancelab web app: every action goes through the JSON API (/openapi.json describes it).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { info: null, name: null, doc: null, draft: null, runs: [], last: null,
  exId: null, runId: null, validateTimer: null };
const PLOT_CFG = { displaylogo: false, responsive: true };

async function api(method, url, body) {
  const opts = { method, headers: {} };
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(url, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    // every error of the API is {"detail": "<one line>"} (with field, file, line for a case)
    const msg = (data && typeof data.detail === "string" && data.detail) ||
      `${res.status} ${res.statusText}`;
    const err = new Error(msg);
    err.data = data; err.status = res.status;
    throw err;
  }
  return data;
}

function toast(msg) {
  const t = $("toast"); t.textContent = msg; t.style.display = "block";
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.style.display = "none"; }, 2500);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") e.textContent = v; else if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// Numbers as alliancelab.core.units writes them (the console and the report): thousands
// separated, about 3-4 significant digits, never an exponent; a position at its scale's
// decimals (units.decimals, sent with each issue).
function fixed(x, places) {
  const t = x.toLocaleString("en-US", { minimumFractionDigits: places, maximumFractionDigits: places });
  return /^-[0.,]*$/.test(t) ? t.slice(1) : t;
}
function fmtNumber(x) {
  if (!Number.isFinite(x)) return "n/a";
  const a = Math.abs(x);
  if (a === 0) return "0";
  if (a >= 100) return fixed(x, 0);
  if (a >= 10) return fixed(x, 1);
  if (a >= 1) return fixed(x, 2);
  const places = Math.min(8, 2 - Math.floor(Math.log10(a)));
  const t = fixed(x, places);
  return places > 3 ? (t.replace(/0+$/, "").replace(/\.$/, "") || "0") : t;
}
function fmtPos(x, issue) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "";
  return issue && Number.isInteger(issue.decimals) ? fixed(x, issue.decimals) : fmtNumber(x);
}
function fmt(x) {
  if (x === null || x === undefined) return "";
  if (typeof x === "number") return Number.isInteger(x) ? fixed(x, 0) : fmtNumber(x);
  return String(x);
}

// Every chart in the report's theme (its plotly template, sent by /api/info).
function themed(layout) {
  const t = state.info && state.info.theme ? { layout: state.info.theme.layout } : undefined;
  return Object.assign({ template: t }, layout);
}
const axisTitle = (text) => ({ text });

function recordsTable(table, rows, columns) {
  table.replaceChildren();
  if (!rows || !rows.length) return;
  const cols = columns || Object.keys(rows[0]);
  table.append(el("tr", {}, ...cols.map((c) => el("th", { text: c }))));
  const cell = (c, v) => {
    if (typeof v !== "number") return el("td", { text: fmt(v) });
    const text = c === "quasi-p" ? (v < 0.001 ? "< 0.001" : v < 0.1 ? String(Number(v.toPrecision(2))) : fixed(v, 2)) : fmt(v);
    return el("td", { class: "num", text });
  };
  for (const r of rows) table.append(el("tr", {}, ...cols.map((c) => cell(c, r[c]))));
}

// -- tabs ---------------------------------------------------------------------------------
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((x) => x.classList.toggle("active", x === b));
  document.querySelectorAll(".panel").forEach((p) =>
    p.classList.toggle("active", p.id === "panel-" + b.dataset.tab));
  window.dispatchEvent(new Event("resize"));
}));

// -- cases --------------------------------------------------------------------------------
async function refreshCases() {
  const lists = await api("GET", "/api/cases");
  const shipped = $("shipped-list"); shipped.replaceChildren();
  for (const n of lists.shipped) {
    const b = el("button", { "data-shipped": n, text: n });
    b.addEventListener("click", () => openShipped(n));
    shipped.append(b, " ");
  }
  const sel = $("workspace-select"); sel.replaceChildren();
  for (const n of lists.workspace) sel.append(el("option", { value: n, text: n }));
  if (state.name) sel.value = state.name;
}

async function openShipped(n) {
  try { showCase(await api("POST", "/api/cases/open", { shipped: n })); }
  catch (e) { $("upload-error").textContent = e.message; }
}

$("open-workspace").addEventListener("click", async () => {
  const n = $("workspace-select").value;
  if (n) showCase(await api("GET", `/api/cases/${encodeURIComponent(n)}`));
});

$("upload-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = $("upload-file").files[0];
  $("upload-error").textContent = "";
  if (!f) { $("upload-error").textContent = "choose a file first"; return; }
  const fd = new FormData(); fd.append("file", f, f.name);
  try { showCase(await api("POST", "/api/cases/upload", fd)); toast(`uploaded ${f.name}`); }
  catch (e) { $("upload-error").textContent = e.message; }
});

function showCase(doc) {
  state.name = doc.name; state.doc = doc;
  state.draft = JSON.parse(JSON.stringify(doc.data));
  $("case-title").textContent = `${doc.name}: ${doc.data.name}`;
  const s = $("case-summary"); s.replaceChildren(
    el("h2", { text: doc.data.name }),
    el("p", { text: doc.data.description || "" }),
    el("p", { class: "muted", text: `${doc.actors.length} actors, ${doc.issues.length} issues, ` +
      `${doc.shocks.length} shocks, ${doc.levers.length} levers` +
      (doc.data.date ? `; dated ${doc.data.date}` : "") }));
  $("download-yaml").href = `/api/cases/${encodeURIComponent(doc.name)}/yaml`;
  $("editor").hidden = false;
  setValidation(null);
  renderTables();
  fillChoices(doc);
  refreshCases();
}

// A number in the case is either bare or {value, source, note, range}; edits keep the rest.
const getVal = (node) => (node !== null && typeof node === "object" ? node.value : node);
function parseCell(raw) {
  const t = raw.trim();
  return t !== "" && !Number.isNaN(Number(t)) ? Number(t) : t;
}
// A range is the uncertainty of a number, not a limit on an edit: a new value outside its
// range moves the range with it (same distances below and above the value, kept within the
// field's domain [lo, hi]); the server checks the value against the scale and the domain.
function setVal(parent, key, raw, domain) {
  const v = parseCell(raw);
  if (v === "" && (parent[key] === undefined || parent[key] === null)) return;
  const node = parent[key];
  if (node !== null && typeof node === "object") {
    const old = node.value;
    node.value = v;
    if (Array.isArray(node.range) && typeof v === "number" && typeof old === "number") {
      moveRange(node, old, v, domain || [-Infinity, Infinity]);
    }
  } else parent[key] = v;
}
function moveRange(node, old, v, domain) {
  const [lo, hi] = node.range;
  if (v >= lo && v <= hi) return;
  if (v < domain[0] || v > domain[1]) return; // outside the domain: the server says so
  const r = [Math.max(domain[0], v - (old - lo)), Math.min(domain[1], v + (hi - old))];
  const round = (x) => Number(x.toPrecision(6));
  node.range = [Math.min(round(r[0]), v), Math.max(round(r[1]), v)];
  state.moved = `range moved with the value to [${fmtNumber(node.range[0])}, ${fmtNumber(node.range[1])}]`;
}
function describe(node) {
  if (node === null || typeof node !== "object") return "";
  const parts = [];
  if (node.source) parts.push("source: " + node.source);
  if (node.note) parts.push("note: " + node.note);
  if (node.range) parts.push(`range: [${node.range[0]}, ${node.range[1]}]`);
  return parts.join("\n");
}

function cellInput(path, node, onChange, wide) {
  const raw = getVal(node);
  const inp = el("input", { "data-path": path, value: raw === undefined || raw === null ? "" : String(raw),
    title: describe(node), "aria-label": path });
  if (wide) inp.classList.add("wide");
  if (describe(node)) inp.classList.add("sourced");
  inp.addEventListener("input", () => {
    state.moved = null;
    onChange(inp.value);
    inp.title = describe(node);
    scheduleValidate();
  });
  return inp;
}

function renderTables() {
  const d = state.draft;
  const issues = d.issues.map((i) => i.name);
  const ta = $("table-actors"); ta.replaceChildren(
    el("tr", {}, ...["actor", "group", "capability", "description", ""].map((c) => el("th", { text: c }))));
  d.actors.forEach((a, i) => {
    const remove = el("button", { class: "remove-actor", "data-actor": i, title: "remove this actor", text: "✕" });
    remove.addEventListener("click", () => { d.actors.splice(i, 1); renderTables(); scheduleValidate(); });
    ta.append(el("tr", {},
      el("td", {}, cellInput(`actors[${i}].name`, a.name, (v) => { a.name = v; }, true)),
      el("td", {}, cellInput(`actors[${i}].group`, a.group ?? "", (v) => {
        if (v === "") delete a.group; else a.group = v; })),
      el("td", {}, cellInput(`actors[${i}].capability`, a.capability,
        (v) => setVal(a, "capability", v, [0, Infinity]))),
      el("td", { class: "muted", text: (a.description || "").slice(0, 90) }), el("td", {}, remove)));
  });
  const scaleOf = (n) => { const i = d.issues.find((x) => x.name === n); return i && i.scale ? [i.scale.min, i.scale.max] : undefined; };
  for (const kind of ["positions", "saliences"]) {
    const t = $(`table-${kind}`);
    t.replaceChildren(el("tr", {}, el("th", { text: "actor" }),
      ...issues.map((n) => el("th", { text: n }))));
    d.actors.forEach((a, i) => {
      a[kind] = a[kind] || {};
      t.append(el("tr", {}, el("th", { text: a.name }), ...issues.map((n) => el("td", {},
        cellInput(`actors[${i}].${kind}.${n}`, a[kind][n],
          (v) => setVal(a[kind], n, v, kind === "positions" ? scaleOf(n) : [0, 1]))))));
    });
  }
  const tp = $("table-perceptions");
  const cols = ["threats.dprk", "threats.china", "partner_reliability"];
  tp.replaceChildren(el("tr", {}, el("th", { text: "actor" }), ...cols.map((c) => el("th", { text: c }))));
  d.actors.forEach((a, i) => {
    const cells = cols.map((c) => {
      const parts = c.split(".");
      const parentOf = (create) => {
        if (!a.perceptions) { if (!create) return null; a.perceptions = {}; }
        if (parts.length === 1) return a.perceptions;
        if (!a.perceptions.threats) { if (!create) return null; a.perceptions.threats = {}; }
        return a.perceptions.threats;
      };
      const key = parts[parts.length - 1];
      const p = parentOf(false);
      return el("td", {}, cellInput(`actors[${i}].perceptions.${c}`, p ? p[key] : undefined, (v) => {
        if (v.trim() === "") { const q = parentOf(false); if (q) delete q[key]; return; }
        setVal(parentOf(true), key, v, [0, 1]);
      }));
    });
    tp.append(el("tr", {}, el("th", { text: a.name }), ...cells));
  });
}

function setValidation(err) {
  const v = $("validation");
  document.querySelectorAll("input.invalid").forEach((x) => x.classList.remove("invalid"));
  if (!err) { v.textContent = "valid" + (state.moved ? ` (${state.moved})` : ""); v.className = "ok"; return; }
  v.textContent = err.message; v.className = "error";
  const field = err.data && err.data.field;
  if (field) {
    // the field names items as the CLI does: actors[2](ROK President).positions.opcon
    const named = (p) => p.replace(/^actors\[(\d+)\]/, (m, i) => {
      const a = state.draft.actors[Number(i)];
      return typeof (a && a.name) === "string" ? `${m}(${a.name})` : m;
    });
    const path = field;
    let best = null;
    document.querySelectorAll("#editor input[data-path]").forEach((inp) => {
      const p = named(inp.dataset.path);
      if ((path === p || path.startsWith(p + ".")) && (!best || p.length > named(best.dataset.path).length)) best = inp;
    });
    if (!best) {
      // a field above the cells (actors[1](X).saliences): the cell the message names
      const below = [...document.querySelectorAll("#editor input[data-path]")]
        .filter((inp) => named(inp.dataset.path).startsWith(path + "."));
      best = below.length === 1 ? below[0] : below.find((inp) =>
        err.message.includes(`'${inp.dataset.path.split(".").pop()}'`)) || null;
    }
    if (best) best.classList.add("invalid");
  }
}

function scheduleValidate() {
  clearTimeout(state.validateTimer);
  $("validation").textContent = "checking…"; $("validation").className = "muted";
  state.validateTimer = setTimeout(validateDraft, 250);
}

async function validateDraft() {
  try {
    await api("POST", `/api/cases/${encodeURIComponent(state.name)}/validate`, { data: state.draft });
    setValidation(null); return true;
  } catch (e) { setValidation(e); return false; }
}

$("save-case").addEventListener("click", async () => {
  clearTimeout(state.validateTimer);
  try {
    const doc = await api("PUT", `/api/cases/${encodeURIComponent(state.name)}`, { data: state.draft });
    showCase(doc); toast(`saved ${doc.name}.yaml`);
  } catch (e) { setValidation(e); }
});
$("revert-case").addEventListener("click", () => showCase(state.doc));
$("add-actor").addEventListener("click", () => {
  // a new actor at the status quo (or mid-scale) on every issue, caring moderately
  const d = state.draft;
  const names = new Set(d.actors.map((a) => a.name));
  let k = 1; while (names.has(`New actor ${k}`)) k += 1;
  const positions = {}, saliences = {};
  for (const i of d.issues) {
    const sq = getVal(i.status_quo);
    positions[i.name] = sq ?? (i.scale.min + i.scale.max) / 2;
    saliences[i.name] = 0.5;
  }
  d.actors.push({ name: `New actor ${k}`, capability: 1, positions, saliences });
  renderTables(); scheduleValidate();
});

function fillChoices(doc) {
  for (const prefix of ["fc", "rp", "ex"]) {
    for (const kind of ["shocks", "levers"]) {
      const box = $(`${prefix}-${kind}`); box.replaceChildren();
      for (const s of doc[kind]) {
        const cb = el("input", { type: "checkbox", value: s.name, id: `${prefix}-${kind}-${s.name}` });
        box.append(el("label", { title: s.description || "" }, cb, " " + s.name));
      }
    }
  }
  const issueSel = $("fc-issue"); issueSel.replaceChildren();
  doc.issues.forEach((i, k) => issueSel.append(el("option", { value: k, text: i.name })));
}
const checked = (prefix, kind) =>
  [...document.querySelectorAll(`#${prefix}-${kind} input:checked`)].map((x) => x.value);

// -- forecast and comparison ---------------------------------------------------------------
$("fc-run").addEventListener("click", async () => {
  if (!state.name) { $("fc-error").textContent = "open a case first"; return; }
  $("fc-error").textContent = "";
  const body = { case: state.name, model: $("fc-model").value, seed: Number($("fc-seed").value || 0),
    interventions: [...checked("fc", "shocks"), ...checked("fc", "levers")] };
  if ($("fc-rounds").value) body.rounds = Number($("fc-rounds").value);
  $("fc-run").disabled = true;
  try {
    const r = await api("POST", "/api/forecast", body);
    state.last = r;
    state.runs.push(r);
    if (state.runs.length > 6) state.runs.shift();
    $("fc-result").hidden = false;
    $("fc-source").value = r.rounds.length > 1 || !r.dynamics ? "engine" : "dynamics";
    drawForecast(); drawCompare();
  } catch (e) { $("fc-error").textContent = e.message; }
  finally { $("fc-run").disabled = false; }
});
$("fc-issue").addEventListener("change", drawForecast);
$("fc-source").addEventListener("change", drawForecast);
$("fc-clear").addEventListener("click", () => { state.runs = []; drawCompare(); });

function runLabel(r, k) {
  return `#${k + 1} ${r.model}` + (r.interventions.length ? " + " + r.interventions.join(" + ") : "");
}

function drawForecast() {
  const r = state.last; if (!r) return;
  const k = Number($("fc-issue").value || 0);
  const useDyn = $("fc-source").value === "dynamics" && r.dynamics;
  const rounds = useDyn ? r.dynamics.positions : r.rounds;
  const x = rounds.map((_, t) => t);
  const styles = Object.fromEntries(state.doc.actors.map((a) => [a.name, a]));
  const traces = r.actors.map((a, i) => {
    const st = styles[a] || {};
    return { x, y: rounds.map((p) => p[i][k]), name: a, mode: "lines+markers", type: "scatter",
      line: { color: st.colour, dash: st.dash, width: 1.6 }, marker: { symbol: st.symbol, size: 6, color: st.colour },
      hovertemplate: `${a}<br>round %{x}: %{customdata}<extra></extra>`,
      customdata: rounds.map((p) => fmtPos(p[i][k], state.doc.issues[k])) };
  });
  const outcome = useDyn ? r.dynamics.outcomes.map((o) => o[k]) : x.map(() => r.forecast[k]);
  traces.push({ x, y: outcome, name: useDyn ? "outcome per round" : "forecast",
    mode: "lines", line: { dash: "dash", width: 3, color: "#000" } });
  const issue = state.doc.issues[k];
  Plotly.react("plot-trajectory", traces, themed({
    title: { text: `${r.model}${useDyn ? " (perception dynamics)" : ""}: ${issue.name}`,
      subtitle: { text: `scale ${issue.scale_text || `${issue.min} – ${issue.max}`}` } },
    xaxis: { title: axisTitle("round"), dtick: 1 },
    yaxis: { title: axisTitle(issue.units ? `position (${issue.units})` : `position (${issue.min}–${issue.max})`),
      tickformat: ",", range: [issue.min - 0.03 * (issue.max - issue.min), issue.max + 0.03 * (issue.max - issue.min)] },
    margin: { t: 70, r: 10 }, legend: { font: { size: 10 } }, height: 440 }), PLOT_CFG);
  // the report's heat map (colours, range, rows in case order from the top), drawn by the server
  let fig = r.movement_figure, src = `${r.model} rounds`;
  if (!fig && r.dynamics) { fig = r.dynamics.movement_figure; src = "perception dynamics"; }
  $("movement-source").textContent = fig ? `(${src}; % of the scale closed toward each actor's start)` : "(the engine has a single round)";
  if (fig) Plotly.react("plot-movement", fig.data, Object.assign({}, fig.layout, { height: 460 }), PLOT_CFG);
  else Plotly.purge("plot-movement");
}

function drawCompare() {
  const runs = state.runs;
  $("compare-card").hidden = runs.length === 0;
  if (!runs.length) { $("table-compare").replaceChildren(); return; }
  const labels = runs.map(runLabel);
  const issues = runs[runs.length - 1].issues;
  const t = $("table-compare");
  t.replaceChildren(el("tr", {}, el("th", { text: "issue / indicator" }), el("th", { text: "status quo" }),
    ...labels.map((l) => el("th", { text: l }))));
  issues.forEach((name, k) => t.append(el("tr", {}, el("th", { text: name }),
    el("td", { class: "num", text: runs[runs.length - 1].status_quo_text[k] || "" }),
    ...runs.map((r) => el("td", { class: "num", text: r.forecast_text[r.issues.indexOf(name)] || "" })))));
  const ind = runs[runs.length - 1].dynamics ? Object.keys(runs[runs.length - 1].dynamics.indicators) : [];
  for (const name of ind) {
    t.append(el("tr", {}, el("th", { text: `${name} (final, dynamics)` }), el("td", { text: "" }),
      ...runs.map((r) => {
        const s = r.dynamics && r.dynamics.indicators[name];
        return el("td", { class: "num", text: s ? fixed(s[s.length - 1], 3) : "" });
      })));
  }
  if (runs[runs.length - 1].dynamics) {
    issues.forEach((name, k) => t.append(el("tr", {}, el("th", { text: `${name} (after dynamics)` }),
      el("td", { text: "" }), ...runs.map((r) => {
        const o = r.dynamics && r.dynamics.outcomes_text[r.dynamics.outcomes_text.length - 1];
        return el("td", { class: "num", text: o ? o[r.issues.indexOf(name)] : "" });
      }))));
  }
  const sc = state.doc ? state.doc.issues : [];
  const norm = (r, k) => { const i = sc.find((x) => x.name === r.issues[k]); return i ? (r.forecast[k] - i.min) / (i.max - i.min) : r.forecast[k]; };
  Plotly.react("plot-compare", runs.map((r, j) => ({ type: "bar", name: labels[j], x: r.issues,
    y: r.issues.map((_, k) => 100 * norm(r, k)), customdata: r.forecast_text,
    hovertemplate: "%{x}: %{customdata} (%{y:.0f}% of the scale)<extra>" + labels[j] + "</extra>" })),
  themed({ barmode: "group", height: 400,
    xaxis: { title: axisTitle("issue"), tickangle: -35 },
    yaxis: { title: axisTitle("forecast (% of the issue's scale)"), range: [0, 100] },
    legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
    margin: { t: 30, b: 130 } }), PLOT_CFG);
}

// -- jobs (explorations and report runs): queued | running | cancelling, then done | failed | cancelled
const ACTIVE = ["queued", "running", "cancelling"];
async function cancelJob(kind, id, errorId) {
  try { await api("POST", `/api/${kind}/${id}/cancel`); }
  catch (e) { $(errorId).textContent = e.message; }
}
$("ex-cancel").addEventListener("click", () => cancelJob("explorations", state.exId, "ex-error"));
$("rp-cancel").addEventListener("click", () => cancelJob("runs", state.runId, "rp-error"));

// -- exploration -----------------------------------------------------------------------------
$("ex-run").addEventListener("click", async () => {
  if (!state.name) { $("ex-error").textContent = "open a case first"; return; }
  $("ex-error").textContent = "";
  const body = { case: state.name, sampler: $("ex-sampler").value, n: Number($("ex-n").value),
    seed: Number($("ex-seed").value || 0), levers: checked("ex", "levers"), shocks: checked("ex", "shocks") };
  try {
    const job = await api("POST", "/api/explorations", body);
    state.exId = job.id; $("ex-result").hidden = true; $("ex-progress").hidden = false;
    $("ex-run").disabled = true; $("ex-cancel").hidden = false;
    pollExploration();
  } catch (e) { $("ex-error").textContent = e.message; }
});

async function pollExploration() {
  const job = await api("GET", `/api/explorations/${state.exId}`);
  const bar = $("ex-bar"); bar.max = Math.max(job.total, 1); bar.value = job.done;
  const rate = job.rate ? `, ${Math.round(job.rate)} experiments/s` : "";
  $("ex-status").textContent = `${job.status}: ${job.done} / ${job.total} experiments` +
    `, ${job.failed} failed${rate}`;
  if (ACTIVE.includes(job.status)) { setTimeout(pollExploration, 300); return; }
  $("ex-run").disabled = false; $("ex-cancel").hidden = true;
  if (job.status === "failed") { $("ex-error").textContent = job.error; return; }
  if (job.status === "cancelled") return;
  await loadAnalysis();
}

async function loadAnalysis(outcome) {
  const q = new URLSearchParams({ sense: $("ex-sense").value });
  if (outcome) q.set("outcome", outcome);
  let a;
  try { a = await api("GET", `/api/explorations/${state.exId}/analysis?${q}`); }
  catch (e) { $("ex-error").textContent = e.message; return; }
  $("ex-result").hidden = false;
  const sel = $("ex-outcome");
  if (sel.options.length !== a.outcomes.length) {
    sel.replaceChildren(...a.outcomes.map((o) => el("option", { value: o, text: o })));
  }
  sel.value = a.outcome;
  recordsTable($("table-ex-summary"), a.summary);
  const s = a.sensitivity;
  if (s && !s.error) { $("ex-sens-msg").textContent = `${s.method} indices with confidence intervals`; Plotly.react("plot-tornado", s.figure.data, s.figure.layout, PLOT_CFG); }
  else { $("ex-sens-msg").textContent = s ? s.error : ""; Plotly.purge("plot-tornado"); }
  const p = a.prim;
  const warn = $("ex-prim-warn"); warn.replaceChildren(); warn.hidden = true;
  if (p && !p.error) {
    $("ex-prim-msg").textContent = `${p.label}: box ${p.box}, ` +
      `coverage ${fixed(p.coverage, 2)}, density ${fixed(p.density, 2)}, mass ${fixed(p.mass, 2)} ` +
      `(${p.n_points} points; quasi-p: the restriction's one-sided binomial test, ` +
      `stability: share of ${p.resamples} bootstrap resamples restricting it)`;
    Plotly.react("plot-prim", p.figure.data, p.figure.layout, PLOT_CFG);
    recordsTable($("table-prim"), p.limits);
    if (p.warnings && p.warnings.length) {
      warn.hidden = false;
      warn.append(el("b", { text: "Handle with care: " }), ...p.warnings.map((w) => el("span", { text: w + " " })));
    }
  } else { $("ex-prim-msg").textContent = p ? p.error : ""; }
  const r = a.robustness;
  if (r && !r.error) {
    const name = (x) => (x === "none" ? "no lever (none)" : x);
    const regret = `largest regret ${fmtNumber(r.max_regret)}`;
    $("ex-rob-msg").textContent = r.all_tie
      ? `all ${r.tied.length} policies tie (${regret}): no lever changes this outcome`
      : r.tied.length > 1
        ? `most robust (minimax regret): a tie between ${r.tied.map(name).join(", ")} (${regret})`
        : `most robust (minimax regret): ${name(r.most_robust)} (${regret})`;
    recordsTable($("table-robust"), r.summary);
    recordsTable($("table-robust-box"), r.failure_box ? r.failure_box.limits : []);
  } else {
    $("ex-rob-msg").textContent = r ? r.error : "choose at least one lever to compare policies by regret";
    $("table-robust").replaceChildren(); $("table-robust-box").replaceChildren();
  }
}
$("ex-outcome").addEventListener("change", () => loadAnalysis($("ex-outcome").value));
$("ex-sense").addEventListener("change", () => loadAnalysis($("ex-outcome").value));

// -- report ---------------------------------------------------------------------------------
$("rp-run").addEventListener("click", async () => {
  if (!state.name) { $("rp-error").textContent = "open a case first"; return; }
  $("rp-error").textContent = ""; $("rp-files").replaceChildren(); $("rp-frame").hidden = true;
  const body = { case: state.name, draws: Number($("rp-draws").value), seed: Number($("rp-seed").value || 0),
    interventions: [...checked("rp", "shocks"), ...checked("rp", "levers")] };
  try {
    const job = await api("POST", "/api/runs", body);
    state.runId = job.id; $("rp-run").disabled = true; $("rp-cancel").hidden = false; pollRun();
  } catch (e) { $("rp-error").textContent = e.message; }
});

async function pollRun() {
  const job = await api("GET", `/api/runs/${state.runId}`);
  const stage = job.status === "running" && job.stage && job.stage !== "done" ? `: ${job.stage}` : "";
  $("rp-status").textContent = `${job.status}${stage}` + (job.total ? ` ${job.done}/${job.total}` : "");
  if (ACTIVE.includes(job.status)) { setTimeout(pollRun, 400); return; }
  $("rp-run").disabled = false; $("rp-cancel").hidden = true;
  if (job.status === "failed") { $("rp-error").textContent = job.error; return; }
  if (job.status === "cancelled") return;
  const base = `/api/runs/${job.id}/files/`;
  const ul = $("rp-files"); ul.replaceChildren();
  for (const f of job.files) {
    ul.append(el("li", {}, el("a", { href: base + f.name, target: "_blank", text: f.name }), " ",
      el("a", { href: base + f.name + "?download=true", download: f.name, class: "download", text: "download" }),
      el("span", { class: "muted", text: ` ${f.description} (${sizeText(f.bytes)})` })));
  }
  const frame = $("rp-frame"); frame.src = base + "report.html"; frame.hidden = false;
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  const kb = bytes / 1024;
  return kb < 1024 ? `${fmtNumber(kb)} KB` : `${fmtNumber(kb / 1024)} MB`;
}

// -- start ----------------------------------------------------------------------------------
(async function init() {
  state.info = await api("GET", "/api/info");
  const m = $("fc-model");
  for (const name of state.info.models) m.append(el("option", { value: name, text: name }));
  const s = $("ex-sampler");
  for (const name of state.info.samplers) s.append(el("option", { value: name, text: name }));
  await refreshCases();
  if (state.info.initial_case) showCase(await api("GET", `/api/cases/${state.info.initial_case}`));
  document.body.dataset.ready = "1";
})();

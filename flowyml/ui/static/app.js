// flowyml dashboard: renders the page named by <body data-page>, starting from the API answer the
// server put inline (#initial), then keeps it fresh by polling the same JSON API.
// No framework, no network beyond this server: the graph layout is dagre (static/vendor).
"use strict";

(function () {
  const POLL_LIST_MS = 2000;
  const POLL_RUN_MS = 1000;
  const main = document.getElementById("main");
  const initial = JSON.parse(document.getElementById("initial").textContent);

  // -- small helpers ----------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  async function api(path) {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    const body = await response.json();
    if (!response.ok) throw Object.assign(new Error(body.error || response.statusText), { hint: body.hint });
    return body;
  }

  function seconds(value) {
    if (value === null || value === undefined) return "–";
    if (value < 1) return `${Math.round(value * 1000)} ms`;
    if (value < 120) return `${value.toFixed(2)} s`;
    const m = Math.floor(value / 60);
    return `${m} min ${Math.round(value - m * 60)} s`;
  }

  function usd(text, suffix) {
    if (text === null || text === undefined) return "not priced";
    const n = Number(text);
    let out;
    if (n === 0) out = "$0.00";
    else if (Math.abs(n) < 0.01) out = "$" + n.toPrecision(2);
    else out = "$" + n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return out + (suffix || "");
  }

  function when(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function badge(status) {
    return el("span", { class: `badge status-${status}`, "data-status": status }, status);
  }

  function params(obj) {
    const entries = Object.entries(obj || {});
    if (!entries.length) return el("span", { class: "muted" }, "–");
    return el("span", { class: "params" }, entries.map(([k, v]) => el("code", {}, `${k}=${JSON.stringify(v)}`)));
  }

  function errorBox(err) {
    return el("div", { class: "error" }, el("strong", {}, err.message || err.error), err.hint ? el("div", {}, "To fix: " + err.hint) : null);
  }

  function json(value) {
    return el("pre", { class: "json" }, JSON.stringify(value, null, 2));
  }

  function replace(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  }

  function fromInitial() {
    if (initial.error) return { error: initial };
    return { data: initial.data };
  }

  // -- runs list -------------------------------------------------------------------------------

  function runsPage() {
    const query = new URLSearchParams(location.search);
    const state = {
      pipeline: query.get("pipeline") || "",
      status: query.get("status") || "",
      stack: query.get("stack") || "",
      offset: Number(query.get("offset") || 0),
      limit: Number(query.get("limit") || 50),
      picked: [],
    };
    const filters = el("form", { class: "filters", onsubmit: (e) => e.preventDefault() });
    const table = el("div", { class: "table-wrap" });
    const pager = el("div", { class: "pager" });
    const compareBar = el("div", { class: "compare-bar" });
    replace(main, el("h1", {}, "Runs"), filters, compareBar, table, pager);

    function select(name, label, values) {
      const node = el("select", { name, "aria-label": label, onchange: () => { state[name] = node.value; state.offset = 0; refresh(); } },
        el("option", { value: "" }, `any ${label}`),
        values.map((v) => el("option", { value: v, selected: v === state[name] }, v)));
      return el("label", {}, node);
    }

    function pushUrl() {
      const q = new URLSearchParams();
      for (const key of ["pipeline", "status", "stack"]) if (state[key]) q.set(key, state[key]);
      if (state.offset) q.set("offset", state.offset);
      history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
    }

    function drawCompare() {
      const [a, b] = state.picked;
      replace(compareBar,
        el("span", { class: "muted" }, state.picked.length ? `${state.picked.length} of 2 runs picked to compare` : "Tick two runs of one pipeline to compare them."),
        state.picked.length === 2 ? el("a", { class: "button", href: `/compare?a=${a}&b=${b}`, id: "compare-link" }, "Compare") : null);
    }

    function draw(data) {
      replace(filters,
        select("pipeline", "pipeline", data.choices.pipelines),
        select("status", "status", data.choices.statuses),
        select("stack", "stack", data.choices.stacks));
      if (!data.runs.length) {
        replace(table, el("p", { class: "muted" }, data.total === 0 && !state.pipeline && !state.status && !state.stack
          ? "No runs recorded yet. Run one with `flowyml run FILE`: it appears here as it starts."
          : "No runs match these filters."));
      } else {
        replace(table, el("table", { class: "runs" },
          el("thead", {}, el("tr", {}, ["", "Run", "Pipeline", "Status", "Started", "Duration", "Stack", "Parameters", "Steps", "Cost"].map((h) => el("th", {}, h)))),
          el("tbody", {}, data.runs.map((run) => el("tr", { "data-run": run.run_id, "data-status": run.status },
            el("td", {}, el("input", { type: "checkbox", "aria-label": "pick to compare", checked: state.picked.includes(run.run_id), onchange: (e) => {
              state.picked = e.target.checked ? [...state.picked, run.run_id].slice(-2) : state.picked.filter((r) => r !== run.run_id);
              drawCompare();
            } })),
            el("td", {}, el("a", { href: `/runs/${run.run_id}`, class: "mono" }, run.run_id.slice(0, 12))),
            el("td", {}, run.pipeline),
            el("td", {}, badge(run.status)),
            el("td", { class: "nowrap" }, when(run.started_at)),
            el("td", { class: "num" }, seconds(run.duration_seconds)),
            el("td", {}, run.stack || "–"),
            el("td", {}, params(run.params)),
            el("td", {}, Object.entries(run.steps).map(([s, n]) => el("span", { class: `count status-${s}`, title: s }, n))),
            el("td", { class: "num" }, usd(run.estimated_cost_usd) + (run.unpriced_steps ? ` (+${run.unpriced_steps} not priced)` : "")))))));
      }
      const first = data.total ? data.offset + 1 : 0;
      const last = data.offset + data.runs.length;
      replace(pager,
        el("button", { disabled: data.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); refresh(); } }, "← Newer"),
        el("span", { class: "muted", id: "range" }, `${first}–${last} of ${data.total.toLocaleString("en-US")}`),
        el("button", { disabled: last >= data.total, onclick: () => { state.offset += state.limit; refresh(); } }, "Older →"));
      drawCompare();
    }

    async function refresh() {
      pushUrl();
      const q = new URLSearchParams({ limit: state.limit, offset: state.offset });
      for (const key of ["pipeline", "status", "stack"]) if (state[key]) q.set(key, state[key]);
      try { draw(await api("/api/runs?" + q)); } catch (err) { replace(table, errorBox(err)); }
    }

    const first = fromInitial();
    if (first.error) replace(table, errorBox(first.error)); else draw(first.data);
    setInterval(() => { if (!document.hidden && !document.activeElement.matches("select")) refresh(); }, POLL_LIST_MS);
  }

  // -- one run ---------------------------------------------------------------------------------

  function drawGraph(container, graph, selected, onPick) {
    const key = graph.nodes.map((n) => n.id).join("\n") + "|" + graph.edges.map((e) => e.source + ">" + e.target).join(",");
    if (container.dataset.key === key) {
      // Same DAG: only statuses change; keep the layout (no jumping while a run goes on).
      for (const n of graph.nodes) {
        const g = container.querySelector(`g.node[data-step="${CSS.escape(n.id)}"]`);
        if (g) {
          g.setAttribute("class", `node status-${n.status}` + (n.id === selected ? " selected" : ""));
          g.dataset.status = n.status;
          g.querySelector("text.sub").textContent = subLabel(n);
        }
      }
      return;
    }
    container.dataset.key = key;
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 56, marginx: 12, marginy: 12 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of graph.nodes) g.setNode(n.id, { width: Math.max(170, 8 * n.id.length + 28), height: 46 });
    for (const e of graph.edges) g.setEdge(e.source, e.target);
    dagre.layout(g);
    const { width, height } = g.graph();
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "dag", role: "img", "aria-label": "pipeline graph" });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }));
    defs.append(marker);
    root.append(defs);
    for (const e of g.edges()) {
      const pts = g.edge(e).points;
      const d = "M" + pts.map((p) => `${p.x},${p.y}`).join(" L");
      root.append(svg("path", { d, class: "edge", "marker-end": "url(#arrow)", "data-edge": `${e.v}>${e.w}` }));
    }
    for (const n of graph.nodes) {
      const box = g.node(n.id);
      const group = svg("g", { class: `node status-${n.status}` + (n.id === selected ? " selected" : ""), "data-step": n.id, "data-status": n.status, transform: `translate(${box.x - box.width / 2},${box.y - box.height / 2})`, tabindex: 0 });
      group.append(svg("rect", { width: box.width, height: box.height, rx: 8 }));
      const title = svg("text", { x: 12, y: 19, class: "name" });
      title.textContent = n.id;
      const sub = svg("text", { x: 12, y: 36, class: "sub" });
      sub.textContent = subLabel(n);
      group.append(title, sub);
      group.addEventListener("click", () => onPick(n.id));
      group.addEventListener("keydown", (ev) => { if (ev.key === "Enter") onPick(n.id); });
      root.append(group);
    }
    replace(container, root);
  }

  function subLabel(n) {
    return n.status + (n.duration_seconds !== null && n.duration_seconds !== undefined ? " · " + seconds(n.duration_seconds) : "");
  }

  function legend() {
    return el("div", { class: "legend" }, ["completed", "cached", "running", "failed", "skipped", "pending", "cancelled"].map((s) => el("span", { class: `swatch status-${s}` }, s)));
  }

  function runPage() {
    const runId = initial.params.run_id;
    const head = el("section", { class: "run-head" });
    const graphBox = el("div", { class: "graph", id: "graph" });
    const stepsBox = el("div", { class: "table-wrap" });
    const panel = el("aside", { class: "panel", id: "step-panel" }, el("p", { class: "muted" }, "Click a step in the graph to see its details, outputs and logs."));
    replace(main, head, el("div", { class: "run-body" }, el("div", { class: "left" }, el("h2", {}, "Graph"), legend(), graphBox, el("h2", {}, "Steps"), stepsBox), panel));
    let selected = new URLSearchParams(location.search).get("step");
    let previous; // the run of the same pipeline started just before this one (undefined: not looked up yet)
    let latest = null;
    let timer = null;

    function drawHead(run) {
      replace(head,
        el("h1", {}, `Run `, el("span", { class: "mono" }, run.run_id.slice(0, 12)), " ", badge(run.status)),
        el("dl", { class: "facts" },
          fact("Pipeline", el("a", { href: `/?pipeline=${encodeURIComponent(run.pipeline)}` }, run.pipeline)),
          fact("Stack", run.stack || "–"),
          fact("Started", when(run.started_at)),
          fact("Duration", seconds(run.duration_seconds)),
          fact("Estimated cost", el("span", { id: "run-cost" }, usd(run.estimated_cost_usd) + (run.unpriced_steps ? ` (+${run.unpriced_steps} step(s) not priced)` : ""))),
          fact("Parameters", params(run.params)),
          fact("Run id", el("span", { class: "mono" }, run.run_id)),
          fact("Compare", el("span", { id: "compare-previous", class: "muted" }, previous === undefined ? "…" : previous
            ? el("a", { href: `/compare?a=${previous}&b=${run.run_id}` }, `with the previous run of ${run.pipeline} (${previous.slice(0, 12)})`)
            : "no earlier run of this pipeline"))),
        run.error ? el("div", { class: "error" }, run.error) : null);
    }

    function drawSteps(run) {
      replace(stepsBox, el("table", { class: "steps" },
        el("thead", {}, el("tr", {}, ["Step", "Status", "Duration", "Attempts", "Cached", "Executor", "Cost"].map((h) => el("th", {}, h)))),
        el("tbody", {}, run.steps.map((s) => el("tr", { "data-step": s.name, class: s.name === selected ? "selected" : "", onclick: () => pick(s.name) },
          el("td", {}, el("a", { href: `?step=${encodeURIComponent(s.name)}`, onclick: (e) => { e.preventDefault(); pick(s.name); } }, s.name)),
          el("td", {}, badge(s.status)),
          el("td", { class: "num" }, seconds(s.duration_seconds)),
          el("td", { class: "num" }, s.attempts),
          el("td", {}, s.cached ? "yes" : "no"),
          el("td", {}, s.executor || "–"),
          el("td", { class: "num" }, usd(s.estimated_cost_usd)))))));
    }

    function draw(run) {
      latest = run;
      drawHead(run);
      drawGraph(graphBox, run.graph, selected, pick);
      drawSteps(run);
      if (selected) drawPanel(run, selected, false);
    }

    function pick(name) {
      selected = name;
      history.replaceState(null, "", `${location.pathname}?step=${encodeURIComponent(name)}`);
      if (latest) { drawGraph(graphBox, latest.graph, selected, pick); drawSteps(latest); drawPanel(latest, name, true); }
    }

    let panelFor = null;
    let panelStatus = null;
    function drawPanel(run, name, force) {
      const step = run.steps.find((s) => s.name === name);
      if (!step) return;
      if (!force && panelFor === name && panelStatus === step.status) return;
      panelFor = name;
      panelStatus = step.status;
      const tabs = el("div", { class: "tabs", role: "tablist" });
      const body = el("div", { class: "tab-body" });
      const show = (which) => {
        for (const b of tabs.children) b.classList.toggle("active", b.dataset.tab === which);
        if (which === "outputs" || which === "inputs") loadArtifacts(step, which, body);
        else if (which === "logs") loadLogs(step, body);
        else replace(body, el("pre", { class: "traceback", id: "traceback" }, step.error || "No error."));
      };
      const names = ["outputs", "inputs", "logs"].concat(step.error ? ["traceback"] : []);
      for (const t of names) tabs.append(el("button", { type: "button", role: "tab", "data-tab": t, onclick: () => show(t) }, t[0].toUpperCase() + t.slice(1)));
      const details = Object.entries(step.details || {});
      replace(panel,
        el("h2", {}, step.name, " ", badge(step.status)),
        el("dl", { class: "facts" },
          fact("Duration", seconds(step.duration_seconds)),
          fact("Attempts", step.attempts),
          fact("Cached", step.cached ? "yes (outputs reused)" : "no"),
          fact("Cache key", step.cache_key ? el("code", { class: "mono small" }, step.cache_key) : "–"),
          fact("Stack", step.stack || "–"),
          fact("Executor", step.executor || "–"),
          fact("Resources", step.resources ? params(step.resources) : "–"),
          fact("Cost", usd(step.estimated_cost_usd)),
          fact("Upstream", step.upstream.length ? step.upstream.join(", ") : "–"),
          details.map(([k, v]) => fact(k, typeof v === "string" && /^https?:\/\//.test(v) ? el("a", { href: v, target: "_blank", rel: "noopener" }, v) : String(v)))),
        tabs, body);
      show(step.error ? "traceback" : "outputs");
    }

    async function loadArtifacts(step, side, body) {
      replace(body, el("p", { class: "muted" }, "Loading…"));
      try {
        const data = await api(`/api/runs/${runId}/steps/${encodeURIComponent(step.name)}`);
        const items = Object.entries(data[side]);
        if (!items.length) { replace(body, el("p", { class: "muted" }, `No ${side}.`)); return; }
        replace(body, items.map(([name, a]) => artifactCard(name, a)));
      } catch (err) { replace(body, errorBox(err)); }
    }

    async function loadLogs(step, body) {
      replace(body, el("p", { class: "muted" }, "Loading…"));
      try {
        const data = await api(`/api/runs/${runId}/steps/${encodeURIComponent(step.name)}/logs`);
        if (data.text === null || data.text === undefined) { replace(body, el("p", { class: "muted", id: "log" }, data.note || data.error)); return; }
        replace(body, data.truncated ? el("p", { class: "muted" }, `Last ${data.text.length} characters of ${data.size} bytes.`) : null,
          el("pre", { class: "log", id: "log" }, data.text || "(the step printed nothing)"));
      } catch (err) { replace(body, errorBox(err)); }
    }

    async function poll() {
      try { draw(await api(`/api/runs/${runId}`)); } catch (err) { /* keep the last view */ }
      schedule();
    }
    function schedule() {
      clearTimeout(timer);
      const live = latest && (latest.status === "running" || latest.steps.some((s) => s.status === "running" || s.status === "pending"));
      timer = setTimeout(poll, live ? POLL_RUN_MS : POLL_RUN_MS * 5);
    }

    async function findPrevious(run) {
      try {
        const q = new URLSearchParams({ pipeline: run.pipeline, limit: 200 });
        const page = await api("/api/runs?" + q);
        const at = page.runs.findIndex((r) => r.run_id === run.run_id);
        previous = at >= 0 && at + 1 < page.runs.length ? page.runs[at + 1].run_id : null;
      } catch (err) { previous = null; }
      drawHead(latest || run);
    }

    const first = fromInitial();
    if (first.error) replace(main, errorBox(first.error));
    else { draw(first.data); schedule(); findPrevious(first.data); }
  }

  function fact(label, value) {
    return [el("dt", {}, label), el("dd", {}, value)];
  }

  function artifactCard(name, a) {
    const p = a.preview || {};
    let view;
    if (p.kind === "value") view = json(p.value);
    else if (p.kind === "text") view = el("pre", { class: "json" }, p.text + (p.truncated ? "\n…" : ""));
    else if (p.kind === "dataframe") {
      view = el("div", {},
        el("p", { class: "shape" }, `DataFrame ${p.shape[0]} rows × ${p.shape[1]} columns`),
        el("table", { class: "frame" },
          el("thead", {}, el("tr", {}, p.columns.map((c) => el("th", { title: p.dtypes[c] }, c)))),
          el("tbody", {}, p.head.map((row) => el("tr", {}, row.map((v) => el("td", {}, v === null ? "null" : String(v))))))));
    } else if (p.kind === "array") {
      view = el("div", {}, el("p", { class: "shape" }, `array shape (${p.shape.join(", ")}) dtype ${p.dtype}`), p.values !== undefined ? json(p.values) : null);
    } else if (p.kind === "error") view = el("div", { class: "error" }, p.error);
    else view = el("p", { class: "muted" }, p.note || "");
    return el("div", { class: "artifact", "data-artifact": name },
      el("div", { class: "artifact-head" }, el("strong", {}, name), " ", el("span", { class: "muted" }, `${a.type} · ${a.materializer} · ${a.size.toLocaleString("en-US")} bytes`),
        " ", el("a", { href: `/api/artifacts/${a.id}/download`, download: "", class: "download" }, "download")),
      view);
  }

  // -- compare ---------------------------------------------------------------------------------

  function comparePage() {
    const first = fromInitial();
    if (first.error) { replace(main, el("h1", {}, "Compare runs"), errorBox(first.error)); return; }
    const c = first.data;
    const col = (r) => el("th", {}, el("a", { href: `/runs/${r.run_id}`, class: "mono" }, r.run_id.slice(0, 12)), " ", badge(r.status));
    const val = (v) => (v === undefined ? el("span", { class: "muted" }, "–") : el("code", {}, JSON.stringify(v)));
    replace(main,
      el("h1", {}, "Compare runs of ", c.pipeline),
      el("table", { class: "compare" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), col(c.a), col(c.b))),
        el("tbody", {},
          el("tr", {}, el("td", {}, "Started"), el("td", {}, when(c.a.started_at)), el("td", {}, when(c.b.started_at))),
          el("tr", {}, el("td", {}, "Duration"), el("td", {}, seconds(c.a.duration_seconds)), el("td", {}, seconds(c.b.duration_seconds))),
          el("tr", {}, el("td", {}, "Estimated cost"), el("td", {}, usd(c.a.estimated_cost_usd)), el("td", {}, usd(c.b.estimated_cost_usd))),
          el("tr", {}, el("td", {}, "Stack"), el("td", {}, c.a.stack || "–"), el("td", {}, c.b.stack || "–")))),
      el("h2", {}, "Parameters"),
      c.params.length ? el("table", { class: "compare" }, el("thead", {}, el("tr", {}, el("th", {}, "Parameter"), el("th", {}, "A"), el("th", {}, "B"))), el("tbody", {}, c.params.map((p) => el("tr", { class: p.same ? "" : "differs" }, el("td", {}, p.name), el("td", {}, val(p.a)), el("td", {}, val(p.b)))))) : el("p", { class: "muted" }, "No parameters."),
      el("h2", {}, "Steps"),
      el("table", { class: "compare" },
        el("thead", {}, el("tr", {}, ["Step", "A: status", "A: duration", "A: cost", "B: status", "B: duration", "B: cost", "Outputs"].map((h) => el("th", {}, h)))),
        el("tbody", {}, c.steps.map((s) => el("tr", {},
          el("td", {}, s.name),
          ...side(s.a), ...side(s.b),
          el("td", {}, s.outputs.map((o) => el("span", { class: o.same ? "same" : "differs", title: o.same ? "same content" : "content differs" }, o.name + (o.same ? " =" : " ≠")))))))));
    function side(x) {
      if (!x) return [el("td", { class: "muted" }, "–"), el("td", {}), el("td", {})];
      return [el("td", {}, badge(x.status)), el("td", { class: "num" }, seconds(x.duration_seconds)), el("td", { class: "num" }, usd(x.estimated_cost_usd))];
    }
  }

  // -- stacks ----------------------------------------------------------------------------------

  function stacksPage() {
    const first = fromInitial();
    if (first.error) { replace(main, el("h1", {}, "Stacks"), errorBox(first.error)); return; }
    const data = first.data;
    replace(main, el("h1", {}, "Stacks"),
      el("table", { class: "stacks" },
        el("thead", {}, el("tr", {}, ["Name", "Type", "Active", "Provisioned", "Components", "Declared in"].map((h) => el("th", {}, h)))),
        el("tbody", {}, data.stacks.map((s) => el("tr", { "data-stack": s.name },
          el("td", {}, el("a", { href: `/stacks/${encodeURIComponent(s.name)}` }, s.name)),
          el("td", {}, s.type || "?"),
          el("td", {}, s.active ? "yes" : ""),
          el("td", {}, s.provisioned === null ? "?" : s.provisioned ? "yes" : "no"),
          el("td", {}, s.error ? el("span", { class: "error-inline" }, s.error) : s.components.map((c) => el("span", { class: "chip" }, `${c.role.replace("_", " ")}: ${c.kind}`))),
          el("td", { class: "muted" }, s.source))))));
  }

  function stackPage() {
    const first = fromInitial();
    const name = initial.params.name;
    if (first.error) { replace(main, el("h1", {}, "Stack ", name), errorBox(first.error)); return; }
    const s = first.data;
    const planBox = el("div", { id: "plan" });
    replace(main,
      el("h1", {}, "Stack ", s.name, " ", el("span", { class: "chip" }, s.type), s.active ? el("span", { class: "chip" }, "active") : null),
      el("dl", { class: "facts" },
        fact("Provisioned", s.provisioned ? "yes" : "no"),
        fact("Components", s.components.map((c) => el("span", { class: "chip" }, `${c.role.replace("_", " ")}: ${c.kind}`)))),
      el("h2", {}, "Plan (offline preview) with monthly cost"),
      planBox,
      el("h2", {}, "Recorded outputs"),
      s.outputs ? el("table", { class: "kv" }, el("tbody", {}, Object.entries(s.outputs).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, el("code", {}, typeof v === "string" ? v : JSON.stringify(v)))))))
        : el("p", { class: "muted" }, s.outputs_error || (s.provisioned ? "Nothing to record: this stack needs no provisioning." : `None: run \`flowyml stack up ${s.name}\`.`)),
      el("h2", {}, "Declaration"),
      json(s.declaration));
    loadPlan(false);

    async function loadPlan(refresh) {
      replace(planBox, el("p", { class: "muted" }, "Planning… (the program runs under Pulumi's mocks; no cloud is contacted)"));
      try {
        drawPlan(await api(`/api/stacks/${encodeURIComponent(name)}/plan` + (refresh ? "?refresh=1" : "")));
      } catch (err) { replace(planBox, errorBox(err)); }
    }

    function drawPlan(p) {
      const c = p.costs;
      const sum = p.plan.summary;
      const money = (cost) => (cost === null ? "–" : !cost.priced ? "not priced"
        : usd(cost.monthly, "/mo") + (Object.keys(cost.usage_rates || {}).length ? " + usage" : ""));
      replace(planBox,
        el("div", { class: "plan-total", id: "plan-total" },
          el("span", {}, "Monthly: "), el("strong", {}, usd(c.baseline_monthly, "/mo")), " → ", el("strong", { id: "plan-new" }, usd(c.new_monthly, "/mo")),
          el("span", { class: Number(c.delta_monthly) > 0 ? "delta up" : "delta" }, ` (${Number(c.delta_monthly) >= 0 ? "+" : ""}${usd(c.delta_monthly, "/mo")})`),
          c.not_priced_count ? el("span", { class: "muted" }, ` · ${c.not_priced_count} not priced`) : null),
        el("p", { class: "muted" }, `${sum.create} to create, ${sum.update} to update, ${sum.replace} to replace, ${sum.delete} to delete, ${sum.same} unchanged · engine ${p.plan.engine} · planned ${when(p.planned_at)} `,
          el("button", { type: "button", onclick: () => loadPlan(true) }, "Plan again")),
        el("table", { class: "plan" },
          el("thead", {}, el("tr", {}, ["", "Action", "Type", "Name", "Before", "After"].map((h) => el("th", {}, h)))),
          el("tbody", {}, p.plan.resource_changes.map((r) => el("tr", { class: `action-${r.actions.join("-")}` },
            el("td", { class: "mono" }, symbol(r.actions)),
            el("td", {}, verb(r.actions), r.data_bearing && r.actions.includes("delete") ? el("span", { class: "error-inline" }, " data is lost") : null),
            el("td", { class: "mono small" }, r.type),
            el("td", {}, r.name),
            el("td", { class: "num" }, money(r.cost_before)),
            el("td", { class: "num" }, money(r.cost_after)))))),
        p.plan.diagnostics.length ? el("ul", { class: "notes" }, p.plan.diagnostics.map((d) => el("li", { class: "muted" }, d))) : null,
        el("details", {}, el("summary", {}, "As the terminal shows it"), el("pre", { class: "log" }, p.text)));
    }
  }

  function symbol(actions) {
    const a = actions.join(",");
    return { create: "+", update: "~", delete: "-", "delete,create": "-/+", "create,delete": "+/-", read: "<=", "no-op": " " }[a] || a;
  }
  function verb(actions) {
    if (actions.includes("delete") && actions.includes("create")) return "replace";
    return actions[0];
  }

  const pages = { runs: runsPage, run: runPage, compare: comparePage, stacks: stacksPage, stack: stackPage };
  (pages[document.body.dataset.page] || runsPage)();
})();

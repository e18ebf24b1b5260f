// The dashboard page: renders each View the server streams (server-sent events) into the
// tables, charts and lists. Every value is set as text, never as HTML.
"use strict";

const token = document.querySelector('meta[name="ipcluster-token"]').content;
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "title" || k === "scope") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c === null || c === undefined ? "" : c);
  return e;
}

const unknown = (v) => (v === null || v === undefined ? "?" : String(v));

function age(seconds) {
  if (seconds === null || seconds === undefined) return "?";
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + "s";
  if (seconds < 3600) return Math.floor(seconds / 60) + "m" + String(Math.floor(seconds % 60)).padStart(2, "0");
  return Math.floor(seconds / 3600) + "h" + String(Math.floor((seconds % 3600) / 60)).padStart(2, "0");
}

async function act(name, body, question) {
  if (!window.confirm(question)) return;
  try {
    const r = await fetch("/api/actions/" + name, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Ipcluster-Token": token },
      body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (!r.ok) window.alert(name + " failed: " + (j.error || r.status));
  } catch (e) {
    window.alert(name + " failed: " + e);
  }
}

function renderHeader(v) {
  const c = v.cluster;
  $("cluster-name").textContent = (v.cluster_id || "''") + " (profile " + v.profile + ")";
  const engines = v.engines.filter((e) => e.state !== "lost" && e.state !== "stopped").length;
  const lost = v.engines.filter((e) => e.state === "lost").length;
  const parts = [];
  parts.push("controller: " + (v.controller.connected ? (c ? c.controller : "connected") : "not reachable"));
  parts.push("engines: " + engines + (c ? "/" + c.engines_requested : "") + (lost ? ", " + lost + " lost" : ""));
  if (c) parts.push("launcher: " + c.launcher);
  parts.push("tasks: " + v.queue.unassigned + " unassigned, " + v.queue.assigned + " assigned, " + v.queue.completed + " done");
  if (v.read_only) parts.push("read-only");
  $("summary").textContent = parts.join(" · ");
  const errs = (v.errors || []).concat(v.controller.error ? [v.controller.error] : []);
  $("errors").hidden = errs.length === 0;
  $("errors").textContent = errs.join("; ");

  const box = $("cluster-actions");
  box.replaceChildren();
  if (v.actions.includes("scale")) {
    const n = el("input", { type: "number", min: 0, value: engines, id: "scale-n", "aria-label": "number of engines" });
    box.append(el("label", { htmlFor: "scale-n" }, "engines "), n,
      el("button", { type: "button", onclick: () => act("scale", { n: Number(n.value) }, "Scale the cluster to " + n.value + " engines?") }, "scale"));
  }
  if (v.actions.includes("stop-cluster")) {
    box.append(el("button", { type: "button", class: "danger",
      onclick: () => act("stop-cluster", {}, "Stop the whole cluster (controller, engines and jobs)?") }, "stop cluster"));
  }
}

function renderEngines(v) {
  const canStop = v.actions.includes("stop-engines"), canRestart = v.actions.includes("restart-engines");
  const rows = v.engines.map((e) => {
    const live = e.state !== "lost" && e.state !== "stopped";
    const buttons = el("td", { class: "acts" });
    if (live && canStop) buttons.append(el("button", { type: "button", onclick: () => act("stop-engines", { engines: [e.id] }, "Stop engine " + e.id + "? It will not be replaced.") }, "stop"));
    if (canRestart && e.state !== "stopped") buttons.append(el("button", { type: "button", onclick: () => act("restart-engines", { engines: [e.id] }, "Restart engine " + e.id + "?") }, "restart"));
    const state = el("td", { class: "state", title: e.detail || null }, e.state);
    if (e.detail) state.append(el("span", { class: "detail" }, " (" + e.detail + ")"));
    return el("tr", { class: "engine state-" + e.state, "data-engine-id": e.id, "data-state": e.state },
      el("th", { scope: "row" }, String(e.id)), state, el("td", {}, unknown(e.kind)), el("td", {}, unknown(e.host)),
      el("td", {}, unknown(e.pid)), el("td", {}, age(e.heartbeat_age)), el("td", {}, e.running + "/" + e.queued),
      el("td", {}, String(e.completed)), el("td", {}, unknown(e.failed)), el("td", {}, e.job || ""),
      el("td", { class: "task" }, e.current_task || ""), buttons);
  });
  $("engines").tBodies[0].replaceChildren(...rows);
}

function renderJobs(v) {
  const rows = v.jobs.map((j) =>
    el("tr", { class: "job", "data-job-id": j.id, "data-phase": j.phase },
      el("th", { scope: "row" }, j.id), el("td", {}, j.role), el("td", { class: "state" }, j.state + (j.phase && j.phase.toLowerCase() !== j.state.toLowerCase() ? " (" + j.phase + ")" : "")),
      el("td", {}, j.reason || j.cause || ""), el("td", {}, unknown(j.elapsed)), el("td", {}, unknown(j.time_left)),
      el("td", {}, j.hosts.join(" ")), el("td", {}, j.engines.join(" "))));
  $("jobs").tBodies[0].replaceChildren(...rows);
  $("no-jobs").hidden = v.jobs.length > 0;
  $("jobs").hidden = v.jobs.length === 0;
}

// chart draws one series of the history as a line over the window; the caption (and the
// SVG's label, for screen readers) says the latest value and the peak.
function chart(svg, cap, label, v, value) {
  const W = 300, H = 90, pad = 12;
  // The span is the history there is (at least a minute), up to the window kept.
  const end = Date.parse(v.time), first = v.history.length ? Date.parse(v.history[0].t) : end;
  const window = Math.min(v.config.window_s * 1000, Math.max(60000, end - first));
  const pts = v.history.map((s) => [Date.parse(s.t), value(s)]).filter(([t]) => end - t <= window);
  const peak = Math.max(1, ...pts.map(([, y]) => y));
  const xy = ([t, y]) => [W - ((end - t) / window) * W, H - pad - (y / peak) * (H - 2 * pad)];
  const ns = "http://www.w3.org/2000/svg";
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", pts.map((p) => xy(p).map((n) => n.toFixed(1)).join(",")).join(" "));
  line.setAttribute("class", "series");
  const base = document.createElementNS(ns, "line");
  Object.entries({ x1: 0, x2: W, y1: H - pad, y2: H - pad, class: "axis" }).forEach(([k, n]) => base.setAttribute(k, n));
  svg.replaceChildren(base, line);
  const fmt = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
  const now = pts.length ? pts[pts.length - 1][1] : 0;
  const span = window >= 120000 ? Math.round(window / 60000) + " min" : Math.round(window / 1000) + " s";
  const text = label + ": " + fmt(now) + " now, peak " + fmt(Math.max(0, ...pts.map(([, y]) => y))) + " (last " + span + ")";
  svg.setAttribute("aria-label", text);
  cap.textContent = text;
}

// renderSets shows the engine-pool supervisor's sets and history, when the cluster has one.
function renderSets(v) {
  const c = v.cluster || {};
  const sets = c.sets || [];
  $("sets-section").hidden = !c.supervisor && sets.length === 0;
  const sup = [];
  if (c.supervisor) sup.push("supervisor: " + c.supervisor + (c.supervisor_pid ? " (pid " + c.supervisor_pid + ")" : ""));
  if (c.engines_target) sup.push("target: " + c.engines_target + " engines");
  if (c.paused) sup.push("PAUSED: " + c.paused);
  $("supervisor").textContent = sup.join(" · ");
  $("sets").tBodies[0].replaceChildren(...sets.map((s) => {
    const notes = [];
    if ((s.retiring || []).length) notes.push("retiring " + s.retiring.join(" "));
    if (s.replaces) notes.push("replaces " + s.replaces);
    if (s.successor) notes.push("renewed by " + s.successor);
    if (s.launcher_state) notes.push("launcher: " + s.launcher_state);
    return el("tr", { class: "set", "data-set-id": s.id, "data-state": s.state },
      el("th", { scope: "row" }, s.id), el("td", { class: "state" }, s.state), el("td", {}, s.reason || s.cause || ""),
      el("td", {}, (s.engine_ids || []).join(" ")), el("td", {}, (s.registered || []).join(" ")),
      el("td", {}, (s.jobs || []).map((j) => j.id + ":" + j.state).join(" ")), el("td", {}, notes.join("; ")));
  }));
  $("history").replaceChildren(...(c.history || []).slice().reverse().map((e) =>
    el("li", {}, new Date(e.time).toLocaleTimeString() + " " + e.event + (e.set ? " set " + e.set : "") +
      ((e.jobs || []).length ? " jobs " + e.jobs.join(",") : "") + ((e.engine_ids || []).length ? " engines " + e.engine_ids.join(",") : "") +
      (e.cause ? " (" + e.cause + ")" : "") + (e.by ? " → " + e.by : "") + (e.note ? ": " + e.note : ""))));
}

function renderMaps(v) {
  $("maps-section").hidden = v.maps.length === 0;
  $("maps").replaceChildren(...v.maps.map((m) => {
    const eta = m.eta_seconds === null ? "?" : age(m.eta_seconds);
    return el("li", { class: "map" },
      el("progress", { max: m.total, value: m.done, "aria-label": "map progress" }),
      " " + m.done + "/" + m.total + " done, " + m.failed + " failed, " + m.running + " running, " +
      m.rate.toFixed(1) + " tasks/s, ETA " + eta + " — " + m.label + " (pid " + m.pid + (m.host ? "@" + m.host : "") + ")");
  }));
}

function renderFailures(v) {
  const items = v.failures.slice().reverse().map((f) =>
    el("li", { class: "failure" },
      el("span", {}, "engine " + unknown(f.engine) + ", " + new Date(f.completed).toLocaleTimeString() + ": " + f.error),
      f.stderr_tail ? el("pre", {}, f.stderr_tail) : ""));
  $("failures").replaceChildren(...items);
  $("no-failures").hidden = items.length > 0;
}

function render(v) {
  renderHeader(v);
  renderEngines(v);
  renderJobs(v);
  renderSets(v);
  chart($("rate-chart"), $("rate-cap"), "tasks finished per second", v, (s) => s.rate);
  chart($("depth-chart"), $("depth-cap"), "queue depth", v, (s) => s.depth);
  renderMaps(v);
  renderFailures(v);
  $("footer").textContent = "updated " + new Date(v.time).toLocaleTimeString() +
    " · an engine silent for " + v.config.lost_after_ms / 1000 + " s is shown lost · failed counts are those in the controller's records since the dashboard started";
}

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("view", (ev) => render(JSON.parse(ev.data)));
  es.onerror = () => { $("summary").textContent = "connection to the dashboard lost; retrying…"; };
}

connect();

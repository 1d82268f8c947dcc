// Brisk dashboard: shared script for the status, workers, worker, task groups
// and story pages. Each page sets <body data-page="..."> and this file starts
// the matching view once the document is parsed.
"use strict";

(() => {

// BEGIN shared drawing code (a performance report inlines this block)

// ---- formatting -----------------------------------------------------------

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

// 1288490188 -> "1.2 GiB"; 4294967296 -> "4 GiB"
function fmtBytes(n) {
  n = Number(n) || 0;
  const neg = n < 0;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) { v /= 1024; u++; }
  let s = u === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v.toFixed(1);
  if (s.endsWith(".0")) s = s.slice(0, -2);
  return (neg ? "-" : "") + s + " " + BYTE_UNITS[u];
}

// seconds -> "850 µs", "12 ms", "3.4 s", "2m 05s", "1h 02m"
function fmtSeconds(s) {
  s = Number(s) || 0;
  const a = Math.abs(s);
  if (a === 0) return "0 s";
  if (a < 1e-3) return (s * 1e6).toFixed(0) + " µs";
  if (a < 1) return (s * 1e3).toFixed(a < 0.01 ? 1 : 0) + " ms";
  if (a < 60) return s.toFixed(a < 10 ? 2 : 1) + " s";
  if (a < 3600) {
    const m = Math.floor(a / 60), r = Math.floor(a % 60);
    return m + "m " + String(r).padStart(2, "0") + "s";
  }
  const h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60);
  return h + "h " + String(m).padStart(2, "0") + "m";
}

const INT_FORMAT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
function fmtInt(n) {
  return INT_FORMAT.format(Number(n) || 0);
}

// ---- colours --------------------------------------------------------------

const TRANSFER_COLOR = "#d62728";
const SPILL_COLOR = "#ff7f0e";
const hashCache = new Map();

// Stable 32-bit hash (FNV-1a) of a task prefix.
function prefixHash(prefix) {
  let h = hashCache.get(prefix);
  if (h === undefined) {
    h = 2166136261;
    for (let i = 0; i < prefix.length; i++) {
      h ^= prefix.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    h ^= h >>> 15; // mix the high bits down
    h = Math.imul(h, 0x2c1b3c6d);
    h = (h ^ (h >>> 12)) >>> 0;
    hashCache.set(prefix, h);
  }
  return h;
}

// Hue of a prefix. Hues between 330 and 60 degrees (reds and oranges) are
// skipped so that tasks never look like transfers or spilling.
function prefixHue(prefix) {
  return 60 + (prefixHash(prefix) % 270);
}

// Task-stream colour of a prefix: its hue, with one of three lightnesses
// so that prefixes with close hues still differ.
const colorCache = new Map();
function prefixColor(prefix) {
  let c = colorCache.get(prefix);
  if (c === undefined) {
    const light = [40, 52, 64][(prefixHash(prefix) >>> 20) % 3];
    c = "hsl(" + prefixHue(prefix) + ", 62%, " + light + "%)";
    colorCache.set(prefix, c);
  }
  return c;
}

// Fill colour of one task-stream record.
function streamColor(rec) {
  if (rec.kind === "transfer") return TRANSFER_COLOR;
  if (rec.kind === "spill" || rec.kind === "unspill") return SPILL_COLOR;
  return prefixColor(rec.prefix || "");
}

// ---- task stream ----------------------------------------------------------

const addressCollator = new Intl.Collator("en", { numeric: true });
const STREAM_FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif";

// A 1-2-5 step close to `raw`.
function niceStep(raw) {
  if (!(raw > 0) || !isFinite(raw)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

// Draw the task stream into `canvas` in one pass.
//   records: [{worker, thread, kind, prefix, key, start, stop, nbytes}, ...]
//   opts.window: seconds of history to show, ending at the newest record
//                (Infinity = everything)
//   opts.offset: subtracted from times in the axis labels
//   opts.maxHeight: height of the plot area in CSS pixels when lanes are many
//   opts.emptyText: text shown when there is nothing to draw
// One lane per (worker, thread); transfers and spilling of a worker share
// an extra lane labelled "transfers". Returns a frame for hit testing and
// sets canvas.dataset.{rects, workers, records}.
function drawTaskStream(canvas, records, opts) {
  opts = opts || {};
  const windowSec = opts.window === undefined ? Infinity : opts.window;
  const offset = opts.offset || 0;
  const maxPlotH = opts.maxHeight || 480;
  const dpr = window.devicePixelRatio || 1;
  const cssW = Math.max(240, Math.floor(canvas.clientWidth || (canvas.parentNode && canvas.parentNode.clientWidth) || 800));

  // Lanes and time range from every record held.
  const byWorker = new Map();
  let tMin = Infinity, tMax = -Infinity;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    let w = byWorker.get(r.worker);
    if (w === undefined) {
      w = { threads: new Map(), transfers: -1, hasTransfers: false, first: 0, count: 0 };
      byWorker.set(r.worker, w);
    }
    if (r.kind === "compute") {
      if (!w.threads.has(r.thread)) w.threads.set(r.thread, -1);
    } else {
      w.hasTransfers = true;
    }
    if (r.start < tMin) tMin = r.start;
    if (r.stop > tMax) tMax = r.stop;
  }
  const lanes = [];
  const addresses = Array.from(byWorker.keys()).sort(addressCollator.compare);
  for (const addr of addresses) {
    const w = byWorker.get(addr);
    w.first = lanes.length;
    const threads = Array.from(w.threads.keys()).sort((a, b) => a - b);
    for (const t of threads) {
      w.threads.set(t, lanes.length);
      lanes.push({ worker: addr, label: addr + " · " + t });
    }
    if (w.hasTransfers) {
      w.transfers = lanes.length;
      lanes.push({ worker: addr, label: addr + " · transfers" });
    }
    w.count = lanes.length - w.first;
  }

  // Geometry.
  const topPad = 4, axisH = 22;
  // Many lanes get a taller plot (up to 800 px) before they get thinner.
  const budget = Math.min(Math.max(maxPlotH, lanes.length * 2), Math.max(maxPlotH, 800));
  const laneH = lanes.length ? Math.min(22, budget / lanes.length) : 0;
  const plotH = lanes.length * laneH;
  const cssH = lanes.length ? Math.ceil(topPad + plotH + axisH) : 90;
  const ctx = canvas.getContext("2d");
  ctx.font = STREAM_FONT;
  let labelMode = "none";
  let labelW = 8;
  if (laneH >= 10) labelMode = "lane";
  else if (lanes.length && laneH * (lanes.length / Math.max(1, addresses.length)) >= 10) labelMode = "worker";
  if (labelMode !== "none") {
    let widest = 0;
    const texts = labelMode === "lane" ? lanes.map((l) => l.label) : addresses;
    for (const t of texts) widest = Math.max(widest, ctx.measureText(t).width);
    labelW = Math.min(Math.max(60, Math.ceil(widest) + 10), Math.floor(cssW * 0.35));
  }
  const plotX = labelW, plotY = topPad;
  const plotW = Math.max(10, cssW - plotX - 10);

  // Resize the backing store only when needed (resizing clears it anyway).
  const pxW = Math.round(cssW * dpr), pxH = Math.round(cssH * dpr);
  if (canvas.width !== pxW || canvas.height !== pxH) {
    canvas.width = pxW;
    canvas.height = pxH;
  }
  canvas.style.height = cssH + "px";
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.font = STREAM_FONT;

  const frame = { lanes, laneH, plotX, plotY, plotW, plotH, t0: 0, t1: 0, scale: 1, laneRecs: [] };
  if (!lanes.length) {
    ctx.fillStyle = "#888";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(opts.emptyText || "no tasks recorded", cssW / 2, cssH / 2);
    canvas.dataset.rects = "0";
    canvas.dataset.workers = "0";
    canvas.dataset.records = String(records.length);
    return frame;
  }

  // Time window: the last `windowSec` seconds ending at the newest record.
  const t1 = tMax;
  let t0 = Math.max(tMin, t1 - windowSec);
  if (!(t1 - t0 > 1e-6)) t0 = t1 - 1e-3;
  const scale = plotW / (t1 - t0);
  frame.t0 = t0; frame.t1 = t1; frame.scale = scale;

  // Alternate a light band behind every other worker.
  ctx.fillStyle = "#f4f6f8";
  for (let i = 0; i < addresses.length; i += 2) {
    const w = byWorker.get(addresses[i]);
    ctx.fillRect(0, plotY + w.first * laneH, cssW, w.count * laneH);
  }

  // Time axis and vertical grid lines.
  const step = niceStep((t1 - t0) / Math.max(1, plotW / 90));
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  ctx.strokeStyle = "#e2e2e2";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#555";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.beginPath();
  const firstTick = Math.ceil((t0 - offset) / step) * step + offset;
  for (let t = firstTick; t <= t1 + step * 1e-6; t += step) {
    const x = Math.round(plotX + (t - t0) * scale) + 0.5;
    ctx.moveTo(x, plotY);
    ctx.lineTo(x, plotY + plotH + 4);
    ctx.fillText((t - offset).toFixed(decimals) + " s", x, plotY + plotH + 6);
  }
  ctx.stroke();

  // Rectangles, bucketed by colour so each colour is set once.
  const buckets = new Map();
  const laneRecs = lanes.map(() => []);
  const rh = laneH >= 4 ? laneH * 0.8 : laneH;
  const yoff = (laneH - rh) / 2;
  const drawnWorkers = new Set();
  let rects = 0;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (r.stop < t0 || r.start > t1) continue;
    const w = byWorker.get(r.worker);
    const lane = r.kind === "compute" ? w.threads.get(r.thread) : w.transfers;
    let x0 = (Math.max(r.start, t0) - t0) * scale;
    const x1 = (Math.min(r.stop, t1) - t0) * scale;
    const width = Math.max(1, x1 - x0); // very short tasks stay visible
    if (x0 + width > plotW) x0 = plotW - width;
    const color = streamColor(r);
    let bucket = buckets.get(color);
    if (bucket === undefined) { bucket = []; buckets.set(color, bucket); }
    bucket.push(plotX + x0, plotY + lane * laneH + yoff, width, rh);
    laneRecs[lane].push(r);
    drawnWorkers.add(r.worker);
    rects++;
  }
  for (const [color, b] of buckets) {
    ctx.fillStyle = color;
    for (let j = 0; j < b.length; j += 4) ctx.fillRect(b[j], b[j + 1], b[j + 2], b[j + 3]);
  }
  frame.laneRecs = laneRecs;

  // Lane labels on the left (over a white strip so long tasks do not hide them).
  ctx.fillStyle = "rgba(255,255,255,0.85)";
  ctx.fillRect(0, plotY, plotX - 2, plotH);
  ctx.fillStyle = "#333";
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  const maxLabel = plotX - 8;
  const fit = (text) => {
    if (ctx.measureText(text).width <= maxLabel) return text;
    let lo = 0, hi = text.length;
    while (lo < hi) { // longest tail that fits after an ellipsis
      const mid = (lo + hi) >> 1;
      if (ctx.measureText("…" + text.slice(mid)).width <= maxLabel) hi = mid; else lo = mid + 1;
    }
    return "…" + text.slice(lo);
  };
  if (labelMode === "lane") {
    lanes.forEach((l, i) => ctx.fillText(fit(l.label), 4, plotY + (i + 0.5) * laneH));
  } else if (labelMode === "worker") {
    for (const addr of addresses) {
      const w = byWorker.get(addr);
      ctx.fillText(fit(addr), 4, plotY + (w.first + w.count / 2) * laneH);
    }
  }

  canvas.dataset.rects = String(rects);
  canvas.dataset.workers = String(drawnWorkers.size);
  canvas.dataset.records = String(records.length);
  return frame;
}

// The record under canvas position (x, y) in CSS pixels, or null.
function taskStreamHit(frame, x, y) {
  if (!frame || !frame.lanes.length || x < frame.plotX) return null;
  const lane = Math.floor((y - frame.plotY) / frame.laneH);
  if (lane < 0 || lane >= frame.lanes.length) return null;
  const t = frame.t0 + (x - frame.plotX) / frame.scale;
  const slack = 2 / frame.scale; // two pixels of tolerance
  let best = null, bestDist = Infinity;
  for (const r of frame.laneRecs[lane] || []) {
    const d = t < r.start ? r.start - t : t > r.stop ? t - r.stop : 0;
    if (d <= slack && d < bestDist) { best = r; bestDist = d; if (d === 0) break; }
  }
  return best;
}

// Show a tooltip over the task stream. `getFrame` returns the latest frame.
function attachStreamTooltip(canvas, tooltip, getFrame) {
  canvas.addEventListener("mousemove", (ev) => {
    const box = canvas.getBoundingClientRect();
    const x = ev.clientX - box.left, y = ev.clientY - box.top;
    const r = taskStreamHit(getFrame(), x, y);
    if (!r) { tooltip.style.display = "none"; return; }
    const what = r.kind === "compute" ? (r.key || r.prefix) : r.kind + (r.key ? " " + r.key : "");
    const lines = [
      what,
      r.worker + (r.kind === "compute" ? " thread " + r.thread : ""),
      "duration " + fmtSeconds(r.stop - r.start) + "  (" + r.start.toFixed(3) + " → " + r.stop.toFixed(3) + " s)",
    ];
    if (r.nbytes) lines.push(fmtBytes(r.nbytes));
    tooltip.textContent = lines.join("\n");
    tooltip.style.display = "block";
    const parentBox = tooltip.offsetParent ? tooltip.offsetParent.getBoundingClientRect() : box;
    let left = ev.clientX - parentBox.left + 12;
    const maxLeft = parentBox.width - tooltip.offsetWidth - 4;
    if (left > maxLeft) left = Math.max(0, ev.clientX - parentBox.left - tooltip.offsetWidth - 12);
    tooltip.style.left = left + "px";
    tooltip.style.top = (ev.clientY - parentBox.top + 12) + "px";
  });
  canvas.addEventListener("mouseleave", () => { tooltip.style.display = "none"; });
}

// END shared drawing code

// ---- small DOM and network helpers -----------------------------------------

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
  }
  for (const c of children) e.append(c);
  return e;
}

// Set text / attributes only when they changed, to keep DOM work small.
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
function setData(node, name, value) {
  value = String(value);
  if (node.dataset[name] !== value) node.dataset[name] = value;
}
function setWidth(node, pct) {
  const w = pct.toFixed(3) + "%";
  if (node.style.width !== w) node.style.width = w;
}

async function fetchJSON(url) {
  const resp = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  if (!resp.ok) throw new Error(resp.status + " " + resp.statusText);
  return resp.json();
}

function showConn(text, bad) {
  const c = $("conn-status");
  if (!c) return;
  setText(c, text);
  c.classList.toggle("error-text", !!bad);
}

function markRendered() {
  if (document.body.dataset.rendered !== "1") {
    document.body.dataset.rendered = "1";
    window.briskFirstRender = performance.now();
  }
}

// Run `fn` now and then every `ms` after each run completes.
function every(ms, fn) {
  const tick = async () => {
    try {
      await fn();
      showConn("");
    } catch (err) {
      showConn("cannot reach the scheduler (" + err.message + ")", true);
    }
    setTimeout(tick, ms);
  };
  tick();
}

// Keep one child per key in `container`, in the order of `items`.
// make(item) builds a node; update(node, item) refreshes it.
function syncList(container, cache, items, keyOf, make, update) {
  const seen = new Set();
  let orderChanged = cache.size !== items.length;
  let prev = null;
  for (const item of items) {
    const key = keyOf(item);
    seen.add(key);
    let node = cache.get(key);
    if (!node) {
      node = make(item);
      cache.set(key, node);
      orderChanged = true;
    }
    update(node, item);
    if (!orderChanged && node.previousElementSibling !== prev) orderChanged = true;
    prev = node;
  }
  for (const [key, node] of cache) {
    if (!seen.has(key)) { node.remove(); cache.delete(key); }
  }
  if (orderChanged) {
    const frag = document.createDocumentFragment();
    for (const item of items) frag.append(cache.get(keyOf(item)));
    container.append(frag);
  }
}

// ---- status page ------------------------------------------------------------

const MAX_RECORDS = 20000;
const STREAM_WINDOW = 20; // seconds

// Segment colours of a progress bar, shaded from the prefix hue.
function progressColors(hue) {
  return [
    "hsl(" + hue + ", 45%, 66%)", // finished, since released or forgotten
    "hsl(" + hue + ", 65%, 38%)", // in memory
    "hsl(" + hue + ", 75%, 80%)", // processing
    "hsl(" + hue + ", 35%, 90%)", // queued
    "#d9d9d9",                    // waiting and no-worker
    "#d62728",                    // erred
  ];
}

function initStatus() {
  const canvas = $("task-stream");
  const tooltip = $("stream-tooltip");
  const progressBox = $("progress");
  const memoryBox = $("worker-memory");
  const processingBox = $("worker-processing");

  const state = {
    records: [],
    lastSeq: -1,
    latest: null,
    rafPending: false,
    frame: null,
  };
  const progressRows = new Map();
  const memoryRows = new Map();
  const processingRows = new Map();

  attachStreamTooltip(canvas, tooltip, () => state.frame);

  // Merge one status message: append records newer than the last seen.
  function ingest(msg) {
    if (typeof msg.stream_seq === "number" && msg.stream_seq < state.lastSeq) {
      state.records = []; // the scheduler restarted
      state.lastSeq = -1;
    }
    const stream = msg.stream || [];
    for (let i = 0; i < stream.length; i++) {
      const r = stream[i];
      if (r.seq > state.lastSeq) {
        state.records.push(r);
        state.lastSeq = r.seq;
      }
    }
    if (typeof msg.stream_seq === "number" && msg.stream_seq > state.lastSeq) state.lastSeq = msg.stream_seq;
    if (state.records.length > MAX_RECORDS) state.records.splice(0, state.records.length - MAX_RECORDS);
    state.latest = msg;
    if (!state.rafPending) {
      state.rafPending = true;
      requestAnimationFrame(render);
    }
  }

  function render() {
    state.rafPending = false;
    const msg = state.latest;
    if (!msg) return;
    const workers = (msg.workers || []).slice().sort((a, b) => addressCollator.compare(a.address, b.address));
    renderHeader(msg, workers);
    state.frame = drawTaskStream(canvas, state.records, {
      window: STREAM_WINDOW,
      emptyText: "no tasks recorded yet",
    });
    renderProgress(msg.groups || []);
    renderMemory(workers);
    renderProcessing(workers);
    markRendered();
  }

  function renderHeader(msg, workers) {
    let threads = 0;
    for (const w of workers) threads += w.nthreads || 0;
    setText($("hdr-tasks"), fmtInt(msg.tasks));
    setText($("hdr-workers"), fmtInt(workers.length));
    setText($("hdr-threads"), fmtInt(threads));
    setText($("hdr-time"), fmtSeconds(msg.time));
  }

  function renderProgress(groups) {
    const sorted = groups.slice().sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    setText($("progress-empty"), sorted.length ? "" : "no tasks yet");
    syncList(progressBox, progressRows, sorted, (g) => g.prefix, (g) => {
      const colors = progressColors(prefixHue(g.prefix));
      const segs = colors.map((c) => { const s = el("span"); s.style.background = c; return s; });
      const row = el("div", { class: "progress-row", "data-prefix": g.prefix },
        el("div", { class: "label" }, el("span", { class: "name", text: g.prefix }), "  ", el("span", { class: "count" })),
        el("div", { class: "bar" }, ...segs));
      row._segs = segs;
      row._count = row.querySelector(".count");
      return row;
    }, (row, g) => {
      // Skip rows whose counts did not change since the last message.
      const sig = [g.total, g.finished, g.memory, g.processing, g.queued, g.waiting, g.no_worker,
        g.erred, g.released, g.forgotten, g.duration, g.nbytes].join();
      if (row._sig === sig) return;
      row._sig = sig;
      const total = g.total || 0, finished = g.finished || 0;
      const memory = g.memory || 0;
      const parts = [
        Math.max(0, finished - memory),
        memory,
        g.processing || 0,
        g.queued || 0,
        (g.waiting || 0) + (g.no_worker || 0),
        g.erred || 0,
      ];
      const sum = parts.reduce((a, b) => a + b, 0);
      const denom = Math.max(total, sum, 1);
      for (let i = 0; i < parts.length; i++) setWidth(row._segs[i], (100 * parts[i]) / denom);
      const pct = total > 0 ? Math.min(100, Math.floor((100 * finished) / total)) : 0;
      setData(row, "percent", pct);
      setData(row, "finished", finished);
      setData(row, "total", total);
      setText(row._count, finished + " / " + total + (g.erred ? "  (" + g.erred + " erred)" : ""));
      const title = g.prefix + "  " + finished + " / " + total + " finished (" + pct + "%)\n" +
        "waiting " + (g.waiting || 0) + ", no worker " + (g.no_worker || 0) + ", queued " + (g.queued || 0) +
        ", processing " + (g.processing || 0) + ", memory " + memory + ", erred " + (g.erred || 0) +
        ", released " + (g.released || 0) + ", forgotten " + (g.forgotten || 0) +
        "\ncompute time " + fmtSeconds(g.duration) + ", " + fmtBytes(g.nbytes) + " in memory";
      if (row.title !== title) row.title = title;
    });
  }

  function renderMemory(workers) {
    let maxTotal = 1;
    for (const w of workers) maxTotal = Math.max(maxTotal, (w.managed || 0) + (w.unmanaged || 0) + (w.spilled || 0));
    setText($("memory-empty"), workers.length ? "" : "no workers connected");
    syncList(memoryBox, memoryRows, workers, (w) => w.address, (w) => {
      const segs = [el("span", { class: "seg-managed" }), el("span", { class: "seg-unmanaged" }), el("span", { class: "seg-spilled" })];
      const row = el("div", { class: "worker-memory", "data-worker": w.address },
        el("div", { class: "label" }, el("span", { class: "name", text: w.name && w.name !== w.address ? w.name + "  " + w.address : w.address }),
          "  ", el("span", { class: "value" })),
        el("div", { class: "bar" }, ...segs));
      row._segs = segs;
      row._value = row.querySelector(".value");
      return row;
    }, (row, w) => {
      const sig = [w.managed, w.unmanaged, w.spilled, w.memory_limit, w.paused, w.memory_limit ? 0 : maxTotal].join();
      if (row._sig === sig) return;
      row._sig = sig;
      const managed = w.managed || 0, unmanaged = w.unmanaged || 0, spilled = w.spilled || 0;
      const limit = w.memory_limit || 0;
      const scale = Math.max(limit > 0 ? limit : maxTotal, managed + unmanaged + spilled, 1);
      setWidth(row._segs[0], (100 * managed) / scale);
      setWidth(row._segs[1], (100 * unmanaged) / scale);
      setWidth(row._segs[2], (100 * spilled) / scale);
      setData(row, "managed", managed);
      setData(row, "unmanaged", unmanaged);
      setData(row, "spilled", spilled);
      setData(row, "paused", w.paused ? "1" : "0");
      row.classList.toggle("paused", !!w.paused);
      let text = fmtBytes(managed + unmanaged) + (limit > 0 ? " / " + fmtBytes(limit) : " (no limit)");
      if (spilled) text += " + " + fmtBytes(spilled) + " spilled";
      if (w.paused) text += "  paused";
      setText(row._value, text);
      const title = w.address + "\nmanaged " + fmtBytes(managed) + ", unmanaged " + fmtBytes(unmanaged) +
        ", spilled " + fmtBytes(spilled) + (limit > 0 ? ", limit " + fmtBytes(limit) : ", no memory limit") +
        (w.paused ? "\npaused: memory is above the pause threshold" : "");
      if (row.title !== title) row.title = title;
    });
  }

  function renderProcessing(workers) {
    let maxProc = 1;
    for (const w of workers) maxProc = Math.max(maxProc, w.processing || 0, w.nthreads || 0);
    syncList(processingBox, processingRows, workers, (w) => w.address, (w) => {
      const seg = el("span", { class: "seg-processing" });
      const row = el("div", { class: "worker-processing", "data-worker": w.address },
        el("div", { class: "label" }, el("span", { class: "name", text: w.address }), "  ", el("span", { class: "value" })),
        el("div", { class: "bar" }, seg));
      row._seg = seg;
      row._value = row.querySelector(".value");
      return row;
    }, (row, w) => {
      const sig = [w.processing, w.nthreads, maxProc].join();
      if (row._sig === sig) return;
      row._sig = sig;
      const n = w.processing || 0;
      setWidth(row._seg, (100 * n) / maxProc);
      setData(row, "processing", n);
      setText(row._value, fmtInt(n) + " processing · " + (w.nthreads || 0) + " threads");
    });
  }

  // Server-sent events, falling back to polling when they fail.
  let polling = false;
  function startPolling() {
    if (polling) return;
    polling = true;
    showConn("polling");
    const poll = async () => {
      try {
        const url = "/api/v1/status" + (state.lastSeq >= 0 ? "?since=" + state.lastSeq : "");
        ingest(await fetchJSON(url));
        showConn("polling");
      } catch (err) {
        showConn("cannot reach the scheduler (" + err.message + ")", true);
      }
      setTimeout(poll, 1000);
    };
    poll();
  }

  if (typeof EventSource === "function") {
    const es = new EventSource("/events");
    es.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      ingest(msg);
      showConn("live");
    };
    es.onerror = () => {
      es.close();
      startPolling();
    };
  } else {
    startPolling();
  }

  window.addEventListener("resize", () => {
    if (state.latest && !state.rafPending) {
      state.rafPending = true;
      requestAnimationFrame(render);
    }
  });
}

// ---- workers table -------------------------------------------------------------

// Columns of the workers table: [key, heading, numeric?, cell text, sort value]
const WORKER_COLUMNS = [
  ["name", "Name", false, (w) => w.name || "", (w) => w.name || ""],
  ["address", "Address", false, null, (w) => w.address],
  ["nthreads", "Threads", true, (w) => fmtInt(w.nthreads), (w) => w.nthreads || 0],
  ["cpu", "CPU %", true, (w) => (w.cpu || 0).toFixed(0) + " %", (w) => w.cpu || 0],
  ["memory", "Memory", true, (w) => fmtBytes((w.managed || 0) + (w.unmanaged || 0)) +
    (w.memory_limit ? " / " + fmtBytes(w.memory_limit) : ""), (w) => (w.managed || 0) + (w.unmanaged || 0)],
  ["spilled", "Spilled", true, (w) => fmtBytes(w.spilled), (w) => w.spilled || 0],
  ["held", "Tasks held", true, (w) => fmtInt(w.held), (w) => w.held || 0],
  ["processing", "Processing", true, (w) => fmtInt(w.processing), (w) => w.processing || 0],
  ["bytes_in", "Bytes received", true, (w) => fmtBytes(w.bytes_in), (w) => w.bytes_in || 0],
  ["bytes_out", "Bytes sent", true, (w) => fmtBytes(w.bytes_out), (w) => w.bytes_out || 0],
  ["last_seen", "Last heartbeat", true, (w) => (w.last_seen || 0).toFixed(1) + " s ago", (w) => w.last_seen || 0],
];

function workerLink(w) {
  return "/workers/" + encodeURIComponent(w.id);
}

function initWorkers() {
  const table = $("workers-table");
  const thead = table.tHead || table.createTHead();
  const tbody = table.tBodies[0] || table.createTBody();
  const rows = new Map();
  let sortKey = "address", sortDir = 1, latest = [];

  const headRow = el("tr");
  for (const [key, heading, numeric] of WORKER_COLUMNS) {
    const th = el("th", { class: "sortable" + (numeric ? " num" : ""), "data-col": key, text: heading });
    th.addEventListener("click", () => {
      if (sortKey === key) sortDir = -sortDir; else { sortKey = key; sortDir = numeric ? -1 : 1; }
      render(latest);
    });
    headRow.append(th);
  }
  thead.replaceChildren(headRow);

  function render(workers) {
    latest = workers;
    const col = WORKER_COLUMNS.find((c) => c[0] === sortKey);
    const value = col[4];
    const sorted = workers.slice().sort((a, b) => {
      const va = value(a), vb = value(b);
      const c = typeof va === "string" ? addressCollator.compare(va, vb) : va - vb;
      return c !== 0 ? sortDir * c : addressCollator.compare(a.address, b.address);
    });
    for (const th of headRow.children) {
      th.classList.toggle("sorted-asc", th.dataset.col === sortKey && sortDir > 0);
      th.classList.toggle("sorted-desc", th.dataset.col === sortKey && sortDir < 0);
    }
    syncList(tbody, rows, sorted, (w) => w.address, (w) => {
      const tr = el("tr", { class: "worker-row", "data-worker": w.address });
      tr._cells = {};
      for (const [key, , numeric] of WORKER_COLUMNS) {
        const td = el("td", { "data-col": key, class: numeric ? "num" : "" });
        if (key === "address") td.append(el("a", { href: workerLink(w), text: w.address }));
        tr._cells[key] = td;
        tr.append(td);
      }
      return tr;
    }, (tr, w) => {
      for (const [key, , , text] of WORKER_COLUMNS) if (text) setText(tr._cells[key], text(w));
      setData(tr, "id", w.id);
      tr.classList.toggle("paused", !!w.paused);
      const title = w.paused ? "paused: memory is above the pause threshold" : "";
      if (tr.title !== title) tr.title = title;
    });
    setText($("workers-summary"), workers.length + (workers.length === 1 ? " worker, " : " workers, ") +
      workers.reduce((a, w) => a + (w.nthreads || 0), 0) + " threads");
    setText($("workers-empty"), workers.length ? "" : "no workers connected");
  }

  every(2000, async () => {
    const data = await fetchJSON("/api/v1/workers");
    render(data.workers || []);
    markRendered();
  });
}

// ---- one worker -----------------------------------------------------------------

const WORKER_FIGURES = [
  ["name", "Name", (w) => w.name || ""],
  ["address", "Address", (w) => w.address],
  ["id", "Id", (w) => String(w.id)],
  ["nthreads", "Threads", (w) => fmtInt(w.nthreads)],
  ["cpu", "CPU", (w) => (w.cpu || 0).toFixed(0) + " %"],
  ["memory", "Memory (managed + unmanaged)", (w) => fmtBytes((w.managed || 0) + (w.unmanaged || 0)) +
    (w.memory_limit ? " / " + fmtBytes(w.memory_limit) : " (no limit)")],
  ["managed", "Managed memory", (w) => fmtBytes(w.managed)],
  ["unmanaged", "Unmanaged memory", (w) => fmtBytes(w.unmanaged)],
  ["spilled", "Spilled to disk", (w) => fmtBytes(w.spilled)],
  ["held", "Tasks held", (w) => fmtInt(w.held) + " (" + fmtBytes(w.held_bytes) + ")"],
  ["processing", "Processing", (w) => fmtInt(w.processing)],
  ["executed", "Tasks executed", (w) => fmtInt(w.executed)],
  ["bytes_in", "Received", (w) => fmtBytes(w.bytes_in) + " in " + fmtInt(w.transfers_in) + " transfers"],
  ["bytes_out", "Sent", (w) => fmtBytes(w.bytes_out) + " in " + fmtInt(w.transfers_out) + " transfers"],
  ["paused", "Paused", (w) => (w.paused ? "yes" : "no")],
  ["last_seen", "Last heartbeat", (w) => (w.last_seen || 0).toFixed(1) + " s ago"],
];

function initWorker() {
  const parts = location.pathname.split("/").filter(Boolean);
  const id = decodeURIComponent(parts[parts.length - 1] || "");
  const figs = $("worker-figures");
  const logs = $("worker-logs");
  const cells = {};
  for (const [key, label] of WORKER_FIGURES) {
    const v = el("span", { class: "v" });
    cells[key] = v;
    figs.append(el("div", { class: "figure", "data-field": key }, el("span", { class: "k", text: label }), v));
  }
  const memRow = $("worker-memory-bar");
  const memSegs = memRow.querySelectorAll(".bar > span");

  async function refreshFigures() {
    const data = await fetchJSON("/api/v1/workers");
    const w = (data.workers || []).find((x) => String(x.id) === id || x.address === id);
    document.body.dataset.found = w ? "1" : "0";
    setText($("worker-missing"), w ? "" : "unknown worker " + id + " (it may have left the cluster)");
    figs.hidden = !w;
    memRow.hidden = !w;
    if (!w) return;
    setText($("worker-title"), "Worker " + (w.name || w.address));
    document.title = "Brisk: " + (w.name || w.address);
    for (const [key, , text] of WORKER_FIGURES) setText(cells[key], text(w));
    const managed = w.managed || 0, unmanaged = w.unmanaged || 0, spilled = w.spilled || 0;
    const scale = Math.max(w.memory_limit || 0, managed + unmanaged + spilled, 1);
    setWidth(memSegs[0], (100 * managed) / scale);
    setWidth(memSegs[1], (100 * unmanaged) / scale);
    setWidth(memSegs[2], (100 * spilled) / scale);
    setData(memRow, "worker", w.address);
    setData(memRow, "managed", managed);
    setData(memRow, "unmanaged", unmanaged);
    setData(memRow, "spilled", spilled);
    memRow.classList.toggle("paused", !!w.paused);
  }

  async function refreshLogs() {
    let text;
    try {
      const data = await fetchJSON("/api/v1/workers/" + encodeURIComponent(id) + "/logs");
      const lines = data.lines || [];
      text = lines.length ? lines.join("\n") : "(no log lines)";
      setData(logs, "lines", lines.length);
    } catch (err) {
      text = "(logs unavailable: " + err.message + ")";
      setData(logs, "lines", 0);
    }
    if (logs.textContent !== text) {
      // Stay at the bottom if the reader was already there.
      const atBottom = logs.scrollTop + logs.clientHeight >= logs.scrollHeight - 4;
      logs.textContent = text;
      if (atBottom) logs.scrollTop = logs.scrollHeight;
    }
  }

  every(2000, async () => {
    await Promise.all([refreshFigures(), refreshLogs()]);
    markRendered();
  });
}

// ---- task groups graph -------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// Layer of each prefix = longest path from a group without dependencies.
// Dependencies on prefixes not in the list, and cycles, are ignored.
function groupLayers(groups) {
  const deps = new Map();
  for (const g of groups) deps.set(g.prefix, []);
  for (const g of groups) {
    const ds = deps.get(g.prefix);
    for (const d of g.dependencies || []) if (d !== g.prefix && deps.has(d) && !ds.includes(d)) ds.push(d);
  }
  const layer = new Map();
  const visiting = new Set();
  const visit = (p) => {
    if (layer.has(p)) return layer.get(p);
    if (visiting.has(p)) return -1; // a cycle: cut it here
    visiting.add(p);
    let l = 0;
    for (const d of deps.get(p)) l = Math.max(l, visit(d) + 1);
    visiting.delete(p);
    layer.set(p, l);
    return l;
  };
  for (const g of groups) visit(g.prefix);
  return { deps, layer };
}

const NODE_W = 190, NODE_H = 30, COL_GAP = 24, ROW_GAP = 14, LAYER_GAP = 46, MARGIN = 12;

// Top-to-bottom layout: one band of rows per layer, dependencies above.
// A layer wider than `availWidth` wraps onto several rows.
function layoutGroups(groups, availWidth) {
  const { deps, layer } = groupLayers(groups);
  const layers = [];
  for (const g of groups) {
    const l = layer.get(g.prefix);
    (layers[l] = layers[l] || []).push(g.prefix);
  }
  const perRow = Math.max(1, Math.floor((availWidth - 2 * MARGIN + COL_GAP) / (NODE_W + COL_GAP)));
  const widest = Math.min(perRow, Math.max(1, ...layers.map((names) => (names ? names.length : 0))));
  const width = 2 * MARGIN + widest * (NODE_W + COL_GAP) - COL_GAP;
  const pos = new Map();
  let y = MARGIN;
  for (const names of layers) {
    if (!names) continue;
    // Order by the mean x of the dependencies (fewer crossings), then by name.
    const key = (p) => {
      const ds = deps.get(p).filter((d) => pos.has(d));
      return ds.length ? ds.reduce((acc, d) => acc + pos.get(d).x, 0) / ds.length : -1;
    };
    const keyed = names.map((p) => [key(p), p]);
    keyed.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    for (let i = 0; i < keyed.length; i += perRow) {
      const row = keyed.slice(i, i + perRow);
      const rowW = row.length * (NODE_W + COL_GAP) - COL_GAP;
      let x = (width - rowW) / 2;
      for (const [, p] of row) {
        pos.set(p, { x, y, layer: layer.get(p) });
        x += NODE_W + COL_GAP;
      }
      y += NODE_H + ROW_GAP;
    }
    y += LAYER_GAP - ROW_GAP;
  }
  const height = Math.max(y - LAYER_GAP + MARGIN, NODE_H + 2 * MARGIN);
  return { deps, pos, width, height, perRow };
}

function initGroups() {
  const svg = $("groups-graph");
  const wrap = svg.parentNode;
  let signature = "";
  let nodes = new Map();
  let latest = [];

  const availWidth = () => Math.max(NODE_W + 2 * MARGIN, (wrap.clientWidth || 1200) - 24);
  const perRowFor = (w) => Math.max(1, Math.floor((w - 2 * MARGIN + COL_GAP) / (NODE_W + COL_GAP)));

  // Rebuild the whole drawing: only when the set of groups or edges changed
  // (or the page width changed the number of nodes per row).
  function build(groups) {
    const { deps, pos, width, height, perRow } = layoutGroups(groups, availWidth());
    svg.replaceChildren();
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.dataset.perRow = String(perRow);
    const defs = svgEl("defs");
    const marker = svgEl("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" });
    marker.append(svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9a9a9a" }));
    defs.append(marker);
    svg.append(defs);
    const edges = svgEl("g", { class: "edges" });
    let nedges = 0;
    for (const [p, ds] of deps) {
      const to = pos.get(p);
      for (const d of ds) {
        const from = pos.get(d);
        const x1 = from.x + NODE_W / 2, y1 = from.y + NODE_H;
        const x2 = to.x + NODE_W / 2, y2 = to.y;
        // Edges that skip layers bow sideways so they do not run under nodes.
        const bow = to.layer - from.layer > 1 && Math.abs(x2 - x1) < NODE_W ? NODE_W * 0.75 : 0;
        const dy = Math.max(20, (y2 - y1) / 2);
        edges.append(svgEl("path", {
          class: "edge", "data-from": d, "data-to": p, "marker-end": "url(#arrow)",
          d: `M${x1},${y1} C${x1 + bow},${y1 + dy} ${x2 + bow},${y2 - dy} ${x2},${y2}`,
        }));
        nedges++;
      }
    }
    svg.append(edges);
    nodes = new Map();
    const layer = svgEl("g", { class: "nodes" });
    for (const g of groups) {
      const p = pos.get(g.prefix);
      const node = svgEl("g", { class: "group-node", "data-prefix": g.prefix, transform: `translate(${p.x},${p.y})` });
      const title = svgEl("title");
      const bg = svgEl("rect", { class: "node-bg", width: NODE_W, height: NODE_H, rx: 4 });
      const clip = "clip-" + nodes.size;
      const clipPath = svgEl("clipPath", { id: clip });
      clipPath.append(svgEl("rect", { width: NODE_W, height: NODE_H, rx: 4 }));
      const fill = svgEl("rect", {
        class: "node-fill", width: 0, height: NODE_H, "clip-path": `url(#${clip})`,
        fill: "hsl(" + prefixHue(g.prefix) + ", 62%, 72%)",
      });
      const text = svgEl("text", { x: 8, y: NODE_H / 2 });
      const outline = svgEl("rect", { class: "node-outline", width: NODE_W, height: NODE_H, rx: 4, fill: "none" });
      node.append(clipPath, bg, fill, text, outline, title); // the title gives a hover tooltip
      layer.append(node);
      nodes.set(g.prefix, { node, fill, text, title });
    }
    svg.append(layer);
    svg.dataset.nodes = String(groups.length);
    svg.dataset.edges = String(nedges);
  }

  function update(groups) {
    for (const g of groups) {
      const n = nodes.get(g.prefix);
      if (!n) continue;
      const total = g.total || 0, finished = g.finished || 0;
      const frac = total > 0 ? Math.min(1, finished / total) : 0;
      n.fill.setAttribute("width", (NODE_W * frac).toFixed(1));
      let label = g.prefix + " " + finished + "/" + total;
      if (label.length > 28) label = g.prefix.slice(0, Math.max(4, 27 - (label.length - g.prefix.length))) + "…" + label.slice(g.prefix.length);
      setText(n.text, label);
      setText(n.title, g.prefix + ": " + finished + " / " + total + " finished\n" +
        "waiting " + (g.waiting || 0) + ", queued " + (g.queued || 0) + ", processing " + (g.processing || 0) +
        ", memory " + (g.memory || 0) + ", erred " + (g.erred || 0) +
        "\ndepends on: " + ((g.dependencies || []).join(", ") || "nothing"));
      setData(n.node, "finished", finished);
      setData(n.node, "total", total);
      setData(n.node, "percent", total > 0 ? Math.min(100, Math.floor((100 * finished) / total)) : 0);
      n.node.classList.toggle("erred", (g.erred || 0) > 0);
    }
  }

  every(2000, async () => {
    const data = await fetchJSON("/api/v1/groups");
    const groups = (data.groups || []).slice().sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    latest = groups;
    const sig = perRowFor(availWidth()) + "#" +
      groups.map((g) => g.prefix + ":" + (g.dependencies || []).slice().sort().join(",")).join("|");
    if (sig !== signature) {
      signature = sig;
      build(groups);
    }
    update(groups);
    setText($("groups-empty"), groups.length ? "" : "no task groups yet");
    setText($("groups-summary"), groups.length + (groups.length === 1 ? " task group" : " task groups"));
    markRendered();
  });

  // Re-flow the graph when the page width changes how many nodes fit a row.
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const sig = perRowFor(availWidth()) + signature.slice(signature.indexOf("#"));
      if (sig !== signature && latest.length) {
        signature = sig;
        build(latest);
        update(latest);
      }
    }, 150);
  });
}

// ---- story ---------------------------------------------------------------------

function initStory() {
  const params = new URLSearchParams(location.search);
  const key = params.get("key");
  const input = $("story-key");
  const table = $("story-table");
  const note = $("story-note");
  table.hidden = true;
  if (key === null || key === "") {
    setText(note, "Enter a task key to see its story: every state change it went through, and why.");
    markRendered();
    return;
  }
  input.value = key;
  document.title = "Brisk: story of " + key;
  (async () => {
    try {
      const data = await fetchJSON("/api/v1/story?key=" + encodeURIComponent(key));
      const lines = data.lines || [];
      if (!lines.length) {
        setText(note, "unknown key: " + key);
        note.dataset.unknown = "1";
      } else {
        setText(note, lines.length + " transitions of " + key);
        const tbody = table.tBodies[0] || table.createTBody();
        const shades = new Map();
        const frag = document.createDocumentFragment();
        for (const line of lines) {
          const sid = line.stimulus_id || "";
          if (!shades.has(sid)) shades.set(sid, shades.size);
          const i = shades.get(sid);
          const tr = el("tr", { class: "story-line shade-" + (i % 2), "data-stimulus-id": sid });
          // Lines of the same stimulus share a shade; neighbouring stimuli differ.
          tr.style.background = "hsl(" + ((i * 67) % 360) + ", 55%, " + (i % 2 ? 90 : 95) + "%)";
          for (const f of ["source", "from", "to", "stimulus", "stimulus_id"]) tr.append(el("td", { "data-col": f, text: line[f] == null ? "" : String(line[f]) }));
          frag.append(tr);
        }
        tbody.replaceChildren(frag);
        table.hidden = false;
        $("story-panel").hidden = false;
      }
    } catch (err) {
      setText(note, "could not load the story (" + err.message + ")");
      note.classList.add("error-text");
    }
    markRendered();
  })();
}

// ---- start ---------------------------------------------------------------------

const PAGES = { status: initStatus, workers: initWorkers, worker: initWorker, groups: initGroups, story: initStory };

function start() {
  const init = PAGES[document.body.dataset.page];
  if (init) init();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();

})();

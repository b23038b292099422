// Turns results into the printed tables and the targets check.

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function fmt(x, digits = 3) {
  if (x === undefined || Number.isNaN(x)) return "-";
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(digits);
}

function ratio(x, ref) {
  if (!Number.isFinite(x) || !Number.isFinite(ref) || ref === 0) return "-";
  return `${(x / ref).toFixed(2)}x`;
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? pad(c, widths[i]) : lpad(c, widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Text for one worker scenario's results. */
export function scenarioReport(s) {
  const unit = `ms per ${s.per}`;
  const ref = s.rows.find((r) => r.lib === "ours" && r.ok);
  const header = ["library", `${unit} median`, "min", "vs ours"];
  if (s.roundTrips) header.push(`round trips per ${s.per}`, "vs ours", "connections");
  header.push("runs");
  const rows = s.rows.map((r) => {
    if (!r.ok) {
      const cells = [r.label, "FAILED", "", ""];
      if (s.roundTrips) cells.push("", "", "");
      cells.push(r.runs);
      return cells;
    }
    const cells = [r.label, fmt(r.value.median), fmt(r.value.min), ratio(r.value.median, ref?.value.median)];
    if (s.roundTrips) {
      cells.push(fmt(r.roundTrips.median, 2), ratio(r.roundTrips.median, ref?.roundTrips.median), r.connections);
    }
    cells.push(r.runs);
    return cells;
  });
  const notes = s.rows.flatMap((r) => (r.notes ?? []).map((n) => `  note, ${r.label}: ${n}`));
  const failures = s.rows.filter((r) => !r.ok).map((r) => `  FAILED, ${r.label}: ${r.failure}`);
  return [`${s.id}: ${s.title} (${s.countLabel})`, table(header, rows), ...notes, ...failures].join("\n");
}

export function memoryReport(m) {
  const ref = m.rows.find((r) => r.lib === "ours" && r.ok);
  const header = ["library", "ms median", "min", "vs ours", "CPU ms", "sink CPU ms", "RSS growth MB median", "max", "vs ours", "heap+external MB median", "arrayBuffers MB", "runs"];
  const rows = m.rows.map((r) =>
    r.ok
      ? [r.label, fmt(r.ms.median, 1), fmt(r.ms.min, 1), ratio(r.ms.median, ref?.ms.median), fmt(r.cpuMs.median, 1), fmt(r.sinkCpuMs.median, 1),
        fmt(r.rss.median, 1), fmt(Math.max(...r.rss.values), 1), ratio(r.rss.median, ref?.rss.median), fmt(r.js.median, 1), fmt(r.ab.median, 1), r.runs]
      : [r.label, "FAILED", "", "", "", "", "", "", "", "", "", r.runs]);
  const failures = m.rows.filter((r) => !r.ok).map((r) => `  FAILED, ${r.label}: ${r.failure}`);
  return [`S4: ${m.title}`, table(header, rows), ...failures].join("\n");
}

export function importReport(imp) {
  const ref = imp.rows.find((r) => r.id === "ours-built") ?? imp.rows.find((r) => r.id === "ours-tsx");
  const header = ["import", "ms median", "min", "vs ours", "runs"];
  const rows = imp.rows.map((r) =>
    r.ok ? [r.label, fmt(r.ms.median, 1), fmt(r.ms.min, 1), ratio(r.ms.median, ref?.ms.median), r.runs] : [r.label, "FAILED", "", "", r.runs]);
  const failures = imp.rows.filter((r) => !r.ok).map((r) => `  FAILED, ${r.label}: ${r.failure}`);
  return [`Import: cold import() in a fresh node process (process and ESM loader start-up excluded)`, table(header, rows), ...failures].join("\n");
}

/** The targets, checked against our best variant in each scenario. */
export function targets(results) {
  const scenario = (id) => results.scenarios.find((s) => s.id === id);
  const best = (id, pick, filter = () => true) => {
    const rows = (scenario(id)?.rows ?? []).filter((r) => r.lib === "ours" && r.ok && filter(r));
    if (rows.length === 0) return undefined;
    return rows.reduce((a, b) => (pick(b) < pick(a) ? b : a));
  };
  const list = [];
  // ran: whether the scenario was run at all (else the target is "not run", neither met nor missed)
  const add = (what, ran, row, value, limit) => {
    const status = !ran ? "not run" : value === undefined ? "failed" : value <= limit ? "met" : "missed";
    list.push({ target: what, value, limit, status, met: status === "met", by: row?.label });
  };
  const ran = (id) => Boolean(scenario(id));
  let r = best("S1", (x) => x.value.median);
  add("S1 ms per message, one connection", ran("S1"), r, r?.value.median, 0.25);
  r = best("S3-one", (x) => x.roundTrips.median);
  add("S3 round trips per message, one connection", ran("S3-one"), r, r?.roundTrips.median, 1.1);
  r = best("S3-one-chunking", (x) => x.roundTrips.median);
  add("S3 round trips per message, one connection, CHUNKING", ran("S3-one-chunking"), r, r?.roundTrips.median, 0.1);
  r = best("S3-fresh-chunking", (x) => x.roundTrips.median, (x) => x.variant === "plain");
  add("S3 round trips, fresh connection + AUTH + send, CHUNKING", ran("S3-fresh-chunking"), r, r?.roundTrips.median, 5.0);
  r = best("S5", (x) => x.roundTrips.median);
  add("S5 round trips, 100 recipients", ran("S5"), r, r?.roundTrips.median, 6.2);
  const mem = results.memory?.rows.find((x) => x.lib === "ours" && x.ok);
  add("S4 peak RSS growth, 10 MB attachment (MB)", Boolean(results.memory), mem, mem?.rss.median, 8);
  add("S4 time, 10 MB attachment (ms)", Boolean(results.memory), mem, mem?.ms.median, 70);
  const imp = results.imports?.rows.find((x) => x.id === "ours-built" && x.ok);
  add("import time, built bundle (ms)", Boolean(results.imports), imp, imp?.ms.median, 5);
  return list;
}

export function targetsReport(list) {
  const mark = { met: "✓", missed: "✗", failed: "✗ (no result)", "not run": "- (not run)" };
  const rows = list.map((t) => [t.target, t.value === undefined ? "-" : fmt(t.value, 3), `<= ${t.limit}`, mark[t.status], t.by ?? ""]);
  return ["Targets (ours, best variant)", table(["target", "ours", "limit", "met", "measured with"], rows)].join("\n");
}

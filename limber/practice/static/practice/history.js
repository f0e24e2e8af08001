// History charts, drawn by the vendored uPlot from data the server prepared.
// They must read right with one session, two, or a year: the time axis spans real dates (the
// server sends the span), series that coincide stay distinguishable (each has its own marker
// and dash), and the legend is our own labelled list (uPlot's shows "--" until hovered).
const data = JSON.parse(document.getElementById("chart-data").textContent);
const DAY = 86400;
const HEIGHT = 260;

// Marker and line styles that stay apart when two series sit on the same values.
const STYLES = [
  { stroke: "#0f766e", dash: [], points: { size: 15, fill: "#fff", width: 2.5 } }, // ring
  { stroke: "#7c3aed", dash: [7, 4], points: { size: 7, fill: "#7c3aed", width: 1 } }, // dot (inside the ring when equal)
  { stroke: "#c2410c", dash: [2, 3], points: { size: 9, fill: "#c2410c", width: 1 } }, // dot, dotted
  { stroke: "#2563eb", dash: [10, 3, 2, 3], points: { size: 9, fill: "#fff", width: 1.5 } },
];

function width(el) {
  return Math.max(260, el.clientWidth - 16 || 600);
}

// Dates as people write them; a span over about ten months names the months instead.
function dateLabels(u, splits) {
  const span = u.scales.x.max - u.scales.x.min;
  const opts = span > 300 * DAY ? { month: "short", year: "numeric" } : { day: "numeric", month: "short" };
  return splits.map((v) => new Date(v * 1000).toLocaleDateString(undefined, opts));
}

function legend(el, items) {
  const list = document.createElement("ul");
  list.className = "chart-legend";
  for (const { label, style, line } of items) {
    const li = document.createElement("li");
    const key = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    key.setAttribute("viewBox", "0 0 36 14");
    key.setAttribute("aria-hidden", "true");
    const dash = (style.dash || []).join(" ");
    key.innerHTML = `<line x1="1" y1="7" x2="35" y2="7" stroke="${style.stroke}" stroke-width="2" stroke-dasharray="${dash}"/>`
      + (line ? "" : `<circle cx="18" cy="7" r="${style.points.size / 2 - 0.5}" fill="${style.points.fill || style.stroke}" stroke="${style.stroke}" stroke-width="${style.points.width}"/>`);
    li.append(key, document.createTextNode(label));
    list.append(li);
  }
  el.after(list);
}

// A level line across the whole time axis (the baseline), drawn under the series.
function levelLine(value, style) {
  return (u) => {
    const y = u.valToPos(value, "y", true);
    const { ctx, bbox } = u;
    ctx.save();
    ctx.strokeStyle = style.stroke;
    ctx.lineWidth = 1.5 * devicePixelRatio;
    ctx.setLineDash(style.dash.map((d) => d * devicePixelRatio));
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.restore();
  };
}

function chart(el, series, values, yLabel, yRange, levels = []) {
  if (!el || !values[0].length) return;
  const many = values[0].length > 60; // a year of sessions: lines only, markers would be a smear
  const opts = {
    width: width(el),
    height: HEIGHT,
    legend: { show: false },
    hooks: { drawClear: levels.map(({ value, style }) => levelLine(value, style)) },
    scales: {
      x: { time: true, range: () => data.span },
      y: { range: yRange || ((u, min, max) => [0, Math.max(10, Math.ceil((max || 0) * 1.15))]) },
    },
    axes: [
      { values: dateLabels, space: 70, incrs: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30.4 * DAY, 91 * DAY, 182 * DAY, 365 * DAY] },
      { label: yLabel, size: 45 },
    ],
    series: [{}, ...series.map((s) => ({
      label: s.label, stroke: s.style.stroke, width: s.line ? 1.5 : 2, dash: s.style.dash, spanGaps: true,
      points: s.line ? { show: false } : { show: !many, stroke: s.style.stroke, ...s.style.points },
    }))],
  };
  const plot = new uPlot(opts, values, el);
  el.dataset.points = String(values[0].length);
  new ResizeObserver(() => plot.setSize({ width: width(el), height: HEIGHT })).observe(el);
  legend(el, [...series, ...levels.map((l) => ({ ...l, line: true }))]);
  return plot;
}

// For the browser tests: the plots and the date labeller.
window.limberCharts = { dateLabels };
window.limberCharts.holds = chart(
  document.getElementById("holds-chart"),
  data.holds.series.map((label, i) => ({ label, style: STYLES[i % STYLES.length] })),
  data.holds.values, "seconds",
);

const pain = data.pain;
const painSeries = [
  { label: "Before the session", style: STYLES[0] },
  { label: "After the session", style: STYLES[1] },
  { label: "Worst during a hold", style: STYLES[2] },
  { label: `Trend (average of ${pain.trend_days || 7} days)`, style: { stroke: "#475569", dash: [] }, line: true },
];
const levels = pain.baseline === null || pain.baseline === undefined ? []
  : [{ value: pain.baseline, label: `${pain.baseline_label || "Your usual pain (baseline)"}: ${pain.baseline}`, style: { stroke: "#9a3412", dash: [5, 4] } }];
window.limberCharts.pain = chart(document.getElementById("pain-chart"), painSeries, pain.values, "pain (0–10)", [0, 10], levels);
// The knee angle the stretch was felt at (shown only when the person ever said so), up to straight.
window.limberCharts.knee = chart(
  document.getElementById("knee-chart"),
  data.knee.series.map((label, i) => ({ label, style: STYLES[i % STYLES.length] })),
  data.knee.values, "knee (°)", (u, min) => [Math.min(90, Math.floor((min ?? 90) / 10) * 10), 180],
);

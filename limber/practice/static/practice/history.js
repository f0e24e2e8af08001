// History charts, drawn by the vendored uPlot from data the server prepared.
const data = JSON.parse(document.getElementById("chart-data").textContent);
const COLOURS = ["#0f766e", "#7c3aed", "#c2410c", "#2563eb", "#be185d"];

function width(el) {
  return Math.max(280, el.clientWidth || 600);
}

function chart(el, series, values, yLabel, yRange) {
  if (!el || !values[0].length) return;
  const opts = {
    width: width(el),
    height: 260,
    scales: { x: { time: true }, y: yRange ? { range: yRange } : {} },
    axes: [{}, { label: yLabel }],
    series: [{}, ...series.map((name, i) => ({
      label: name, stroke: COLOURS[i % COLOURS.length], width: 2,
      points: { show: true, size: 7 }, spanGaps: true,
    }))],
  };
  const plot = new uPlot(opts, values, el);
  new ResizeObserver(() => plot.setSize({ width: width(el), height: 260 })).observe(el);
}

chart(document.getElementById("holds-chart"), data.holds.series, data.holds.values, "seconds");
chart(document.getElementById("pain-chart"), ["Before", "After"], data.pain.values, "pain (0–10)", [0, 10]);

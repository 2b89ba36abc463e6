// chart.js setup shared by the charts: theme colours, a numeric time axis, and time markers
// (deployments as lines, alert episodes as shaded spans) drawn by a small plugin of ours.
import { themeColor, timeLabel } from './common.js';

const { Chart } = globalThis;

/** Draws alert episodes behind the data and marker lines (deployments, alerts sent) over it, on every time chart. */
const timeMarkers = {
  id: 'timeMarkers',
  beforeDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    if (!scales.x || !options.episodes) return;
    ctx.save();
    for (const episode of options.episodes) {
      const left = Math.max(chartArea.left, scales.x.getPixelForValue(episode.from));
      const right = Math.min(chartArea.right, scales.x.getPixelForValue(episode.to));
      if (right <= left) continue;
      ctx.fillStyle = episode.color;
      ctx.globalAlpha = 0.14;
      ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
    }
    ctx.restore();
  },
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    if (!scales.x || !options.lines) return;
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    for (const marker of options.lines) {
      const x = scales.x.getPixelForValue(marker.at);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.strokeStyle = marker.color;
      ctx.setLineDash([2, 3]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillStyle = marker.color;
      ctx.fillText(marker.label, Math.min(x + 3, chartArea.right - 60), chartArea.top + 11);
    }
    ctx.restore();
  },
};
Chart.register(timeMarkers);

export function applyTheme() {
  Chart.defaults.color = themeColor('--muted');
  Chart.defaults.borderColor = themeColor('--grid');
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
}

/** A line dataset of points { x: ms, y } in a theme colour. */
export function line(label, data, color, extra = {}) {
  return {
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    borderWidth: 1.75,
    pointRadius: 0,
    pointHitRadius: 6,
    tension: 0,
    spanGaps: false,
    ...extra,
  };
}

/** A constant line across the range: objectives and burn-rate thresholds. */
export function level(label, value, range, color) {
  return line(
    label,
    [
      { x: range.from, y: value },
      { x: range.to, y: value },
    ],
    color,
    { borderDash: [6, 4], borderWidth: 1.25 },
  );
}

/** Options for a chart over [from, to] with a numeric time axis (no date adapter needed). */
export function timeOptions(range, markers, yOptions = {}) {
  const span = range.to - range.from;
  return {
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: {
        type: 'linear',
        min: range.from,
        max: range.to,
        ticks: { maxTicksLimit: 8, callback: (value) => timeLabel(value, span) },
      },
      y: yOptions,
    },
    plugins: {
      legend: { labels: { boxWidth: 12, boxHeight: 2 } },
      tooltip: { callbacks: { title: (items) => new Date(items[0].parsed.x).toLocaleString() } },
      timeMarkers: markers,
    },
  };
}

/** Creates the chart, or replaces the data of the one already on this canvas (auto-refresh keeps the canvas). */
export function draw(canvas, config) {
  const existing = Chart.getChart(canvas);
  if (existing) {
    existing.data = config.data;
    existing.options = config.options;
    existing.update();
    return existing;
  }
  return new Chart(canvas, config);
}

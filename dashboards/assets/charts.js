// chart.js setup shared by the charts: theme colours, a numeric time axis with round ticks in the viewer's
// zone, time markers (deployments as lines, alert episodes as shaded spans) and drag-to-zoom, drawn by small
// plugins of ours (no date adapter, no zoom plugin: a linear axis and a pointer handler are all they need).
import { themeColor } from './common.js';
import { browserOffset, LABEL_HEIGHT, placeLabels, roundTicks, tickLabel, zoneLabel } from './timeaxis.js';

const { Chart } = globalThis;

/** How near (px) the pointer must come to a marker line to show its label. */
const HOVER_PX = 5;

function drawLabel(ctx, marker, box, background) {
  if (background) {
    ctx.fillStyle = background;
    ctx.fillRect(box.left - 2, box.top - 1, box.right - box.left + 4, box.bottom - box.top + 2);
  }
  ctx.fillStyle = marker.color;
  ctx.fillText(marker.label, box.left, box.bottom - 2);
}

/**
 * Draws alert episodes behind the data and marker lines (deployments, alerts sent) over it, on every time
 * chart; the labels placed by placeLabels (kept on the chart as `$markerLabels` for tests), a hidden one
 * shown while the pointer is on its line.
 */
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
    chart.$markerLabels = [];
    if (!scales.x || !options.lines) return;
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    const lines = options.lines
      .map((marker) => ({ ...marker, x: scales.x.getPixelForValue(marker.at) }))
      .filter((marker) => marker.x >= chartArea.left && marker.x <= chartArea.right);
    for (const marker of lines) {
      ctx.strokeStyle = marker.color;
      ctx.setLineDash([2, 3]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(marker.x, chartArea.top);
      ctx.lineTo(marker.x, chartArea.bottom);
      ctx.stroke();
    }
    const placed = placeLabels(lines, chartArea, (text) => ctx.measureText(text).width);
    for (const marker of placed) if (!marker.hidden) drawLabel(ctx, marker, marker.box);
    chart.$markerLabels = placed.filter((m) => !m.hidden).map((m) => ({ label: m.label, ...m.box }));
    const hovered = placed.find((m) => m.hidden && m.at === chart.$hoverAt);
    if (hovered) {
      const w = ctx.measureText(hovered.label).width;
      const left = Math.min(hovered.x + 3, chartArea.right - w);
      const top = chartArea.top + 2;
      drawLabel(
        ctx,
        hovered,
        { left, top, right: left + w, bottom: top + LABEL_HEIGHT - 2 },
        themeColor('--panel'),
      );
    }
    ctx.restore();
  },
  afterEvent(chart, args, options) {
    if (!options.lines || !chart.scales.x) return;
    const { event } = args;
    const near =
      event.type === 'mousemove'
        ? options.lines.find((m) => Math.abs(chart.scales.x.getPixelForValue(m.at) - event.x) <= HOVER_PX)
        : undefined;
    if (near?.at !== chart.$hoverAt) {
      chart.$hoverAt = near?.at;
      args.changed = true;
    }
  },
};

/** Drag across a time chart to zoom: a shaded band while dragging, then `onZoom(fromMs, toMs)`. */
const dragZoom = {
  id: 'dragZoom',
  afterInit(chart) {
    const canvas = chart.canvas;
    // Horizontal drags are ours; vertical ones still scroll the page on touch screens.
    canvas.style.touchAction = 'pan-y';
    const at = (event) => {
      const box = canvas.getBoundingClientRect();
      const { left, right } = chart.chartArea;
      return Math.min(right, Math.max(left, event.clientX - box.left));
    };
    canvas.addEventListener('pointerdown', (event) => {
      const zoom = chart.options.plugins.dragZoom;
      const { left, right, top, bottom } = chart.chartArea;
      const box = canvas.getBoundingClientRect();
      const x = event.clientX - box.left;
      const y = event.clientY - box.top;
      if (!zoom?.onZoom || event.button !== 0 || x < left || x > right || y < top || y > bottom) return;
      chart.$drag = { start: x, end: x };
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!chart.$drag) return;
      chart.$drag.end = at(event);
      chart.draw();
    });
    const finish = (event, cancelled) => {
      const drag = chart.$drag;
      if (!drag) return;
      chart.$drag = undefined;
      chart.draw();
      const end = cancelled ? drag.start : at(event);
      // A click or a tremble is not a zoom.
      if (Math.abs(end - drag.start) < 5) return;
      const x = chart.scales.x;
      chart.options.plugins.dragZoom.onZoom(x.getValueForPixel(drag.start), x.getValueForPixel(end));
    };
    canvas.addEventListener('pointerup', (event) => finish(event, false));
    canvas.addEventListener('pointercancel', (event) => finish(event, true));
  },
  afterDraw(chart) {
    const drag = chart.$drag;
    if (!drag) return;
    const { ctx, chartArea } = chart;
    ctx.save();
    ctx.fillStyle = themeColor('--accent');
    ctx.globalAlpha = 0.18;
    const left = Math.min(drag.start, drag.end);
    ctx.fillRect(left, chartArea.top, Math.abs(drag.end - drag.start), chartArea.bottom - chartArea.top);
    ctx.restore();
  },
};
Chart.register(timeMarkers, dragZoom);

/** The viewer's zone as the time axes name it: "UTC+05:30 Asia/Kolkata". */
export const viewerZone = () =>
  zoneLabel(browserOffset(Date.now()), Intl.DateTimeFormat().resolvedOptions().timeZone);

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

/** Dataset options that draw the segments into the points where `partial(index)` dashed: steps not yet over. */
export function partialSegments(partial) {
  return { segment: { borderDash: (context) => (partial(context.p1DataIndex) ? [3, 3] : undefined) } };
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

/**
 * Options for a chart over [from, to] on a numeric time axis: ticks on round local times (as many as the
 * width holds, ~70 px each), the viewer's zone as the axis title, and drag-to-zoom when `onZoom` is given.
 */
export function timeOptions(range, markers, yOptions = {}, onZoom = undefined) {
  let stepMs = 60_000;
  return {
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: {
        type: 'linear',
        min: range.from,
        max: range.to,
        afterBuildTicks: (scale) => {
          const built = roundTicks(range.from, range.to, Math.max(2, Math.floor(scale.width / 70)));
          stepMs = built.stepMs;
          scale.ticks = built.ticks.map((value) => ({ value }));
        },
        ticks: { maxRotation: 0, callback: (value) => tickLabel(value, stepMs) },
        title: { display: true, text: viewerZone(), padding: 0, font: { size: 10 } },
      },
      y: yOptions,
    },
    plugins: {
      legend: { labels: { boxWidth: 12, boxHeight: 2 } },
      tooltip: { callbacks: { title: (items) => new Date(items[0].parsed.x).toLocaleString() } },
      timeMarkers: markers,
      dragZoom: { onZoom },
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

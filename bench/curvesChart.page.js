/**
 * Runs in chromium beside chart.js (bench/curvesChart.ts): one chart per figure of a curve into #grid, log-log,
 * with a dashed line of linear growth from the first point and the #23 target where there is one.
 */
globalThis.drawCurvePanels = ({ along, title, file }) => {
  const grid = document.getElementById('grid');
  const heading = document.createElement('h1');
  heading.textContent = `sloguard cost curves: ${title} (measured ${file.measuredAt.slice(0, 16)} UTC)`;
  grid.before(heading);
  const points = file.curves[along];
  const sizes = points.map((p) => (along === 'slos' ? p.slos : p.series));
  file.metrics.forEach((metric, m) => {
    const canvas = document.createElement('canvas');
    canvas.width = 360;
    canvas.height = 260;
    const cell = document.createElement('div');
    cell.append(canvas);
    grid.append(cell);
    const data = points.map((p, k) => ({ x: sizes[k], y: p.values[m] }));
    const linear = data.map((d) => ({ x: d.x, y: (data[0].y * d.x) / data[0].x }));
    const datasets = [
      { label: 'measured', data, borderColor: '#1f6feb', backgroundColor: '#1f6feb', pointRadius: 4 },
      { label: 'linear growth', data: linear, borderColor: '#8b949e', borderDash: [6, 4], pointRadius: 0 },
    ];
    if (metric.target !== undefined && metric.target !== null)
      datasets.push({
        label: `target ${metric.target} ${metric.unit}`,
        data: data.map((d) => ({ x: d.x, y: metric.target })),
        borderColor: '#cf222e',
        pointRadius: 0,
      });
    new Chart(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: false,
        devicePixelRatio: 2,
        plugins: { title: { display: true, text: `${metric.name} (${metric.unit})` } },
        scales: {
          x: { type: 'logarithmic', title: { display: true, text: along } },
          y: { type: 'logarithmic', title: { display: true, text: metric.unit } },
        },
      },
    });
  });
};

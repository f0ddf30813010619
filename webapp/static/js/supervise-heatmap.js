// PressFlow supervisors' heatmap: colour each step of the process diagram by its median time spent, and draw
// the ECharts charts (applications per week, cycle-time distribution, overdue rate per unit).
//
// The figures come from the page itself (#heatmap-data, the same numbers as the table) and from charts.json.
// Both are enhancements: without JavaScript, or when a request fails, the table above still says everything.
(function () {
  'use strict';

  function fail(container, error) {
    var note = document.createElement('p');
    note.className = 'muted diagram-error';
    note.textContent = container.getAttribute('data-error-text') || 'Unavailable';
    container.appendChild(note);
    if (error && window.console) {
      window.console.warn('PressFlow heatmap:', error);
    }
  }

  function fetchOk(url, kind) {
    return window.fetch(url, { credentials: 'same-origin', headers: { Accept: kind } }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + ' answered ' + response.status);
      }
      return kind === 'application/json' ? response.json() : response.text();
    });
  }

  // Green for the quickest step, red for the slowest: the hue runs from 120 down to 0 with the median.
  function colour(median, slowest) {
    var share = slowest > 0 ? Math.min(median / slowest, 1) : 0;
    return 'hsl(' + Math.round(120 * (1 - share)) + ', 75%, 48%)';
  }

  function paint(viewer, container, steps) {
    var registry = viewer.get('elementRegistry');
    var overlays = viewer.get('overlays');
    var slowest = steps.reduce(function (most, step) { return Math.max(most, step.median_hours); }, 0);
    var median = container.getAttribute('data-median-label') || 'median';
    var hours = container.getAttribute('data-hours-label') || 'h';
    steps.forEach(function (step) {
      var element = registry.get(step.bpmn_id);
      if (!element) {
        return;
      }
      var fill = colour(step.median_hours, slowest);
      var shape = registry.getGraphics(element).querySelector('.djs-visual > rect');
      if (shape) {
        shape.style.fill = fill;
        shape.style.fillOpacity = '0.35';
      }
      var badge = document.createElement('span');
      badge.className = 'heat-badge';
      badge.style.background = fill;
      badge.setAttribute('data-step', step.bpmn_id);
      badge.textContent = median + ' ' + step.median_hours.toFixed(1) + ' ' + hours + ' · P90 ' +
        step.p90_hours.toFixed(1);
      overlays.add(step.bpmn_id, 'pf-heat', { position: { top: -14, left: 0 }, html: badge });
    });
  }

  function drawDiagram(container, data) {
    if (typeof window.BpmnJS !== 'function' || typeof window.fetch !== 'function') {
      fail(container, new Error('bpmn-js viewer not loaded'));
      return;
    }
    var viewer = new window.BpmnJS({ container: container });
    fetchOk(container.getAttribute('data-bpmn-url'), 'application/xml').then(function (xml) {
      return viewer.importXML(xml);
    }).then(function () {
      viewer.get('canvas').zoom('fit-viewport', 'auto');
      paint(viewer, container, data.steps || []);
      container.setAttribute('data-ready', '1');
    }).catch(function (error) {
      viewer.destroy();
      fail(container, error);
    });
  }

  function bar(element, title, labels, values, formatter) {
    var chart = window.echarts.init(element);
    chart.setOption({
      title: { text: title, textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis', valueFormatter: formatter },
      grid: { left: 48, right: 16, bottom: 56, top: 48 },
      xAxis: { type: 'category', data: labels, axisLabel: { rotate: labels.length > 8 ? 45 : 0 } },
      yAxis: { type: 'value', minInterval: 1, axisLabel: formatter ? { formatter: formatter } : {} },
      series: [{ type: 'bar', data: values, itemStyle: { color: '#b42318' } }]
    });
    window.addEventListener('resize', function () { chart.resize(); });
    return chart;
  }

  function drawCharts(container) {
    if (!window.echarts || typeof window.fetch !== 'function') {
      fail(container, new Error('echarts not loaded'));
      return;
    }
    var text = function (name) { return container.getAttribute('data-' + name) || ''; };
    fetchOk(container.getAttribute('data-charts-url'), 'application/json').then(function (data) {
      bar(document.getElementById('chart-weeks'), text('weeks-title'),
        data.weeks.map(function (w) { return w.monday; }), data.weeks.map(function (w) { return w.count; }));
      bar(document.getElementById('chart-cycle'), text('cycle-title'),
        data.cycle_times.map(function (b) {
          return (b.max === null ? '≥' + b.min : b.min + '–' + b.max) + ' ' + text('workdays-label');
        }),
        data.cycle_times.map(function (b) { return b.count; }));
      bar(document.getElementById('chart-overdue'), text('overdue-title'),
        data.overdue_by_unit.map(function (u) { return u.unit; }),
        data.overdue_by_unit.map(function (u) { return Math.round(u.rate * 1000) / 10; }),
        function (value) { return value + '%'; });
      container.setAttribute('data-ready', '1');
    }).catch(function (error) {
      fail(container, error);
    });
  }

  function start() {
    var diagram = document.getElementById('heatmap-diagram');
    var source = document.getElementById('heatmap-data');
    if (diagram && source) {
      drawDiagram(diagram, JSON.parse(source.textContent || '{}'));
    }
    var charts = document.getElementById('supervise-charts');
    if (charts) {
      drawCharts(charts);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());

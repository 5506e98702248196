// Dashboard charts: every element with data-chart="<id>" is drawn with ECharts from the options
// in the JSON of #chart-options (one object, id → ECharts option). No inline script (CSP).
(function () {
  'use strict';
  function draw() {
    var holder = document.getElementById('chart-options');
    if (!holder || !window.echarts) return;
    var options = JSON.parse(holder.getAttribute('data-options'));
    var charts = [];
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var option = options[el.getAttribute('data-chart')];
      if (!option) return;
      // The HTML tooltip writes style="" attributes, which the CSP (style-src 'self') refuses;
      // the tooltip drawn inside the chart needs none.
      if (option.tooltip) option.tooltip.renderMode = 'richText';
      // Light text on the dark wall display.
      if (el.closest('.wall')) {
        option.textStyle = { color: '#e6eefc' };
        option.legend = Object.assign({ textStyle: { color: '#e6eefc' } }, option.legend || {});
      }
      var chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener('resize', function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();

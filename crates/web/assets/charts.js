// Dashboard charts: every element with data-chart="<id>" is drawn with ECharts from the options
// in the JSON of #chart-options (one object, id → ECharts option). No inline script (CSP).
// Region maps: every element with data-map-url is a map of sub-regions (GeoJSON registered with
// echarts.registerMap under data-map-name), coloured by the indicator of the picker that names it
// (select[data-map-for]), with the stations at their coordinates; a click drills down.
// The wall display (#wall) keeps a clock and refreshes its figures from data-live-url.
(function () {
  'use strict';
  var resizers = [];

  function drawMap(el) {
    var data = JSON.parse(el.getAttribute('data-map'));
    var name = el.getAttribute('data-map-name');
    var only = el.getAttribute('data-map-only');
    var drill = el.getAttribute('data-drill');
    var dark = !!el.closest('.wall-screen');
    var picker = document.querySelector('select[data-map-for="' + el.id + '"]');
    var text = dark ? '#e6eefc' : '#1f2a37';
    fetch(el.getAttribute('data-map-url'), { credentials: 'same-origin' })
      .then(function (r) { if (!r.ok) throw new Error('map ' + r.status); return r.json(); })
      .then(function (geo) {
        if (only) {
          geo = { type: 'FeatureCollection', features: geo.features.filter(function (f) { return f.properties.code === only; }) };
        }
        window.echarts.registerMap(name, geo);
        var codeByName = {};
        geo.features.forEach(function (f) { codeByName[f.properties.name] = f.properties.code; });
        var chart = window.echarts.init(el, null, { renderer: 'svg' });
        var option = function (ind) {
          var max = 0;
          var items = geo.features.map(function (f) {
            var r = data.regions[f.properties.code];
            var v = r && r.v[ind] != null ? r.v[ind] : null;
            if (v != null && v > max) max = v;
            return { name: f.properties.name, value: v, code: f.properties.code, text: r ? r.t[ind] : '—' };
          });
          var label = data.labels[ind] || '';
          var small = Math.max(10, Math.round(el.clientWidth / 90));
          // A narrow map (a phone) keeps its legend below, a wide one on the left.
          var narrow = el.clientWidth < 600;
          return {
            tooltip: {
              trigger: 'item', renderMode: 'richText',
              formatter: function (p) {
                if (p.seriesType === 'scatter') return p.value[2];
                return p.name + '\n' + label + ': ' + ((p.data && p.data.text) || '—');
              }
            },
            visualMap: only ? [] : [{
              type: 'continuous', min: 0, max: max || 1, seriesIndex: 0, left: narrow ? 'center' : 8, bottom: 8,
              orient: narrow ? 'horizontal' : 'vertical',
              calculable: false, text: [label, ''], textStyle: { color: text, fontSize: small },
              itemHeight: narrow ? Math.round(el.clientWidth / 2) : Math.max(80, Math.round(el.clientHeight / 4)),
              inRange: { color: dark ? ['#1c3d6e', '#2f7fd1', '#7fd3ff'] : ['#e6f0fb', '#6aa5e0', '#1f5fbf'] }
            }],
            geo: {
              map: name, roam: false, top: 12, bottom: narrow && !only ? 56 : 12, left: only || narrow ? 12 : 110, right: 12,
              label: { show: true, color: text, fontSize: small },
              itemStyle: { areaColor: dark ? '#173a6a' : '#eef3fa', borderColor: dark ? '#7fa7d9' : '#8aa4c8' },
              emphasis: { label: { color: text }, itemStyle: { areaColor: '#ffd666' } }
            },
            series: [
              { type: 'map', geoIndex: 0, data: items },
              {
                type: 'scatter', coordinateSystem: 'geo', symbolSize: Math.max(5, Math.round(small / 2)),
                itemStyle: { color: '#e8590c', borderColor: '#fff', borderWidth: 1 },
                data: data.stations.map(function (s) { return { name: s[2], value: [s[0], s[1], s[2]], region: s[3] }; })
              }
            ]
          };
        };
        var current = function () { return picker ? picker.value : Object.keys(data.labels)[0]; };
        chart.setOption(option(current()));
        chart.on('click', function (p) {
          if (only || !drill) return;
          // A station drills down into the sub-region it stands in.
          var code = p.seriesType === 'scatter'
            ? Object.keys(data.regions).filter(function (c) { return p.data.region && p.data.region.indexOf(c) === 0; })[0]
            : codeByName[p.name];
          var r = code && data.regions[code];
          if (r && r.drill) window.location.href = drill.replace('{code}', code);
        });
        if (picker) picker.addEventListener('change', function () { chart.setOption(option(current()), true); });
        el.mapUpdate = function (regions) { data.regions = regions; chart.setOption(option(current()), true); };
        el.setAttribute('data-map-ready', '1');
        resizers.push(chart);
      })
      .catch(function () { el.setAttribute('data-map-ready', 'error'); });
  }

  // Shrink a figure's font until it fits its box (no clipped value).
  function fit(root) {
    root.querySelectorAll('.kpi-value').forEach(function (e) {
      e.style.fontSize = '';
      var size = parseFloat(window.getComputedStyle(e).fontSize);
      while (e.scrollWidth > e.clientWidth && size > 8) {
        size = size * 0.92;
        e.style.fontSize = size + 'px';
      }
    });
  }

  function wall(w) {
    var clock = document.getElementById('wall-clock');
    var locale = document.documentElement.lang === 'en' ? 'en-GB' : 'zh-CN';
    var tick = function () { clock.textContent = new Date().toLocaleString(locale, { hour12: false }); };
    tick();
    setInterval(tick, 1000);
    var picker = document.getElementById('map-indicator');
    var live = JSON.parse(w.getAttribute('data-live'));
    var ind = function () { return picker ? picker.value : w.getAttribute('data-sort'); };
    var ranking = function () {
      var i = ind();
      var rows = Object.keys(live.regions).map(function (c) { return live.regions[c]; });
      rows.sort(function (a, b) { return b.v[i] - a.v[i]; });
      var max = rows.length && rows[0].v[i] > 0 ? rows[0].v[i] : 1;
      var ol = document.getElementById('wall-ranking');
      ol.textContent = '';
      rows.slice(0, 10).forEach(function (r, n) {
        var li = document.createElement('li');
        var rank = document.createElement('span'); rank.className = 'rk-n'; rank.textContent = String(n + 1);
        var nm = document.createElement('span'); nm.className = 'rk-name'; nm.textContent = r.name;
        var v = document.createElement('span'); v.className = 'rk-value'; v.textContent = r.t[i];
        var m = document.createElement('meter'); m.min = 0; m.max = 100; m.value = Math.round(r.v[i] * 100 / max);
        li.append(rank, nm, v, m);
        ol.appendChild(li);
      });
      document.getElementById('ranking-indicator').textContent = '· ' + (live.labels[i] || '');
    };
    var render = function () {
      Object.keys(live.kpis).forEach(function (k) {
        var e = w.querySelector('[data-kpi="' + k + '"]');
        if (e) e.textContent = live.kpis[k];
      });
      document.getElementById('wall-updated').textContent = live.updated;
      ranking();
      var m = document.getElementById('region-map');
      if (m && m.mapUpdate) m.mapUpdate(live.regions);
      fit(w);
    };
    render();
    if (picker) picker.addEventListener('change', ranking);
    window.addEventListener('resize', function () { fit(w); });
    var every = Math.max(10, parseInt(w.getAttribute('data-refresh'), 10) || 60) * 1000;
    setInterval(function () {
      fetch(w.getAttribute('data-live-url'), { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) { if (j) { live = j; render(); w.setAttribute('data-refreshed', String(Date.now())); } })
        .catch(function () {});
    }, every);
  }

  function draw() {
    if (!window.echarts) return;
    document.querySelectorAll('[data-map-url]').forEach(drawMap);
    var w = document.getElementById('wall');
    if (w) wall(w);
    var holder = document.getElementById('chart-options');
    if (!holder) {
      window.addEventListener('resize', function () { resizers.forEach(function (c) { c.resize(); }); });
      return;
    }
    var options = JSON.parse(holder.getAttribute('data-options'));
    var charts = [];
    document.querySelectorAll('[data-chart]').forEach(function (el) {
      var option = options[el.getAttribute('data-chart')];
      if (!option) return;
      // The HTML tooltip writes style="" attributes, which the CSP (style-src 'self') refuses;
      // the tooltip drawn inside the chart needs none.
      if (option.tooltip) option.tooltip.renderMode = 'richText';
      var chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener('resize', function () {
      charts.concat(resizers).forEach(function (c) { c.resize(); });
    });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', draw);
  } else {
    draw();
  }
})();

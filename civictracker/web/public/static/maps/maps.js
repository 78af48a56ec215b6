/* The site's Leaflet maps (geo.maps): ctMaps.public(map, cfg) fetches the viewport's reports on every move,
   ctMaps.ticket(map, cfg) holds one pin (draggable on the console). The page passes cfg with tojson in a
   <script type="application/json" data-ct-map=kind data-ct-map-for=element-id> block, read below. */
(function () {
  'use strict';

  function baseMap(map, cfg) {
    if (cfg.maxBounds) { map.setMaxBounds(cfg.maxBounds); }
    map.setView(cfg.center, cfg.zoom);
    L.control.scale().addTo(map);
    L.tileLayer(cfg.tiles.url, {maxZoom: cfg.tiles.maxZoom, attribution: cfg.tiles.attribution}).addTo(map);
    window[map.getContainer().id] = map;  // pages add their own layers to the map by its element id
    return map;
  }

  function formQuery(form, q) {
    if (form) { new FormData(form).forEach(function (v, k) { if (v !== '') { q.append(k, v); } }); }
    return q;
  }

  function publicMap(map, cfg) {
    baseMap(map, cfg);
    var layer = L.layerGroup().addTo(map);
    var box = map.getContainer();
    var statusEl = document.getElementById(cfg.statusId);
    var form = document.getElementById(cfg.formId);
    var ctrl = null, timer = null;
    function colour(code) { return cfg.colors[code] || '#555'; }
    function query() {
      var b = map.getBounds();
      var q = new URLSearchParams();
      q.set('bbox', [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(5); }).join(','));
      q.set('zoom', String(map.getZoom()));
      return formQuery(form, q);
    }
    function popup(p) {
      var d = document.createElement('div');
      var a = document.createElement('a');
      a.href = p.url; a.textContent = p.title; a.className = 'ct-popup-link';
      var s = document.createElement('div');
      s.className = 'ct-popup-status'; s.textContent = cfg.statusLabels[p.status] || p.status;
      d.appendChild(a); d.appendChild(s);
      return d;
    }
    function icon(cls, size, bg, text) {
      var span = document.createElement('span');
      span.style.background = bg; span.style.width = size + 'px'; span.style.height = size + 'px';
      if (text) { span.textContent = text; }
      return L.divIcon({className: cls, html: span, iconSize: [size, size]});
    }
    function marker(f) {
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var p = f.properties, m;
      if (p.cluster) {
        var size = Math.round(28 + Math.min(26, Math.log(p.count) * 4));
        m = L.marker(ll, {icon: icon('ct-cluster', size, colour(p.service), String(p.count)),
                          title: p.count + ' reports', alt: p.count + ' reports'});
        m.on('click', function () { map.setView(ll, Math.min(map.getZoom() + 2, 19)); });
      } else {
        var closed = cfg.closedStatuses.indexOf(p.status) >= 0;
        m = L.marker(ll, {icon: icon('ct-dot' + (closed ? ' ct-closed' : ''), 16, colour(p.service)),
                          title: p.title, alt: p.title});
        m.bindPopup(popup(p));
      }
      return m;
    }
    function draw(data) {
      layer.clearLayers();
      data.features.forEach(function (f) {
        var m = marker(f);
        layer.addLayer(m);
        var el = m.getElement && m.getElement();
        if (el) {
          el.dataset.kind = f.properties.cluster ? 'cluster' : 'ticket';
          if (f.properties.id) { el.dataset.ticketId = f.properties.id; }
        }
      });
      var count = data.total === 1 ? '1 report in view' : data.total + ' reports in view';
      var grouped = data.features.some(function (f) { return f.properties && f.properties.cluster; });
      var shown = data.total === 0 ? 'No open reports in view'
        : (data.mode === 'points' || !grouped) ? count
        : count + ', grouped by area (zoom in for single reports)';
      // The API's notice (area clipped to the city, or outside it) matters to a resident only when the
      // map shows nothing; a view wider than the city is the normal city-wide view.
      var notice = data.total === 0 && data.notice ? ' · ' + data.notice : '';
      if (statusEl) { statusEl.textContent = shown + notice; }
      box.dataset.features = String(data.features.length);
      box.dataset.mode = data.mode;
    }
    function load() {
      if (ctrl) { ctrl.abort(); }
      ctrl = new AbortController();
      box.dataset.loading = '1';
      var opts = {signal: ctrl.signal, headers: {Accept: 'application/geo+json'}};
      fetch(cfg.endpoint + '?' + query().toString(), opts)
        .then(function (r) { return r.json().then(function (d) {
          if (!r.ok) { throw new Error(d.description || r.statusText); } return d; }); })
        .then(function (d) { draw(d); box.dataset.loading = '0'; })
        .catch(function (e) {
          if (e.name === 'AbortError') { return; }
          box.dataset.loading = '0';
          if (statusEl) { statusEl.textContent = 'Could not load reports: ' + e.message; }
        });
    }
    function later() { clearTimeout(timer); timer = setTimeout(load, 120); }
    map.on('moveend', later);
    if (form) {
      form.addEventListener('change', function () {
        var q = formQuery(form, new URLSearchParams());
        history.replaceState(null, '', q.toString() ? '?' + q.toString() : location.pathname);
        load();
      });
      form.addEventListener('submit', function (ev) { ev.preventDefault(); load(); });
    }
    window.ctPublicMap = map;
    load();
  }

  function ticketMap(map, cfg) {
    baseMap(map, cfg);
    var span = document.createElement('span');
    span.style.background = cfg.color;
    var pin = L.marker([cfg.lat, cfg.lon], {
      draggable: cfg.draggable, title: cfg.label, alt: cfg.label, autoPan: true,
      icon: L.divIcon({className: 'ct-pin', html: span, iconSize: [22, 22], iconAnchor: [11, 26]})
    }).addTo(map);
    function put(id, v) {
      var el = id && document.getElementById(id);
      if (el) { el.value = v.toFixed(6); el.dispatchEvent(new Event('change', {bubbles: true})); }
    }
    if (cfg.draggable) {
      var moved = function (ll) { put(cfg.latInput, ll.lat); put(cfg.lonInput, ll.lng); };
      pin.on('dragend', function () { moved(pin.getLatLng()); });
      map.on('click', function (ev) { pin.setLatLng(ev.latlng); moved(ev.latlng); });
    }
    map.getContainer().ctPin = pin;
  }

  window.ctMaps = {public: publicMap, ticket: ticketMap};

  // Start every map whose configuration block (geo/templates/map_parts.html) precedes this script.
  document.querySelectorAll('script[data-ct-map]:not([data-ct-started])').forEach(function (block) {
    block.setAttribute('data-ct-started', '1');
    var start = window.ctMaps[block.getAttribute('data-ct-map')];
    if (start) { start(L.map(block.getAttribute('data-ct-map-for')), JSON.parse(block.textContent)); }
  });
})();

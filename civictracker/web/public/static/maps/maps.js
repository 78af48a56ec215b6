/* The site's Leaflet maps (geo.maps): ctMaps.public(map, cfg) fetches the viewport's reports (and the list
   beside the map) on every move, keeps filters and view in the address bar, and answers the search box;
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

  // Enter or Space on a focused marker, group or street line does what a click does.
  function operable(el, label, action) {
    if (!el) { return; }
    el.setAttribute('tabindex', '0');
    el.setAttribute('role', 'button');
    el.setAttribute('aria-label', label);
    el.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ' || ev.key === 'Spacebar') {
        ev.preventDefault(); ev.stopPropagation(); action(true);
      }
    });
  }

  var AGO = (typeof Intl !== 'undefined' && Intl.RelativeTimeFormat)
    ? new Intl.RelativeTimeFormat('en', {numeric: 'auto'}) : null;
  function age(iso) {
    var s = (Date.now() - Date.parse(iso)) / 1000;
    var steps = [[60, 'second'], [3600, 'minute'], [86400, 'hour'], [604800, 'day'], [2629800, 'week'],
                 [31557600, 'month'], [Infinity, 'year']];
    var unit = 1, name = 'second';
    for (var i = 0; i < steps.length; i++) {
      name = steps[i][1];
      if (s < steps[i][0]) { break; }
      unit = steps[i][0];
    }
    var n = Math.max(0, Math.round(s / unit));
    return AGO ? AGO.format(-n, name) : n + ' ' + name + (n === 1 ? '' : 's') + ' ago';
  }

  // The map's view in the address bar (#map=zoom/lat/lon, as openstreetmap.org writes it).
  function viewFromHash() {
    var m = /^#map=(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    if (!m) { return null; }
    var z = parseInt(m[1], 10), lat = parseFloat(m[2]), lon = parseFloat(m[3]);
    if (z > 19 || Math.abs(lat) > 90 || Math.abs(lon) > 180) { return null; }
    return {zoom: z, center: [lat, lon]};
  }

  function publicMap(map, cfg) {
    var start = viewFromHash();
    if (start) { cfg = Object.assign({}, cfg, start); }
    baseMap(map, cfg);
    var layer = L.layerGroup().addTo(map);
    var found = L.layerGroup().addTo(map);
    var glow = L.layerGroup().addTo(map);  // the ring at the list item under the pointer or the focus
    var byId = {};  // report id -> its marker or line in the current view
    var box = map.getContainer();
    var statusEl = document.getElementById(cfg.statusId);
    var form = document.getElementById(cfg.formId);
    var listEl = document.getElementById(cfg.listId);
    var ctrl = null, listCtrl = null, timer = null, lastTotal = null, listData = null, refocus = false;
    // data-loading says '1' until what is drawn is the view's and nothing more is coming: no move under way
    // (a move's end starts a load), no load waiting for its timer, no answer outstanding. A load answered
    // while the map still moves (a pan that a focus or a popup started, a zoom that a key started) leaves it
    // at '1': the move's own load follows and redraws the markers.
    var moving = false, zooming = false, mapBusy = false, listBusy = false, restoring = false;
    function loadingState() {
      var coming = moving || timer !== null;
      box.dataset.loading = coming || mapBusy ? '1' : '0';
      if (listEl) { listEl.dataset.loading = coming || listBusy ? '1' : '0'; }
    }
    var openId = null;  // the report whose popup is open
    map.on('popupopen', function (e) { openId = e.popup.ctId || null; });
    var cityName = (statusEl && statusEl.dataset.city) || 'the city';
    function colour(code) { return cfg.colors[code] || '#848482'; }
    function ink(code) { return cfg.inks[code] || '#000000'; }
    function filterQuery() { return formQuery(form, new URLSearchParams()); }
    function query() {
      var b = map.getBounds();
      var q = new URLSearchParams();
      q.set('bbox', [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(5); }).join(','));
      q.set('zoom', String(map.getZoom()));
      return formQuery(form, q);
    }
    function syncUrl() {
      var q = filterQuery();
      var searched = document.getElementById('q');
      if (searched && searched.value.trim()) { q.set('q', searched.value.trim()); }
      var c = map.getCenter();
      var hash = '#map=' + map.getZoom() + '/' + c.lat.toFixed(5) + '/' + c.lng.toFixed(5);
      history.replaceState(null, '', (q.toString() ? '?' + q.toString() : location.pathname) + hash);
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
    function icon(cls, size, bg, text, fg) {
      var span = document.createElement('span');
      span.style.background = bg; span.style.width = size + 'px'; span.style.height = size + 'px';
      if (text) { span.textContent = text; span.style.color = fg; }
      return L.divIcon({className: cls, html: span, iconSize: [size, size]});
    }
    // The link of this popup: not the first one in the page, which may be a closed popup still fading out
    // (Leaflet removes it 200 ms later, and the focus with it).
    function focusLink(m) {
      var el = m.getPopup() && m.getPopup().getElement();
      var link = el && el.querySelector('a.ct-popup-link');
      if (link) { link.focus(); }
    }
    function openAndFocus(m) {
      m.openPopup();
      focusLink(m);
    }
    // The map while a zoom animates ignores a new view (Leaflet drops it): a group pressed then zooms once
    // the move has ended, so no key press is lost.
    function whenStill(fn) {
      if (zooming) { map.once('moveend', fn); } else { fn(); }
    }
    function marker(f) {
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var p = f.properties, m, label, action;
      var closed = !p.cluster && cfg.closedStatuses.indexOf(p.status) >= 0;
      if (p.cluster) {
        var size = Math.round(28 + Math.min(26, Math.log(p.count) * 4));
        m = L.marker(ll, {icon: icon('ct-cluster', size, colour(p.service), String(p.count), ink(p.service)),
                          keyboard: false, autoPanOnFocus: false});
        // By keyboard the focus then goes to the first marker of the closer view (the group is gone).
        action = function (byKey) {
          refocus = byKey === true;
          whenStill(function () { map.setView(ll, Math.min(map.getZoom() + 2, 19)); });
        };
        label = p.count + ' reports here: zoom in';
        m.on('click', action);
      } else if (p.line) {
        m = L.polyline(p.line.map(function (c) { return [c[1], c[0]]; }), {
          color: colour(p.service), weight: 7, opacity: closed ? 0.6 : 0.9, lineCap: 'round',
          dashArray: closed ? '8 8' : null, className: 'ct-line'});
        m.bindPopup(popup(p));
        m.getPopup().ctId = p.id;
        label = p.title + ' (' + (cfg.statusLabels[p.status] || p.status) + ', along the street)';
        action = function () { openAndFocus(m); };
      } else {
        m = L.marker(ll, {icon: icon('ct-dot' + (closed ? ' ct-closed' : ''), 16, colour(p.service)),
                          keyboard: false, autoPanOnFocus: false});
        m.bindPopup(popup(p));
        m.getPopup().ctId = p.id;
        label = p.title + ' (' + (cfg.statusLabels[p.status] || p.status) + ')';
        action = function () { openAndFocus(m); };
      }
      return {layer: m, label: label, action: action};
    }
    function statusText(total, grouped, mode, notice) {
      var st = form && form.elements.status ? form.elements.status.value : 'open';
      var what = st === 'closed' ? 'recently closed reports' : st === 'all' ? 'open or recently closed reports'
        : 'open reports';
      if (total === 0) {
        // Outside the city is where the map is, not a fault: say what the map covers.
        return notice && /outside/.test(notice) ? 'This part of the map is outside ' + cityName +
          ': reports are shown only within the city.' : 'No ' + what + ' in view.';
      }
      var count = total + ' ' + (total === 1 ? what.replace('reports', 'report') : what) + ' in view';
      return (mode === 'points' || !grouped) ? count : count + ', grouped by area (zoom in for single reports)';
    }
    // A marker or group the resident moves the focus to comes fully into view (Leaflet's autoPanOnFocus,
    // less the focus a redraw puts back).
    function panToFocus(m) {
      return function () {
        if (restoring) { return; }
        var size = m.options.icon.options.iconSize;
        map.panInside(m.getLatLng(), {paddingBottomRight: size ? L.point(size) : L.point(0, 0)});
      };
    }
    function draw(data) {
      // A popup open across a redraw (its opening panned the map) opens again on the new marker.
      var active = document.activeElement;
      var reopen = openId, focusIn = !!active && !!active.closest && !!active.closest('.leaflet-popup');
      // A marker, line or group with the focus keeps it across the redraw (keyboard users lose no place):
      // found again by its key (a report's id, a group's point); if it is gone, the first marker has it.
      var focusedKey = active && box.contains(active) && active.dataset ? active.dataset.key : null;
      layer.clearLayers();
      byId = {};
      var again = null, same = null;
      data.features.forEach(function (f) {
        var made = marker(f);
        layer.addLayer(made.layer);
        if (f.properties.id && !f.properties.cluster) { byId[f.properties.id] = made.layer; }
        if (reopen && f.properties.id === reopen && !f.properties.cluster) { again = made.layer; }
        var el = made.layer.getElement && made.layer.getElement();
        if (el) {
          operable(el, made.label, made.action);
          el.dataset.kind = f.properties.cluster ? 'cluster' : f.properties.line ? 'line' : 'ticket';
          if (f.properties.id) { el.dataset.ticketId = f.properties.id; }
          el.dataset.key = f.properties.cluster ? 'group:' + f.geometry.coordinates.join(',')
            : 'report:' + f.properties.id;
          if (focusedKey && !same && el.dataset.key === focusedKey) { same = el; }
          if (made.layer.getLatLng) { el.addEventListener('focus', panToFocus(made.layer)); }
        }
      });
      // The focus put back by a redraw does not move the map (that move would redraw again, and so on).
      restoring = true;
      if (focusedKey && !focusIn) {
        same = same || box.querySelector('[data-kind]');
        if (same) { same.focus(); }
      }
      if (again) {
        again.openPopup();
        if (focusIn) { focusLink(again); }
      }
      if (refocus) {
        refocus = false;
        var first = box.querySelector('[data-kind]');
        if (first) { first.focus(); }
      }
      restoring = false;
      var grouped = data.features.some(function (f) { return f.properties && f.properties.cluster; });
      lastTotal = data.total;
      if (statusEl) { statusEl.textContent = statusText(data.total, grouped, data.mode, data.notice); }
      box.dataset.features = String(data.features.length);
      box.dataset.mode = data.mode;
      drawList();
    }
    // A list item under the pointer or with the focus shows where its report is: its marker or line
    // stands out on top, and a ring marks the point (also when the report is inside a group).
    function highlight(r, on) {
      glow.clearLayers();
      box.querySelectorAll('.ct-highlight').forEach(function (el) { el.classList.remove('ct-highlight'); });
      Object.keys(byId).forEach(function (id) { if (byId[id].setZIndexOffset) { byId[id].setZIndexOffset(0); } });
      if (!on) { delete listEl.dataset.highlight; return; }
      listEl.dataset.highlight = String(r.id);
      var m = byId[r.id], el = m && m.getElement && m.getElement();
      if (el) { el.classList.add('ct-highlight'); }
      if (m && m.setZIndexOffset) { m.setZIndexOffset(1000); }
      if (m && m.bringToFront) { m.bringToFront(); }
      if (r.point) {
        glow.addLayer(L.circleMarker([r.point[1], r.point[0]], {radius: 15, color: '#0b5cad', weight: 3,
          fill: false, interactive: false, className: 'ct-list-glow'}));
      }
    }
    function drawList() {
      if (!listEl || !listData) { return; }
      var items = listEl.querySelector('ol'), summary = listEl.querySelector('.ct-list-summary');
      items.textContent = '';
      highlight(null, false);
      listData.reports.forEach(function (r) {
        var li = document.createElement('li');
        var a = document.createElement('a');
        a.href = r.url; a.className = 'ct-list-link';
        var colourDot = document.createElement('span');
        colourDot.className = 'ct-list-dot'; colourDot.style.background = colour(r.code);
        colourDot.setAttribute('aria-hidden', 'true');
        a.appendChild(colourDot);
        a.appendChild(document.createTextNode(r.service));
        var place = document.createElement('span');
        place.className = 'ct-list-place'; place.textContent = r.place || 'Place withheld';
        var meta = document.createElement('span');
        meta.className = 'ct-list-meta';
        var badge = document.createElement('span');
        var closed = cfg.closedStatuses.indexOf(r.status) >= 0;
        badge.className = 'badge ' + (closed ? 'closed' : 'open');
        badge.textContent = cfg.statusLabels[r.status] || r.status;
        var time = document.createElement('time');
        time.dateTime = r.created; time.textContent = 'reported ' + age(r.created);
        time.title = new Date(r.created).toLocaleString();
        meta.appendChild(badge); meta.appendChild(document.createTextNode(' #' + r.id + ' · '));
        meta.appendChild(time);
        li.appendChild(a); li.appendChild(place); li.appendChild(meta);
        li.addEventListener('mouseenter', function () { highlight(r, true); });
        li.addEventListener('mouseleave', function () { highlight(r, false); });
        a.addEventListener('focus', function () { highlight(r, true); });
        a.addEventListener('blur', function () { highlight(r, false); });
        items.appendChild(li);
      });
      var n = listData.reports.length;
      if (summary) {
        summary.textContent = n === 0 ? 'No reports to list in view.'
          : listData.more ? 'The ' + n + ' newest' + (lastTotal ? ' of ' + lastTotal : '') + ' in view; zoom in for others.'
          : (n === 1 ? '1 report' : n + ' reports') + ' in view, newest first.';
      }
      listEl.dataset.count = String(n);
    }
    function getJson(url, signal) {
      return fetch(url, {signal: signal, headers: {Accept: 'application/json'}})
        .then(function (r) { return r.json().then(function (d) {
          if (!r.ok) { throw new Error(d.description || r.statusText); } return d; }); });
    }
    function load() {
      clearTimeout(timer);
      timer = null;
      if (ctrl) { ctrl.abort(); }
      ctrl = new AbortController();
      mapBusy = true;
      var q = query().toString();
      getJson(cfg.endpoint + '?' + q, ctrl.signal)
        .then(function (d) { draw(d); mapBusy = false; loadingState(); })
        .catch(function (e) {
          if (e.name === 'AbortError') { return; }
          mapBusy = false;
          loadingState();
          if (statusEl) { statusEl.textContent = 'Could not load reports: ' + e.message; }
        });
      if (cfg.listEndpoint && listEl) {
        if (listCtrl) { listCtrl.abort(); }
        listCtrl = new AbortController();
        listBusy = true;
        getJson(cfg.listEndpoint + '?' + q, listCtrl.signal)
          .then(function (d) { listData = d; drawList(); listBusy = false; loadingState(); })
          .catch(function (e) {
            if (e.name === 'AbortError') { return; }
            listBusy = false;
            loadingState();
            var summary = listEl.querySelector('.ct-list-summary');
            if (summary) { summary.textContent = 'Could not load the list: ' + e.message; }
          });
      }
      loadingState();
    }
    function later() { clearTimeout(timer); timer = setTimeout(load, 120); loadingState(); }
    // From the start of a move on, what is drawn is about to change.
    map.on('movestart', function () { moving = true; loadingState(); });
    map.on('zoomstart', function () { zooming = true; });
    map.on('zoomend', function () { zooming = false; });
    map.on('moveend', function () { moving = false; zooming = false; syncUrl(); later(); });
    if (form) {
      form.addEventListener('change', function () { syncUrl(); load(); });
      form.addEventListener('submit', function (ev) { ev.preventDefault(); load(); });
    }
    // A popup closed from the keyboard (Escape, its close button) hands the focus back to its marker.
    map.on('popupclose', function (e) {
      if (openId === e.popup.ctId) { openId = null; }
      if (!layer.getLayers().length || !e.popup.ctId) { return; }
      var el = box.querySelector('[data-ticket-id="' + e.popup.ctId + '"]');
      var active = document.activeElement;
      if (el && (!active || active === document.body || box.contains(active))) { el.focus(); }
    });
    // Leaflet closes a popup on Escape only while the map itself has the focus, not its link.
    box.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && box.querySelector('.leaflet-popup')) { ev.preventDefault(); map.closePopup(); }
    });
    setupSearch(map, cfg, found, syncUrl, !start);
    window.ctPublicMap = map;
    load();
  }

  // The search box: one text, answered by the server (address, corner, street, place or report number).
  function setupSearch(map, cfg, found, syncUrl, flyOnLoad) {
    var sform = document.getElementById(cfg.searchId);
    if (!sform || !cfg.searchEndpoint) { return; }
    var input = sform.querySelector('input[name=q]');
    var msg = document.getElementById('search-message');
    var list = document.getElementById('search-matches');
    var sctrl = null;
    function go(m) {
      found.clearLayers();
      if (m.bbox) {
        map.flyToBounds([[m.bbox[1], m.bbox[0]], [m.bbox[3], m.bbox[2]]], {maxZoom: 17, padding: [20, 20]});
      } else if (m.point) {
        map.flyTo([m.point[1], m.point[0]], m.zoom);
      }
      if (m.point) {
        L.circleMarker([m.point[1], m.point[0]], {radius: 14, color: '#0b5cad', weight: 3, fill: false,
          interactive: false, className: 'ct-found'}).addTo(found);
      }
    }
    function show(d) {
      list.textContent = '';
      msg.textContent = d.message || (d.matches.length === 1 ? 'Found: ' + d.matches[0].label
        : d.matches.length + ' matches: pick one.');
      d.matches.forEach(function (m) {
        var li = document.createElement('li');
        var b = document.createElement('button');
        b.type = 'button'; b.className = 'ct-match';
        b.textContent = m.label;
        b.disabled = !m.point;
        b.addEventListener('click', function () { go(m); });
        li.appendChild(b);
        if (m.url) {
          var a = document.createElement('a');
          a.href = m.url; a.textContent = 'Open report'; a.className = 'ct-match-link';
          li.appendChild(document.createTextNode(' '));
          li.appendChild(a);
        }
        list.appendChild(li);
      });
      if (d.matches.length && d.matches[0].point) { go(d.matches[0]); }
    }
    function run() {
      if (sctrl) { sctrl.abort(); }
      sctrl = new AbortController();
      var q = new URLSearchParams({q: input.value});
      sform.dataset.loading = '1';
      fetch(cfg.searchEndpoint + '?' + q.toString(), {signal: sctrl.signal, headers: {Accept: 'application/json'}})
        .then(function (r) { return r.json(); })
        .then(function (d) {
          sform.dataset.loading = '0';
          if (d.matches) { show(d); } else { list.textContent = ''; msg.textContent = d.description || 'The search failed.'; }
          syncUrl();
        })
        .catch(function (e) {
          if (e.name === 'AbortError') { return; }
          sform.dataset.loading = '0';
          msg.textContent = 'The search could not be answered: ' + e.message;
        });
    }
    sform.addEventListener('submit', function (ev) { ev.preventDefault(); run(); });
    // A shared link with a search and no view of its own goes to what it searched.
    if (input.value.trim() && flyOnLoad) { run(); }
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

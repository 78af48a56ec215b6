/* The ticket page's street span: a street-wide report ("snow on Hampshire St between Windsor and
   Prospect") is drawn as its line on the page's map (geo.maps ticket map, started by maps.js before this
   file), in place of the pin. The points come in <script type="application/json" id="ticket-line"> as
   [[lon, lat], ...]; nothing here runs without that block and the map. */
(function () {
  'use strict';
  var block = document.getElementById('ticket-line');
  if (!block || !window.L) { return; }
  var map = window[block.getAttribute('data-map')];
  var points = JSON.parse(block.textContent);
  if (!map || !points || points.length < 2) { return; }
  var latlngs = points.map(function (p) { return [p[1], p[0]]; });
  // A white casing under the colour keeps the line visible on any tile colour.
  L.polyline(latlngs, {color: '#ffffff', weight: 10, opacity: 0.9, interactive: false}).addTo(map);
  var line = L.polyline(latlngs, {
    color: block.getAttribute('data-color') || '#0b5cad', weight: 6, opacity: 1, lineCap: 'round'
  }).addTo(map);
  line.bindTooltip(block.getAttribute('data-label') || '');
  var container = map.getContainer();
  if (container.ctPin) { map.removeLayer(container.ctPin); }
  container.dataset.line = String(latlngs.length);
  // The zoom buttons sit top left: keep the line's ends clear of them.
  map.fitBounds(line.getBounds(), {paddingTopLeft: [48, 24], paddingBottomRight: [24, 24], maxZoom: 18});
})();

// The catalogue's map: Leaflet (vendored, static/leaflet) with one circle marker per programme on a plain
// background (no tiles, no network). Each marker links to the programme's page.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("map");
  if (!box || typeof L === "undefined") { return; }
  var markers = JSON.parse(box.dataset.markers || "[]");
  var map = L.map(box, { attributionControl: false, zoomControl: true });
  var bounds = [];
  markers.forEach(function (m) {
    var link = document.createElement("a");
    link.href = m.href;
    link.textContent = m.title;
    L.circleMarker([m.lat, m.lon], { radius: 9, color: "#0b4f8a", weight: 2, fillColor: "#0b4f8a", fillOpacity: 0.7 })
      .addTo(map).bindPopup(link).bindTooltip(m.title);
    bounds.push([m.lat, m.lon]);
  });
  if (bounds.length > 1) { map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15 }); }
  else if (bounds.length === 1) { map.setView(bounds[0], 14); }
  else { map.setView([51.13, 71.43], 11); }
  box.dataset.ready = String(markers.length);
});

// Illegal dumping maps. On the overview: the density grid (the heat map), hot spots
// and reports from the page's own JSON. On the report form: a click fills in the
// latitude and longitude inputs, which work alone without this script.
(function () {
  "use strict";
  if (typeof L === "undefined") {
    return;
  }
  var CENTRE = [49.45, 5.95];

  function baseMap(element) {
    var map = L.map(element, { scrollWheelZoom: false, zoomSnap: 0.25 });
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, {
        maxZoom: 19,
        attribution: element.dataset.attribution || ""
      }).addTo(map);
    }
    return map;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function overview(element) {
    var features = JSON.parse(document.getElementById("dumping-features").textContent);
    var grid = JSON.parse(document.getElementById("dumping-grid").textContent);
    var map = baseMap(element);
    var heat = L.layerGroup();
    var highest = grid.reduce(function (top, cell) { return Math.max(top, cell.count); }, 1);
    grid.forEach(function (cell) {
      L.rectangle(cell.bounds, {
        stroke: false, fillColor: "#b3261e", fillOpacity: 0.15 + 0.6 * cell.count / highest,
        className: "dumping-cell"
      }).addTo(heat);
    });
    var drawn = L.geoJSON(features, {
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        if (p.kind === "hotspot") {
          return L.circle(latlng, {
            radius: Math.max(p.radius_m, 50), color: "#7a1d14", weight: 3, fill: false,
            className: "dumping-hotspot"
          });
        }
        return L.circleMarker(latlng, {
          radius: 5, color: p.source === "citizen" ? "#0b5d4b" : "#3a3f8f", weight: 2,
          fillOpacity: p.status === "open" ? 0.9 : 0.1, className: "dumping-report"
        });
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        var text = p.kind === "hotspot"
          ? format(element.dataset.labelHotspot, p)
          : (p.source === "citizen" ? element.dataset.labelCitizen : element.dataset.labelAgent)
            + " — " + p.observed_on;
        layer.bindTooltip(text);
      }
    });
    // The view first, from the points themselves: Leaflet places vector layers (and
    // measures circles) only on a map that has one.
    var points = features.features.map(function (feature) {
      var xy = feature.geometry.coordinates;
      return [xy[1], xy[0]];
    });
    if (points.length > 0) {
      map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 16 });
    } else {
      map.setView(CENTRE, 12);
    }
    heat.addTo(map);
    drawn.addTo(map);
    element.dataset.cellsDrawn = String(grid.length);
    element.dataset.featuresDrawn = String(drawn.getLayers().length);
  }

  function picker(element) {
    var lat = document.getElementById("id_lat");
    var lon = document.getElementById("id_lon");
    if (!lat || !lon) {
      return;
    }
    element.hidden = false;
    var map = baseMap(element);
    var marker = null;
    var start = lat.value && lon.value ? [parseFloat(lat.value), parseFloat(lon.value)] : null;
    map.setView(start || CENTRE, start ? 16 : 12);
    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.circleMarker(latlng, { radius: 7, color: "#b3261e" }).addTo(map);
      }
    }
    if (start) {
      place(start);
    }
    map.on("click", function (event) {
      lat.value = event.latlng.lat.toFixed(5);
      lon.value = event.latlng.lng.toFixed(5);
      place(event.latlng);
    });
  }

  var element = document.getElementById("dumping-map");
  if (element) {
    overview(element);
  }
  var pick = document.getElementById("dumping-pick");
  if (pick) {
    picker(pick);
  }
})();

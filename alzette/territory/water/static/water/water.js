// Water network map: district outlines and their sensors, from the page's own JSON.
(function () {
  "use strict";
  if (typeof L === "undefined") {
    return;
  }
  var element = document.getElementById("water-map");
  if (!element) {
    return;
  }
  var data = JSON.parse(document.getElementById("water-features").textContent);
  var map = L.map(element, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19, attribution: element.dataset.attribution || ""
    }).addTo(map);
  }
  var labels = {
    inflow: element.dataset.labelInflow, pressure: element.dataset.labelPressure,
    quality: element.dataset.labelQuality, district: element.dataset.labelDistrict
  };
  var shapes = { inflow: "■", pressure: "▲", quality: "●" };
  var drawn = L.geoJSON(data, {
    style: function () { return { color: "#1d4f91", weight: 2, fillOpacity: 0.08 }; },
    pointToLayer: function (feature, latlng) {
      var kind = feature.properties.kind;
      return L.marker(latlng, {
        icon: L.divIcon({ className: "water-marker water-" + kind, html: shapes[kind] || "●",
                          iconSize: [16, 16] }),
        keyboard: false
      });
    },
    onEachFeature: function (feature, layer) {
      var p = feature.properties;
      layer.bindTooltip((labels[p.kind] || "") + " — " + p.name);
    }
  }).addTo(map);
  var bounds = drawn.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [16, 16], maxZoom: 15 });
  } else {
    map.setView([49.45, 5.95], 12);
  }
  element.dataset.featuresDrawn = String(drawn.getLayers().length);
})();

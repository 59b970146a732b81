// Draws a round's routes from the page's own GeoJSON (one colour per truck, stops
// numbered in their tooltips). The tables under the map hold the same stops.
(function () {
  "use strict";
  var element = document.getElementById("rounds-map");
  var source = document.getElementById("rounds-features");
  if (!element || !source || typeof L === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var map = L.map(element, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 18,
      attribution: element.dataset.attribution || ""
    }).addTo(map);
  }
  var drawn = L.geoJSON(data, {
    style: function (feature) {
      return { color: feature.properties.colour, weight: 3, opacity: 0.85 };
    },
    pointToLayer: function (feature, latlng) {
      var p = feature.properties;
      if (p.kind === "depot") {
        return L.circleMarker(latlng, { radius: 9, color: "#1f2933", weight: 3, fillColor: "#ffffff", fillOpacity: 1 });
      }
      return L.circleMarker(latlng, { radius: 4, color: p.colour, weight: 2, fillColor: p.colour, fillOpacity: 0.9 });
    },
    onEachFeature: function (feature, layer) {
      var p = feature.properties;
      var text = p.kind === "depot" ? p.name
        : p.kind === "stop" ? p.truck + " #" + p.order + " · " + p.id + " · " + p.load_l + " l"
        : p.truck + " · " + p.km.toFixed(1) + " km";
      layer.bindTooltip(text, { sticky: true });
    }
  }).addTo(map);
  if (drawn.getLayers().length > 0) {
    map.fitBounds(drawn.getBounds(), { padding: [12, 12] });
  } else {
    map.setView([49.45, 5.95], 11);
  }
  element.dataset.featuresDrawn = String(drawn.getLayers().length);
})();

// Streetlight repairs: a small map of the page's own GeoJSON (the table holds the same data).
(function () {
  "use strict";
  var element = document.getElementById("repairs-map");
  var data = document.getElementById("repairs-features");
  if (typeof L === "undefined" || !element || !data) {
    return;
  }
  var features = JSON.parse(data.textContent);
  var map = L.map(element, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19, attribution: element.dataset.attribution || ""
    }).addTo(map);
  }
  var layer = L.geoJSON(features, {
    pointToLayer: function (feature, latlng) {
      var scheduled = feature.properties.status === "scheduled";
      return L.circleMarker(latlng, {
        radius: 7, color: "#7a4b00", weight: 2,
        fillColor: scheduled ? "#ffffff" : "#e0a100", fillOpacity: 0.9
      });
    },
    onEachFeature: function (feature, marker) {
      var p = feature.properties;
      var text = document.createElement("span");
      if (p.url) {
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.number;
        text.appendChild(link);
      } else {
        text.textContent = p.number;
      }
      if (p.fault) {
        text.appendChild(document.createTextNode(" — " + p.fault));
      }
      marker.bindPopup(text);
    }
  }).addTo(map);
  element.dataset.featuresDrawn = String(features.features.length);
  if (features.features.length) {
    map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [20, 20] });
  } else {
    map.setView([49.45, 5.95], 11);
  }
})();

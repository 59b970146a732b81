// Draws the communes from the page's own GeoJSON. Background tiles are an
// optional extra: when the tile server is unreachable the communes still show.
(function () {
  "use strict";
  var element = document.getElementById("territory-map");
  var source = document.getElementById("territory-features");
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
  var communes = L.geoJSON(data, {
    style: function () {
      return { color: "#0b5d4b", weight: 2, fillColor: "#2a9d8f", fillOpacity: 0.25 };
    },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.name, { sticky: true });
    }
  }).addTo(map);
  if (communes.getLayers().length > 0) {
    map.fitBounds(communes.getBounds(), { padding: [8, 8] });
  } else {
    map.setView([49.45, 5.95], 11);
  }
  element.dataset.communesDrawn = String(communes.getLayers().length);
})();

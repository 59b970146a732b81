// Draws a sample of a dataset's features from its GeoJSON download. The page says
// the same without this script (the table, the downloads); background tiles are an
// optional extra: when the tile server is unreachable the features still show.
(function () {
  "use strict";
  var element = document.getElementById("catalogue-map");
  var status = document.getElementById("catalogue-map-status");
  if (!element || typeof L === "undefined" || !window.fetch) {
    return;
  }
  element.hidden = false;
  var limit = parseInt(element.dataset.limit, 10) || 2000;
  var map = L.map(element, { scrollWheelZoom: false, zoomSnap: 0.25 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 18,
      attribution: element.dataset.attribution || ""
    }).addTo(map);
  }
  var extent = (element.dataset.extent || "").split(",").map(Number);
  if (extent.length === 4 && extent.every(isFinite)) {
    map.fitBounds([[extent[1], extent[0]], [extent[3], extent[2]]], { padding: [12, 12], maxZoom: 15 });
  } else {
    map.setView([49.45, 5.95], 11);
  }

  function label(feature) {
    var properties = feature.properties || {};
    return String(properties.name || properties.title || properties.kind || feature.id || "");
  }

  function say(template, drawn, total) {
    status.textContent = template.replace("{drawn}", drawn).replace("{total}", total);
  }

  function draw(data) {
    var all = (data && data.features) || [];
    var features = all.filter(function (feature) { return feature && feature.geometry; });
    var layer = L.geoJSON({ type: "FeatureCollection", features: features.slice(0, limit) }, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#0b5d4b", weight: 2, fillColor: "#2a9d8f", fillOpacity: 0.7 });
      },
      style: function () {
        return { color: "#0b5d4b", weight: 2, fillColor: "#2a9d8f", fillOpacity: 0.25 };
      },
      onEachFeature: function (feature, shape) {
        var text = label(feature);
        if (text) {
          shape.bindTooltip(text, { sticky: true });
        }
      }
    }).addTo(map);
    var drawn = layer.getLayers().length;
    if (drawn > 0) {
      map.fitBounds(layer.getBounds(), { padding: [12, 12], maxZoom: 15 });
    }
    element.dataset.featuresDrawn = String(drawn);
    say(element.dataset.messageDrawn, drawn, features.length);
  }

  fetch(element.dataset.url, { headers: { Accept: "application/geo+json" }, credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    })
    .then(draw)
    .catch(function () {
      element.dataset.featuresDrawn = "0";
      status.textContent = element.dataset.messageFailed;
    });
})();

// The agents' live map. Markers are drawn on one canvas (L.canvas, circleMarkers)
// so that 15,000 of them stay fluid; a delta from the server-sent events updates
// markers in place by id (a Map), batched into one animation frame, and never
// rebuilds a layer; its `removed` items (entities deleted or gone off a layer) take markers
// off. window.hypervision exposes the state and `apply` for tests and bench/livemap.py.
// Protocol: docs/hypervision.md.
(function () {
  "use strict";
  var element = document.getElementById("hv-map");
  if (!element || typeof L === "undefined") {
    return;
  }
  var titles = JSON.parse((document.getElementById("hv-titles") || {}).textContent || "{}");
  var summary = document.getElementById("hv-summary");
  var recentBody = document.getElementById("hv-recent");
  var renderer = L.canvas({ padding: 0.5 });
  var map = L.map(element, { preferCanvas: true, renderer: renderer, zoomSnap: 0.25 });
  if (element.dataset.tileUrl) {
    L.tileLayer(element.dataset.tileUrl, {
      maxZoom: 19,
      attribution: element.dataset.attribution || ""
    }).addTo(map);
  }
  map.setView([49.45, 5.95], 12);

  var groups = {}; // layer slug -> L.featureGroup
  var colours = {}; // layer slug -> stroke colour
  var markers = new Map(); // feature id -> marker
  var pending = []; // features (and removals) waiting for the next frame
  var frame = 0;
  var state = {
    markers: markers,
    drawn: 0,
    applied: 0,
    deltas: 0,
    cursor: null,
    connected: false,
    lastDrawMs: 0,
    lastApplyMs: 0
  };

  function fill(props) {
    if (props.layer === "alerts" || props.status === "firing") {
      return "#c00000";
    }
    var value = props.value;
    if (typeof value === "number" && value >= 0 && value <= 1) {
      return value > 0.8 ? "#c00000" : value >= 0.5 ? "#e08a00" : "#2a9d4b";
    }
    return colours[props.layer] || "#0b5d4b";
  }

  function groupOf(slug) {
    if (!groups[slug]) {
      groups[slug] = L.featureGroup().addTo(map);
      groups[slug].on("click", function (event) {
        var props = event.layer.feature && event.layer.feature.properties;
        if (props) {
          L.popup().setLatLng(event.latlng).setContent(describe(props)).openOn(map);
        }
      });
    }
    return groups[slug];
  }

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span.innerHTML;
  }

  function describe(props) {
    var value = typeof props.value === "number" && props.value <= 1 && props.layer === "waste"
      ? Math.round(props.value * 100) + " %" : props.value;
    return "<strong>" + text(props.name || props.id) + "</strong><br>" +
      text(titles[props.layer] || props.layer) + (value != null ? " · " + text(value) : "") +
      (props.status ? " · " + text(props.status) : "") +
      (props.observedAt ? "<br>" + text(props.observedAt) : "");
  }

  // The layer a marker was drawn on.
  function layerOf(marker) {
    return marker.feature ? marker.feature.properties.layer : undefined;
  }

  function place(feature) {
    var props = feature.properties;
    var geometry = feature.geometry;
    var existing = markers.get(feature.id);
    if (existing && layerOf(existing) !== props.layer) {
      if (props.gone) {
        return; // another layer's feature of that id: not this one's to take off
      }
      groupOf(layerOf(existing)).removeLayer(existing); // it changed layer: drawn anew
      markers.delete(feature.id);
      existing = undefined;
    }
    if (props.gone) {
      if (existing) {
        groupOf(props.layer).removeLayer(existing);
        markers.delete(feature.id);
      }
      return;
    }
    if (!geometry) {
      return;
    }
    if (geometry.type !== "Point") {
      if (existing) {
        groupOf(props.layer).removeLayer(existing); // a shape is replaced whole
      }
      var shape = L.geoJSON(feature, {
        renderer: renderer,
        style: { color: colours[props.layer] || "#0b5d4b", weight: 2, fillOpacity: 0.05 }
      });
      shape.feature = feature;
      groupOf(props.layer).addLayer(shape);
      markers.set(feature.id, shape);
      return;
    }
    var latlng = [geometry.coordinates[1], geometry.coordinates[0]];
    if (existing) {
      var old = existing.getLatLng();
      if (old.lat !== latlng[0] || old.lng !== latlng[1]) {
        existing.setLatLng(latlng);
      }
      existing.feature = feature;
      existing.setStyle({ fillColor: fill(props) });
      return;
    }
    var marker = L.circleMarker(latlng, {
      renderer: renderer,
      radius: props.layer === "alerts" ? 7 : 5,
      color: colours[props.layer] || "#0b5d4b",
      weight: 1,
      fillColor: fill(props),
      fillOpacity: 0.9
    });
    marker.feature = feature;
    groupOf(props.layer).addLayer(marker);
    markers.set(feature.id, marker);
  }

  // Take a marker off the map, from the group that holds it. The server cannot know
  // what this map holds, so a removal of an id it does not have, or has on another
  // layer, changes nothing. The removal then carries the marker's last properties for
  // the table of changes.
  function unplace(removal) {
    var existing = markers.get(removal.id);
    if (!existing || (existing.feature && layerOf(existing) !== removal.layer)) {
      return;
    }
    var props = existing.feature ? existing.feature.properties : { layer: removal.layer };
    groupOf(props.layer || removal.layer).removeLayer(existing);
    markers.delete(removal.id);
    removal.properties = Object.assign({}, props, { status: "removed" });
  }

  // The table of latest changes (the map's text alternative); a removal of a marker
  // this map did not have has no properties and no row.
  function remember(items) {
    var shown = items.filter(function (item) { return item.properties; });
    if (!recentBody || !shown.length) {
      return;
    }
    var none = recentBody.querySelector(".hv-none");
    if (none) {
      none.remove();
    }
    shown.slice(-5).forEach(function (feature) {
      var props = feature.properties;
      var row = document.createElement("tr");
      row.dataset.id = feature.id;
      var cells = [props.name || feature.id, props.layer, props.value, props.status, props.commune,
        props.observedAt];
      cells.forEach(function (value, n) {
        var cell = document.createElement(n === 0 ? "th" : "td");
        if (n === 0) {
          cell.scope = "row";
        }
        cell.textContent = value == null ? "" : String(value);
        row.appendChild(cell);
      });
      recentBody.insertBefore(row, recentBody.firstChild);
    });
    while (recentBody.rows.length > 20) {
      recentBody.deleteRow(recentBody.rows.length - 1);
    }
  }

  // Apply features and removals now (one synchronous pass); the canvas redraws once, at
  // the next frame.
  function applyNow(features) {
    var began = performance.now();
    for (var i = 0; i < features.length; i++) {
      if (features[i].removal) {
        unplace(features[i]);
      } else {
        place(features[i]);
      }
    }
    state.applied += features.length;
    state.lastApplyMs = performance.now() - began;
    return state.lastApplyMs;
  }

  function flush() {
    frame = 0;
    var batch = pending;
    pending = [];
    applyNow(batch);
    remember(batch);
  }

  // Queue a delta: everything that arrives before the next frame is applied together,
  // in order (a delta's removals after its features).
  function apply(features, removed) {
    Array.prototype.push.apply(pending, features);
    (removed || []).forEach(function (item) {
      pending.push({ removal: true, id: item.id, layer: item.layer });
    });
    if (!frame) {
      frame = window.requestAnimationFrame(flush);
    }
  }

  function say(message) {
    if (summary) {
      summary.textContent = message;
    }
  }

  function time(iso) {
    return iso ? iso.slice(11, 19) + " UTC" : "";
  }

  function draw(collection) {
    var began = performance.now();
    (collection.layers || []).forEach(function (layer) {
      colours[layer.slug] = layer.colour;
      groupOf(layer.slug);
    });
    collection.features.forEach(place);
    state.drawn = collection.features.length;
    state.cursor = collection.cursor;
    var bounds = null;
    Object.keys(groups).forEach(function (slug) {
      if (groups[slug].getLayers().length) {
        var b = groups[slug].getBounds();
        bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      }
    });
    if (bounds && bounds.isValid()) {
      map.fitBounds(bounds, { padding: [8, 8] });
    }
    state.lastDrawMs = performance.now() - began;
    element.dataset.state = "drawn";
    element.dataset.markers = String(markers.size);
  }

  function reload() {
    var source = state.source;
    if (source) {
      source.close();
    }
    return fetch(element.dataset.featuresUrl, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (collection) {
        Object.keys(groups).forEach(function (slug) { groups[slug].clearLayers(); });
        markers.clear();
        draw(collection);
        listen();
      })
      .catch(function () {
        element.dataset.state = "failed";
        say(element.dataset.failed || "The map could not be loaded.");
      });
  }

  function listen() {
    if (typeof EventSource === "undefined" || !element.dataset.liveUrl) {
      return;
    }
    var url = element.dataset.liveUrl;
    url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(state.cursor || "");
    var source = new EventSource(url, { withCredentials: true });
    state.source = source;
    source.addEventListener("ready", function () {
      state.connected = true;
      element.dataset.live = "connected";
    });
    source.addEventListener("delta", function (event) {
      var data = JSON.parse(event.data);
      state.deltas += 1;
      state.cursor = data.cursor;
      var removed = data.removed || [];
      apply(data.features, removed);
      state.received = (state.received || 0) + data.features.length + removed.length;
      say(state.received + " " + (element.dataset.changesLabel || "") + " " + time(data.cursor));
    });
    source.addEventListener("heartbeat", function (event) {
      state.cursor = JSON.parse(event.data).cursor;
    });
    source.addEventListener("reset", function () {
      reload();
    });
    source.onerror = function () {
      state.connected = false;
      element.dataset.live = "reconnecting";
    };
  }

  // Layer check boxes hide or show a layer at once (the form still works without script).
  document.querySelectorAll("#hv-filters input[name=layers]").forEach(function (box) {
    box.addEventListener("change", function () {
      var group = groups[box.value];
      if (!group) {
        return;
      }
      var anyChecked = document.querySelector("#hv-filters input[name=layers]:checked");
      if (box.checked || !anyChecked) {
        map.addLayer(group);
      } else {
        map.removeLayer(group);
      }
    });
  });

  window.hypervision = { map: map, state: state, apply: apply, applyNow: applyNow, reload: reload };
  reload();
})();

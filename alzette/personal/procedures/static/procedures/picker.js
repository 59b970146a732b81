// The map picker of text fields naming an asset (a streetlight's number): an addition to
// the text field, which keeps working without it. "Pick it on the map" opens a map centred
// on the reader's position when they allow it, else on the territory; the candidates come
// from the field's public GeoJSON source (data-source: ?bbox=&near=&limit=, nearest first,
// each feature's id being the value the field takes). A marker or a button of the list of
// the nearest fills the field; the list is the route for keyboards and screen readers.
(function () {
  "use strict";
  if (typeof L === "undefined" || !window.fetch) return;

  var NEAREST = 8; // buttons in the list
  var LIMIT = 100; // markers on the map

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in values ? values[name] : whole;
    });
  }

  // Metres between two points, flat-earth: the candidates are a few hundred metres away.
  function metres(a, b) {
    var x = (b.lng - a.lng) * Math.cos(((a.lat + b.lat) / 2) * Math.PI / 180);
    return Math.round(Math.sqrt(x * x + (b.lat - a.lat) * (b.lat - a.lat)) * 111320);
  }

  function setUp(picker) {
    var input = document.getElementById(picker.dataset.input);
    var toggle = picker.querySelector(".pr-picker-toggle");
    var panel = picker.querySelector(".pr-picker-panel");
    var status = picker.querySelector(".pr-picker-status");
    var list = picker.querySelector(".pr-picker-list");
    var element = picker.querySelector(".pr-picker-map");
    var box = picker.dataset.bbox.split(",").map(Number); // min lon, min lat, max lon, max lat
    var territory = L.latLngBounds([box[1], box[0]], [box[3], box[2]]);
    var map = null;
    var markers = null;
    var pending = null;
    var timer = null;
    var note = ""; // what the status says once the candidates are shown
    var loaded = false;
    if (!input) return;

    function say(text) {
      status.textContent = text;
    }

    function choose(feature) {
      input.value = String(feature.id);
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
      say(format(picker.dataset.textChosen, { number: feature.id }));
      close();
      toggle.focus(); // the chosen number is just above; no phone keyboard pops up
    }

    function show(features) {
      var centre = map.getCenter();
      markers.clearLayers();
      list.textContent = "";
      features.forEach(function (feature, index) {
        var c = feature.geometry.coordinates;
        var where = L.latLng(c[1], c[0]);
        var marker = L.circleMarker(where, {
          radius: 9, color: "#5c4700", weight: 2, fillColor: "#f2c200", fillOpacity: 0.95,
          className: "pr-picker-marker"
        }).addTo(markers);
        marker.bindTooltip(String(feature.id));
        marker.on("click", function () { choose(feature); });
        var path = marker.getElement();
        if (path) path.setAttribute("data-value", String(feature.id));
        if (index < NEAREST) {
          var item = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.className = "pr-secondary";
          button.dataset.value = String(feature.id);
          button.textContent = format(picker.dataset.textItem, {
            number: feature.id, distance: metres(centre, where)
          });
          button.addEventListener("click", function () { choose(feature); });
          item.appendChild(button);
          list.appendChild(item);
        }
      });
      picker.dataset.candidates = String(features.length);
      loaded = true;
      say(features.length ? note : picker.dataset.textNone);
    }

    function load() {
      var view = map.getBounds();
      var west = Math.max(view.getWest(), territory.getWest());
      var south = Math.max(view.getSouth(), territory.getSouth());
      var east = Math.min(view.getEast(), territory.getEast());
      var north = Math.min(view.getNorth(), territory.getNorth());
      if (west > east || south > north) { show([]); return; }
      var centre = map.getCenter();
      var url = new URL(picker.dataset.source, window.location.href);
      url.searchParams.set("bbox", [west, south, east, north].map(function (n) {
        return n.toFixed(6);
      }).join(","));
      url.searchParams.set("near", centre.lng.toFixed(6) + "," + centre.lat.toFixed(6));
      url.searchParams.set("limit", String(LIMIT));
      if (pending) pending.abort();
      pending = window.AbortController ? new AbortController() : null;
      if (!loaded) say(picker.dataset.textLoading); // once: moving the map stays quiet
      fetch(url.toString(), {
        headers: { Accept: "application/geo+json, application/json" },
        credentials: "omit",
        signal: pending ? pending.signal : undefined
      }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(function (data) {
        show(data.features || []);
      }).catch(function (error) {
        if (error.name !== "AbortError") say(picker.dataset.textFailed);
      });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 250);
    }

    function locate() {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition(function (position) {
        var here = L.latLng(position.coords.latitude, position.coords.longitude);
        if (!territory.pad(0.05).contains(here)) return; // elsewhere: the territory stays
        note = picker.dataset.textLocated;
        map.setView(here, 16);
        say(note);
      }, function () { /* refused or unknown: the territory stays */ },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    }

    function open() {
      panel.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      if (!map) {
        map = L.map(element, { zoomSnap: 0.5 });
        if (picker.dataset.tileUrl) {
          L.tileLayer(picker.dataset.tileUrl, {
            maxZoom: 19, attribution: picker.dataset.attribution || ""
          }).addTo(map);
        }
        markers = L.layerGroup().addTo(map);
        map.fitBounds(territory);
        map.on("moveend", later);
        load();
        locate();
      } else {
        map.invalidateSize();
      }
    }

    function close() {
      panel.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
    }

    toggle.addEventListener("click", function () {
      if (panel.hidden) open(); else close();
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { close(); toggle.focus(); }
    });
    picker.hidden = false;
  }

  document.querySelectorAll(".pr-picker[data-source]").forEach(setUp);
})();

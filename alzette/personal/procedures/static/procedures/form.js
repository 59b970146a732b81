// Online procedure forms: show and hide conditional fields as answers change, and
// place map points. The server decides in the end; without JavaScript, saving the
// draft redisplays the form with the right fields.
(function () {
  "use strict";
  const form = document.querySelector("form.pr-form");
  if (!form) return;

  function answer(key) {
    const wrapper = form.querySelector('[data-key="' + key + '"]');
    if (!wrapper || wrapper.hidden) return undefined;
    const type = wrapper.dataset.type;
    const inputs = Array.from(wrapper.querySelectorAll("input, select, textarea"));
    if (type === "yesno") {
      const checked = inputs.find((input) => input.checked);
      return checked ? checked.value === "yes" : undefined;
    }
    if (type === "multichoice") return inputs.filter((i) => i.checked).map((i) => i.value);
    const first = inputs[0];
    return first && first.value !== "" ? first.value : undefined;
  }

  function test(part) {
    if (part.all || part.any) return holds(part);
    const value = answer(part.field);
    const expected = part.value;
    switch (part.op) {
      case "filled": return value !== undefined && !(Array.isArray(value) && value.length === 0);
      case "is_true": return value === true;
      case "is_false": return value === false;
    }
    let hit;
    if (Array.isArray(value)) {
      const wanted = Array.isArray(expected) ? expected : [expected];
      hit = value.some((item) => wanted.includes(item));
    } else if (part.op === "in" || part.op === "not_in") {
      hit = (expected || []).includes(value);
    } else {
      hit = value === expected;
    }
    return part.op === "equals" || part.op === "in" ? hit : !hit;
  }

  function holds(condition) {
    if (condition.all) return condition.all.every(test);
    return condition.any.some(test);
  }

  function refresh() {
    form.querySelectorAll("[data-condition]").forEach((element) => {
      element.hidden = !holds(JSON.parse(element.dataset.condition));
    });
  }

  form.addEventListener("change", refresh);
  refresh();

  // Map points: a click places the point and fills the latitude and longitude fields.
  if (window.L) {
    form.querySelectorAll(".pr-map").forEach((element) => {
      const lat = document.getElementById(element.dataset.lat);
      const lon = document.getElementById(element.dataset.lon);
      const map = L.map(element, { attributionControl: false }).setView([49.44, 5.97], 12);
      let marker = null;
      function place(latlng) {
        if (marker) marker.setLatLng(latlng); else marker = L.marker(latlng).addTo(map);
      }
      if (lat.value && lon.value) place([parseFloat(lat.value), parseFloat(lon.value)]);
      map.on("click", (event) => {
        place(event.latlng);
        lat.value = event.latlng.lat.toFixed(6);
        lon.value = event.latlng.lng.toFixed(6);
      });
    });
  }
})();

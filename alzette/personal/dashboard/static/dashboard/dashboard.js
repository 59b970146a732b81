// Edit mode without page reloads. Without this script every button is a plain form
// that posts and comes back to the page; with it, the same forms are sent with
// fetch, the server answers with the new editor, and the keyboard focus stays on
// the control that was used (or the nearest one) while a status line says what
// changed, for screen readers too.
(function () {
  "use strict";
  var editor = document.getElementById("dashboard-editor");
  var live = document.getElementById("dashboard-live");
  var alertBox = document.getElementById("dashboard-alert");
  if (!editor || !live || !alertBox || !window.fetch || !window.FormData) {
    return;
  }

  function say(box, text, className) {
    box.textContent = "";
    if (text) {
      var line = document.createElement("p");
      if (className) {
        line.className = className;
      }
      line.textContent = text;
      box.appendChild(line);
    }
  }

  function placedItems() {
    return Array.prototype.slice.call(editor.querySelectorAll(".dashboard-edit-list > li"));
  }

  function placedItem(slug) {
    return placedItems().filter(function (item) {
      return item.getAttribute("data-widget") === slug;
    })[0];
  }

  function focusAfter(action, slug, direction, index) {
    var target = null;
    var item = slug ? placedItem(slug) : null;
    if (action === "move" && item) {
      target = item.querySelector('button[name="direction"][value="' + direction + '"]') ||
        item.querySelector('button[name="direction"]');
    } else if (action === "resize" && item) {
      target = item.querySelector('button[name="size"]');
    } else if (action === "add" && item) {
      target = item.querySelector("h3");
    } else if (action === "remove") {
      var items = placedItems();
      var next = items[Math.min(index, items.length - 1)];
      target = next ? next.querySelector("h3") : document.getElementById("dashboard-add-title");
    }
    (target || document.getElementById("dashboard-order-title")).focus();
  }

  editor.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-dashboard-action")) {
      return;
    }
    event.preventDefault();
    if (editor.getAttribute("aria-busy") === "true") {
      return;
    }
    var action = form.getAttribute("data-dashboard-action");
    var slug = form.getAttribute("data-widget");
    var submitter = event.submitter || form.querySelector("button[type=submit]");
    var data = new FormData(form);
    var direction = "";
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
      direction = submitter.name === "direction" ? submitter.value : "";
    }
    var index = placedItems().indexOf(form.closest("li"));
    editor.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        return response.json()
          .catch(function () { return {}; })
          .then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        editor.removeAttribute("aria-busy");
        if (result.ok && typeof result.body.html === "string") {
          editor.innerHTML = result.body.html;
          say(alertBox, "");
          say(live, result.body.message);
          focusAfter(action, slug, direction, index);
        } else {
          say(live, "");
          say(alertBox, result.body.error || editor.getAttribute("data-failed"), "dashboard-error");
        }
      }, function () {
        editor.removeAttribute("aria-busy");
        say(alertBox, editor.getAttribute("data-failed"), "dashboard-error");
      });
  });
})();

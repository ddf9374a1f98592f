// The Forward page: a live count of the pasted ids and the refused tokens, the inline warning of
// the chosen panel, and the busy state while a request is submitted. A file of its own (the CSP
// allows scripts from 'self' only, no inline script). The server checks everything again
// (reading/orderids.py): this only says early what it will say.
(function () {
  "use strict";

  var SEPARATORS = /[\s,;]+/;
  var ORDER_ID = /^[1-9][0-9]{0,19}$/; // reading/orderids.py: 1-20 digits, no leading zero
  var MAX_IDS = 10000; // forwarding/submit.py MAX_IDS
  var SHOWN_BAD = 5;

  function shorten(token) {
    return token.length <= 12 ? token : token.slice(0, 4) + "…" + token.slice(-5);
  }

  function count(text) {
    var ids = Object.create(null), bad = Object.create(null);
    var nIds = 0, nBad = 0, repeats = 0, badList = [];
    text.split(SEPARATORS).forEach(function (token) {
      if (!token) return;
      if (ORDER_ID.test(token)) {
        if (ids[token]) repeats++; else { ids[token] = true; nIds++; }
      } else if (!bad[token]) {
        bad[token] = true; nBad++; badList.push(token);
      }
    });
    return { ids: nIds, repeats: repeats, bad: nBad, badList: badList };
  }

  function plural(n, one, many) { return n.toLocaleString("en") + " " + (n === 1 ? one : many); }

  function render(out, c) {
    out.textContent = "";
    out.className = "small mt-1";
    if (!c.ids && !c.bad) return;
    var parts = [plural(c.ids, "order id", "order ids")];
    if (c.repeats) parts.push(plural(c.repeats, "duplicate", "duplicates") + " removed");
    var main = document.createElement("span");
    main.setAttribute("data-count", String(c.ids));
    main.textContent = parts.join(" · ");
    out.appendChild(main);
    if (c.ids > MAX_IDS) {
      out.classList.add("text-danger");
      out.appendChild(document.createTextNode(" — more than " + MAX_IDS.toLocaleString("en") + ": split them into several requests."));
    }
    if (c.bad) {
      var refused = document.createElement("span");
      refused.className = "text-danger ms-1";
      refused.setAttribute("data-refused", String(c.bad));
      var shown = c.badList.slice(0, SHOWN_BAD).map(shorten).join(", ");
      var more = c.bad > SHOWN_BAD ? " and " + (c.bad - SHOWN_BAD).toLocaleString("en") + " more" : "";
      refused.textContent = "· " + plural(c.bad, "token refused", "tokens refused") + ": " + shown + more +
        " (an order id is a whole number; the request is refused until they are removed)";
      out.appendChild(refused);
    }
  }

  function showWarning(select) {
    var box = document.getElementById("panel-warning");
    var text = document.getElementById("panel-warning-text");
    if (!box || !text) return;
    var option = select.options[select.selectedIndex];
    var warning = option ? option.getAttribute("data-warning") : "";
    text.textContent = warning || "";
    box.hidden = !warning;
  }

  function setUp() {
    var form = document.getElementById("forward-form");
    if (!form) return;
    var area = form.querySelector("#id_ids");
    var out = document.getElementById("ids-count");
    var select = form.querySelector("#id_panel");
    if (area && out) {
      var update = function () { render(out, count(area.value)); };
      area.addEventListener("input", update);
      update(); // a form sent back with an error keeps its text: count it at once
    }
    if (select) select.addEventListener("change", function () { showWarning(select); });

    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-submitting")) { ev.preventDefault(); return; } // never twice
      var pressed = ev.submitter;
      // Disabled buttons are not submitted: carry the pressed command in a hidden field instead.
      if (pressed && pressed.name === "command_button") {
        var hidden = form.querySelector("input[name=command]") || document.createElement("input");
        hidden.type = "hidden"; hidden.name = "command"; hidden.value = pressed.value;
        form.appendChild(hidden);
      }
      form.setAttribute("data-submitting", "1");
      form.setAttribute("aria-busy", "true");
      form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
      if (pressed) {
        var spin = document.createElement("span");
        spin.className = "spinner-border spinner-border-sm ms-1";
        spin.setAttribute("role", "status");
        spin.setAttribute("aria-label", "Sending");
        pressed.appendChild(spin);
      }
    });
    // Back to this page from the browser's cache (bfcache): usable again.
    window.addEventListener("pageshow", function (ev) {
      if (!ev.persisted) return;
      form.removeAttribute("data-submitting");
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
      form.querySelectorAll(".spinner-border").forEach(function (el) { el.remove(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

// PanelRelay's only script of its own: copy buttons and relative times. No inline JS (CSP).
(function () {
  "use strict";

  function relative(iso) {
    var then = new Date(iso).getTime();
    if (isNaN(then)) return null;
    var s = Math.round((Date.now() - then) / 1000);
    var future = s < 0; s = Math.abs(s);
    var text;
    if (s < 45) text = "just now";
    else if (s < 3600) text = Math.round(s / 60) + " min";
    else if (s < 86400) text = Math.round(s / 3600) + " h";
    else text = Math.round(s / 86400) + " d";
    if (text === "just now") return text;
    return future ? "in " + text : text + " ago";
  }

  function refreshTimes(root) {
    (root || document).querySelectorAll("time[data-relative]").forEach(function (el) {
      var text = relative(el.getAttribute("datetime"));
      if (text) el.textContent = text;
    });
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    ev.preventDefault();
    var text = btn.getAttribute("data-copy");
    var done = function () {
      var old = btn.innerHTML; btn.textContent = "copied"; setTimeout(function () { btn.innerHTML = old; }, 1200);
    };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
    else {
      var area = document.createElement("textarea"); area.value = text; document.body.appendChild(area);
      area.select(); try { document.execCommand("copy"); done(); } finally { area.remove(); }
    }
  });

  // A result box (Test connection, Find order) closes with its ✕: data-dismiss-closest=".selector".
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-dismiss-closest]");
    if (!btn) return;
    var box = btn.closest(btn.getAttribute("data-dismiss-closest"));
    if (box) box.remove();
  });

  // Widths come from data-width: the CSP allows no inline style attributes.
  function applyWidths(root) {
    (root || document).querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, Number(el.getAttribute("data-width")) || 0)) + "%";
    });
  }

  // <form data-confirm="…"> asks first; <form data-busy> shows a spinner while the server works
  // (a test send or a status check can take seconds), and cannot be submitted twice.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); return; }
    if (form.hasAttribute("data-busy")) {
      var button = form.querySelector("button:not([type=button])");
      if (button && !button.disabled) {
        button.disabled = true;
        var spin = document.createElement("span");
        spin.className = "spinner-border spinner-border-sm ms-1"; spin.setAttribute("role", "status");
        button.appendChild(spin);
      }
    }
  });

  // <select data-kinds-of="#sel">: offer only the options listed in #sel's chosen option's data-kinds
  // (Add destination: a Telegram bot sends to Telegram groups and users, never to a WhatsApp number).
  function filterKinds() {
    document.querySelectorAll("select[data-kinds-of]").forEach(function (sel) {
      var source = document.querySelector(sel.getAttribute("data-kinds-of"));
      var chosen = source && source.selectedOptions[0];
      if (!chosen || !chosen.hasAttribute("data-kinds")) return;
      var kinds = chosen.getAttribute("data-kinds").split(" ");
      Array.prototype.forEach.call(sel.options, function (opt) {
        var off = opt.value !== "" && kinds.indexOf(opt.value) < 0;
        opt.hidden = off; opt.disabled = off;
        if (off && opt.selected) sel.value = "";
      });
    });
    // <input data-example-of="#sel">: its placeholder is the chosen option's data-example.
    document.querySelectorAll("input[data-example-of]").forEach(function (input) {
      var source = document.querySelector(input.getAttribute("data-example-of"));
      var chosen = source && source.selectedOptions[0];
      if (chosen && chosen.hasAttribute("data-example")) input.placeholder = chosen.getAttribute("data-example");
    });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("select")) filterKinds();
  });

  document.addEventListener("DOMContentLoaded", function () { refreshTimes(); applyWidths(); filterKinds(); setInterval(refreshTimes, 30000); });
  document.addEventListener("htmx:afterSwap", function (ev) { refreshTimes(ev.target); applyWidths(ev.target); });
  // A toggle the server refused (403/4xx) must flip back, so the switch never lies.
  document.addEventListener("htmx:responseError", function (ev) {
    var el = ev.detail.elt;
    if (el && el.type === "checkbox") el.checked = !el.checked;
    var flash = document.getElementById("flash");
    if (flash) {
      var div = document.createElement("div");
      div.className = "alert alert-danger py-2 small";
      div.textContent = ev.detail.xhr.status === 403 ? "Not allowed: your role does not permit this change." : "The change was not saved (error " + ev.detail.xhr.status + ").";
      flash.prepend(div);
    }
  });
})();

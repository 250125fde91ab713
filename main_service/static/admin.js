// Progressive enhancement for the invoice line editor: add and remove lines
// without a round trip. Without JavaScript the same buttons submit the form
// and the server adds or removes the line. Totals are never computed here:
// they come from the server (shared/money.py), live from the preview-totals
// endpoint below and for good when the draft is saved.
(function () {
  "use strict";

  function renumber(tbody) {
    var rows = tbody.querySelectorAll("tr[data-line]");
    rows.forEach(function (row, index) {
      row.querySelectorAll("input, textarea, output, label, button").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) { el.setAttribute(attr, value.replace(/lines-\d+-/, "lines-" + index + "-")); }
        });
        if (el.matches("label")) {
          el.textContent = el.textContent.replace(/line \d+$/, "line " + (index + 1));
        }
        if (el.matches("[data-remove-line]")) {
          el.value = "remove_line:" + index;
          el.setAttribute("aria-label", "Remove line " + (index + 1));
        }
      });
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-line]");
    var remove = event.target.closest("[data-remove-line]");
    if (!add && !remove) { return; }
    var form = event.target.closest("form");
    var tbody = form && form.querySelector("table[data-lines] tbody");
    if (!tbody) { return; }
    event.preventDefault();
    if (add) {
      var last = tbody.querySelector("tr[data-line]:last-child");
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input, textarea").forEach(function (input) {
        input.value = input.name.endsWith("quantity") ? "1" : (input.name.endsWith("tax_rate") ? "0" : "");
        input.removeAttribute("aria-invalid");
      });
      copy.querySelectorAll("output").forEach(function (el) { el.textContent = ""; });
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
      tbody.appendChild(copy);
      renumber(tbody);
      copy.querySelector("textarea, input").focus();
    } else {
      var row = remove.closest("tr[data-line]");
      if (tbody.querySelectorAll("tr[data-line]").length > 1) {
        row.remove();
        renumber(tbody);
      } else {
        row.querySelectorAll("input, textarea").forEach(function (input) { input.value = ""; });
      }
    }
    form.dispatchEvent(new Event("lines-changed"));
  });
})();

// Live totals in the line editor. The page sends the form as it stands to the
// server (POST preview-totals, with the CSRF token) and shows the figures the
// server's one formula returns, already formatted. Nothing is added up here.
(function () {
  "use strict";

  document.querySelectorAll("form[data-preview-url]").forEach(function (form) {
    var box = form.querySelector("[data-live-totals]");
    if (!box || !window.fetch || !window.FormData) { return; }
    var url = form.getAttribute("data-preview-url");
    var problem = box.querySelector("[data-totals-problem]");
    var note = form.querySelector("[data-totals-note]");
    var timer = null;
    var asked = 0;

    function show(name, text) {
      var cell = box.querySelector('[data-total="' + name + '"]');
      if (cell) { cell.textContent = text; }
    }

    function render(answer) {
      var figures = answer.ok ? answer : {};
      ["subtotal", "tax", "total"].forEach(function (name) { show(name, figures[name] || "—"); });
      show("discount", figures.discount || "—");
      box.querySelector("[data-discount-row]").hidden = !figures.discount;
      form.querySelectorAll("output[data-line-amount]").forEach(function (out) {
        var key = out.id.replace(/-amount$/, "");
        out.textContent = (answer.ok && answer.lines[key]) || "";
      });
      problem.textContent = answer.ok ? "" : "Totals show when the lines are complete. " + (answer.message || "");
      box.setAttribute("aria-busy", "false");
    }

    function refresh() {
      var mine = ++asked;
      var data = new FormData(form);
      data.delete("action");
      box.setAttribute("aria-busy", "true");
      fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (answer) { if (mine === asked) { render(answer); } })
        .catch(function () {
          if (mine !== asked) { return; }
          render({ ok: false, message: "The server could not be reached; the totals are worked out when you save." });
        });
    }

    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    }

    box.hidden = false;
    if (note) { note.textContent = "The totals above come from the server as you type; saving keeps them."; }
    // Only what the totals depend on: not the dates, the notes or the purchase order.
    function counts(event) {
      var name = (event.target && event.target.name) || "";
      return /^lines-\d+-/.test(name) || ["client_id", "currency", "discount_type", "discount_value"].indexOf(name) >= 0;
    }
    form.addEventListener("input", function (event) { if (counts(event)) { soon(); } });
    form.addEventListener("change", function (event) { if (counts(event)) { soon(); } });
    form.addEventListener("lines-changed", soon);
    refresh();
  });
})();

// The review page shows the PDF's pages as pictures without knowing how many
// there are (counting them would mean rendering the PDF inside the page's own
// request): once a page has loaded, ask for the next; a 404 means the last
// page has been shown, and the broken picture is removed.
(function () {
  "use strict";

  document.querySelectorAll("[data-pdf-pages]").forEach(function (box) {
    var max = parseInt(box.getAttribute("data-max-pages"), 10) || 1;
    var pattern = box.getAttribute("data-page-url");

    function watch(img, number) {
      img.addEventListener("load", function () {
        if (number >= max) { return; }
        var next = document.createElement("img");
        next.alt = "Page " + (number + 1) + " of the invoice PDF";
        next.src = pattern.replace(/\/pages\/1\.png$/, "/pages/" + (number + 1) + ".png");
        box.appendChild(next);
        watch(next, number + 1);
      });
      img.addEventListener("error", function () {
        if (number > 1) { img.remove(); }
      });
    }

    var first = box.querySelector("img");
    if (!first) { return; }
    watch(first, 1);
    if (first.complete && first.naturalWidth > 0) {  // loaded before this script ran
      first.dispatchEvent(new Event("load"));
    }
  });
})();

// The review page's send button says what will happen: "Issue and send" only
// while a channel is ticked, "Issue without sending" when none is.
(function () {
  "use strict";

  function relabel(form) {
    var button = form.querySelector("[data-send-button]");
    if (!button) { return; }
    var sending = Array.prototype.some.call(form.querySelectorAll("input[type=checkbox]"), function (box) {
      return box.checked && !box.disabled;
    });
    button.textContent = sending ? button.dataset.labelSend : button.dataset.labelNone;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form");
    if (form && event.target.matches("input[type=checkbox]")) { relabel(form); }
  });
  document.querySelectorAll("[data-send-button]").forEach(function (button) { relabel(button.form); });
})();

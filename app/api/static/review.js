// threadguard review page: keyboard shortcuts and the selection for bulk decisions. Every
// action also has a button, a checkbox or a link, so the page works without this file.
//   j / k   next / previous item (in a list: move the selection)
//   Enter/o open the selected item (in a list)
//   a r e   approve / reject / escalate (the item shown, or the selected row)
//   x       select the row for a bulk decision; A / R approve / reject the selection
//   y / n   confirm / cancel a bulk decision
//   u       undo the decision just made (the toast's Undo)
//   b       back to the queue;  /  search
//   ?       toggle the help; Esc closes it
(function () {
  "use strict";

  var help = document.getElementById("help");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-item]"));
  var picks = Array.prototype.slice.call(document.querySelectorAll("[data-pick]"));
  var selectAll = document.querySelector("[data-select-all]");
  var counter = document.querySelector("[data-selected-count]");
  var bulk = document.getElementById("bulk");
  var selected = -1;

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input:not([type=checkbox]), textarea, select, [contenteditable]"));
  }

  function toggleHelp(show) {
    if (!help) return;
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  function select(index) {
    if (!rows.length) return;
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (selected >= 0) rows[selected].classList.remove("selected");
    selected = index;
    rows[selected].classList.add("selected");
    rows[selected].scrollIntoView({ block: "nearest" });
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link && link.href) window.location.assign(link.href);
  }

  function press(scope, key) {
    var button = scope && scope.querySelector('button[data-key="' + key + '"]');
    if (!button || button.disabled) return;
    // requestSubmit sends the button's name=value (the action), like a click.
    button.form.requestSubmit(button);
  }

  function picked() {
    return picks.filter(function (box) { return box.checked; }).length;
  }

  function showCount() {
    var n = picked();
    if (counter) counter.textContent = n === 0 ? "none selected" : n + " selected";
    if (selectAll) {
      selectAll.checked = n > 0 && n === picks.length;
      selectAll.indeterminate = n > 0 && n < picks.length;
    }
    if (bulk) {
      bulk.querySelectorAll("button[data-bulk]").forEach(function (b) { b.disabled = n === 0; });
    }
    rows.forEach(function (row) {
      var box = row.querySelector("[data-pick]");
      row.classList.toggle("picked", Boolean(box && box.checked));
    });
  }

  picks.forEach(function (box) { box.addEventListener("change", showCount); });
  if (selectAll) {
    selectAll.addEventListener("change", function () {
      picks.forEach(function (box) { box.checked = selectAll.checked; });
      showCount();
    });
  }
  if (bulk) showCount();

  document.querySelectorAll("[data-toggle-help]").forEach(function (el) {
    el.addEventListener("click", function () { toggleHelp(); });
  });
  if (help) {
    help.addEventListener("click", function (event) {
      if (event.target === help) toggleHelp(false);
    });
  }

  // One submission per form: a second key press while the first is on its way would
  // only be refused as stale.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var key = event.key;
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (key === "Escape") { toggleHelp(false); return; }
    if (help && !help.hidden) return;

    if (key === "u") { press(document.querySelector("[data-undo]"), "u"); event.preventDefault(); return; }
    if (key === "b") { follow('[data-nav="up"]'); return; }

    var confirm = document.getElementById("confirm");
    if (confirm) {
      if (key === "y") { confirm.requestSubmit(); event.preventDefault(); }
      else if (key === "n") { follow('[data-nav="up"]'); }
      return;
    }

    if (rows.length) {
      if (key === "/") {
        var search = document.querySelector("[data-search]");
        if (search) { search.focus(); event.preventDefault(); }
      } else if (key === "j") { select(selected + 1); event.preventDefault(); }
      else if (key === "k") { select(selected < 0 ? 0 : selected - 1); event.preventDefault(); }
      else if ((key === "Enter" || key === "o") && selected >= 0) {
        window.location.assign(rows[selected].getAttribute("data-href"));
        event.preventDefault();
      } else if (key === "x" && selected >= 0) {
        var box = rows[selected].querySelector("[data-pick]");
        if (box) { box.checked = !box.checked; showCount(); }
        event.preventDefault();
      } else if ((key === "A" || key === "R") && bulk && picked() > 0) {
        var button = bulk.querySelector('button[data-bulk="' + key + '"]');
        if (button) bulk.requestSubmit(button);
        event.preventDefault();
      } else if ((key === "a" || key === "r" || key === "e") && selected >= 0) {
        press(rows[selected], key);
        event.preventDefault();
      }
      return;
    }

    if (key === "j") { follow('[data-nav="next"]'); }
    else if (key === "k") { follow('[data-nav="previous"]'); }
    else if (key === "a" || key === "r" || key === "e") {
      press(document.getElementById("decide"), key);
      event.preventDefault();
    }
  });
})();

// threadguard review page: keyboard shortcuts. Every action also has a button or a link,
// so the page works without this file; it only adds keys.
//   j / k   next / previous item (in a list: move the selection)
//   Enter/o open the selected item (in a list)
//   a r e   approve / reject / escalate (the item shown, or the selected row)
//   u       back to the queue
//   ?       toggle the help; Esc closes it
(function () {
  "use strict";

  var help = document.getElementById("help");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-item]"));
  var selected = -1;

  function typing(target) {
    if (!target || !target.closest) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable]"));
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
  document.querySelectorAll("form").forEach(function (form) {
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

    if (rows.length) {
      if (key === "j") { select(selected + 1); event.preventDefault(); }
      else if (key === "k") { select(selected < 0 ? 0 : selected - 1); event.preventDefault(); }
      else if ((key === "Enter" || key === "o") && selected >= 0) {
        window.location.assign(rows[selected].getAttribute("data-href"));
        event.preventDefault();
      } else if ((key === "a" || key === "r" || key === "e") && selected >= 0) {
        press(rows[selected], key);
        event.preventDefault();
      }
      return;
    }

    if (key === "j") { follow('[data-nav="next"]'); }
    else if (key === "k") { follow('[data-nav="previous"]'); }
    else if (key === "u") { follow('[data-nav="up"]'); }
    else if (key === "a" || key === "r" || key === "e") {
      press(document.getElementById("decide"), key);
      event.preventDefault();
    }
  });
})();

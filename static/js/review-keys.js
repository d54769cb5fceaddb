/*
 * Keyboard shortcuts for the review queue (glamml). No dependencies; htmx is optional.
 *
 *   a  accept the suggestion of the current item
 *   1-9  pick the model's first, second... guess (1 accepts the suggestion, the others correct)
 *   s  skip: go to the next waiting item without deciding
 *   r  reject it
 *   c  focus "Correct to" of the current item
 *   u  undo the last decision while its notice (the toast) shows
 *   j  next waiting item,  k  previous one
 *
 * The current item is the one holding focus, else the first waiting item. Keys typed into a
 * field, or pressed with Ctrl/Alt/Meta, are left alone. Every action is also a plain button,
 * so nothing here is needed to use the queue.
 */
(function () {
  "use strict";

  var ITEM = ".queue-item";
  var WAITING = ".queue-item:not(.is-decided)";
  var lastItemId = null;
  var TOAST_MS = 10000;
  var toastTimer = null;

  function waiting() {
    return Array.prototype.slice.call(document.querySelectorAll(WAITING));
  }

  function isTyping(el) {
    if (!el) return false;
    if (el.isContentEditable) return true;
    return /^(INPUT|SELECT|TEXTAREA)$/.test(el.tagName);
  }

  function nextWaitingAfter(el) {
    var items = waiting();
    for (var i = 0; i < items.length; i++) {
      if (el.compareDocumentPosition(items[i]) & Node.DOCUMENT_POSITION_FOLLOWING) return items[i];
    }
    return items[items.length - 1] || null;
  }

  function currentItem() {
    var active = document.activeElement;
    var item = active && active.closest ? active.closest(ITEM) : null;
    if (item && item.classList.contains("is-decided")) return nextWaitingAfter(item);
    return item || waiting()[0] || null;
  }

  // Focus mode (the list's data-focus-mode): only the current item shows.
  function markCurrent(item) {
    var list = document.getElementById("queue-list");
    if (!list || !list.hasAttribute("data-focus-mode")) return;
    var items = document.querySelectorAll(ITEM);
    for (var i = 0; i < items.length; i++) items[i].classList.toggle("is-current", items[i] === item);
  }

  function focusItem(item) {
    if (!item) return;
    markCurrent(item);
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var items = waiting();
    if (!items.length) return;
    var index = items.indexOf(currentItem());
    var next = items[Math.min(Math.max(index + step, 0), items.length - 1)];
    focusItem(next);
  }

  function press(item, key) {
    var control = item.querySelector('[data-key="' + key + '"]');
    if (!control) return false;
    if (control.tagName === "BUTTON") control.click();
    else control.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey) return;
    if (isTyping(event.target)) return;
    var key = event.key;
    if (key === "j" || key === "k" || key === "s") {
      move(key === "k" ? -1 : 1);
      event.preventDefault();
      return;
    }
    if (key === "u") {
      var undo = document.querySelector('#toast.is-visible [data-key="u"]');
      if (undo) {
        undo.click();
        event.preventDefault();
      }
      return;
    }
    if (key !== "a" && key !== "r" && key !== "c" && !/^[1-9]$/.test(key)) return;
    var item = currentItem();
    if (!item) return;
    lastItemId = item.id;
    if (press(item, key)) event.preventDefault();
  });

  // Remember which item a decision was for (it may have been made with the mouse).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var item = event.target.closest && event.target.closest(ITEM);
    var named = event.target.closest && event.target.closest("[data-item]");
    if (item) lastItemId = item.id;
    else if (named) lastItemId = named.getAttribute("data-item");
  });

  // The toast offers Undo for a few seconds, then goes; a new decision starts the clock again.
  function showToast() {
    var toast = document.getElementById("toast");
    if (!toast || !toast.classList.contains("is-visible")) return;
    if (toastTimer) clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      toast.classList.remove("is-visible");
      toast.innerHTML = "";
    }, TOAST_MS);
  }

  // After a decision is swapped in: announce it, and move on to the next waiting item.
  document.addEventListener("htmx:afterSettle", function () {
    showToast();
    if (!lastItemId) return;
    var item = document.getElementById(lastItemId);
    lastItemId = null;
    if (!item) return;
    var live = document.getElementById("review-live");
    var said = item.querySelector("[data-outcome]");
    var canUndo = document.querySelector('#toast.is-visible [data-key="u"]');
    if (live && said) live.textContent = said.textContent.trim() + (canUndo ? " Press u to undo." : "");
    if (item.classList.contains("is-decided")) {
      focusItem(nextWaitingAfter(item) || item);
      return;
    }
    // Refused (role=alert announces why): back to what was typed, to fix it, or to the item.
    var typed = item.querySelector('input[aria-invalid="true"]');
    if (typed) typed.focus();
    else focusItem(item);
  });

  // Focus mode starts on the first waiting item; a new page of the list starts again.
  function startFocus() {
    var list = document.getElementById("queue-list");
    if (list && list.hasAttribute("data-focus-mode") && !list.querySelector(".is-current")) {
      markCurrent(waiting()[0] || null);
    }
  }
  document.addEventListener("DOMContentLoaded", startFocus);
  document.addEventListener("htmx:afterSettle", startFocus);
})();

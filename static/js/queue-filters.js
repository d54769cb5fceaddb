/*
 * The review queue's filters on a phone (glamml). Open, they fill the first screen, so the
 * cataloguer would scroll past them before every sitting: on a narrow screen they are folded
 * away unless one of them is set (then what narrows the list stays in view). Without this
 * script they stay open, as on a wide screen, where the fold has no summary to click.
 */
(function () {
  "use strict";

  var NARROW = "(max-width: 40rem)"; // glamml.css's narrow screens

  function fold() {
    var panel = document.querySelector("details.filter-panel");
    if (panel && !panel.hasAttribute("data-filters-set") && window.matchMedia(NARROW).matches) {
      panel.open = false;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fold);
  } else {
    fold();
  }
})();

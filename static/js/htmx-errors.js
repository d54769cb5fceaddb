/*
 * A request made by htmx that fails must not fail in silence (issue 11: with DEBUG off a 500
 * left the page as it was and said nothing). htmx swaps nothing for a 5xx or an unexpected 4xx
 * (see each page's htmx-config) and cannot reach a server that is down; either way this puts a
 * message at the top of the page's content, in the site's .message style, and moves focus to it.
 */
(function () {
  "use strict";

  var ID = "htmx-error";

  function show(text) {
    var main = document.getElementById("main");
    if (!main) return;
    var box = document.getElementById(ID);
    if (!box) {
      box = document.createElement("p");
      box.id = ID;
      box.className = "message error";
      box.setAttribute("role", "alert");
      box.setAttribute("tabindex", "-1");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;
    box.focus();
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    show(
      "The server could not do that (error " + status + "), so it may not have been saved. " +
      "Reload the page to see what was kept, then try again; if it happens again, tell " +
      "whoever runs this site."
    );
  });

  document.addEventListener("htmx:sendError", function () {
    show(
      "The server did not answer, so nothing was sent. Check your connection, reload the " +
      "page and try again."
    );
  });
})();

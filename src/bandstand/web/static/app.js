// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // A search box marked data-autosubmit sends its form as the visitor types (htmx does the
  // request when present; without htmx the form still works with its button).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-confirm]").forEach(function (element) {
      element.addEventListener("submit", function (event) {
        if (!window.confirm(element.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  });
})();

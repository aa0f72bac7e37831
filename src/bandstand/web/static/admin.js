// The console's enhancements; every page works without them.
(function () {
  "use strict";
  // An upload form marked data-upload-progress="ID" shows how much of the file is sent in the
  // progress element inside #ID, then that the server is working on it (htmx sends the form).
  function progressFor(form) {
    var id = form.getAttribute("data-upload-progress");
    var box = id && document.getElementById(id);
    if (!box) {
      return null;
    }
    return { box: box, bar: box.querySelector("progress"), text: box.querySelector("[role=status]") };
  }
  document.addEventListener("htmx:beforeSend", function (event) {
    var shown = progressFor(event.target);
    if (shown) {
      shown.box.hidden = false;
      shown.bar.value = 0;
      shown.text.textContent = "Sending the file…";
    }
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var shown = progressFor(event.target);
    if (!shown || !event.detail.lengthComputable || !event.detail.total) {
      return;
    }
    var percent = Math.round((100 * event.detail.loaded) / event.detail.total);
    if (percent < 100) {
      shown.bar.value = percent;
      shown.text.textContent = "Sending the file: " + percent + " %";
    } else {
      shown.bar.removeAttribute("value");
      shown.text.textContent = "File sent; importing its lines…";
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var shown = progressFor(event.target);
    if (shown) {
      shown.bar.value = 100;
      shown.text.textContent = event.detail.successful ? "Done." : "The import failed; see below.";
    }
  });
})();

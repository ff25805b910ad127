/* careplan: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  // After an htmx form saved (the server answered with the new list), empty the form
  // and tell screen-reader users what happened by moving focus to the notice.
  document.addEventListener("htmx:afterSwap", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !source.matches || !source.matches("form[data-reset-on-success]")) {
      return;
    }
    var target = event.detail.target;
    if (target && target.id === source.getAttribute("data-success-target")) {
      source.reset();
      var notice = document.getElementById("calendar-notice");
      if (notice) {
        notice.focus();
      }
    }
  });
})();

(function () {
  "use strict";
  // When the server sends the form back with errors, put focus on the error summary so
  // the message is read out and the first wrong field is one tab away.
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = document.getElementById("event-form");
    if (!form || event.detail.target.id !== "event-form") {
      return;
    }
    var summary = form.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  });
})();

/* careplan: small progressive enhancements. Everything works without this file. */
(function () {
  "use strict";

  function clearForm(form) {
    var fields = form.querySelectorAll("input:not([type=hidden]), textarea");
    for (var i = 0; i < fields.length; i++) {
      fields[i].value = "";
      fields[i].removeAttribute("aria-invalid");
    }
  }

  // The calendar's add form is sent with htmx. On success the server answers with the
  // new list: empty the form and move focus to the notice so screen readers hear it.
  // With errors it answers with the form itself (HX-Retarget): focus the error summary.
  document.addEventListener("htmx:afterSwap", function (event) {
    var targetId = event.detail.target && event.detail.target.id;
    var section = document.getElementById("event-form");
    if (!section || (targetId !== "event-list" && targetId !== "event-form")) {
      return;
    }
    if (targetId === "event-list") {
      var form = section.querySelector("form[data-reset-on-success]");
      if (form) {
        clearForm(form);
      }
      var summary = section.querySelector(".error-summary");
      if (summary) {
        summary.remove();
      }
      var notice = document.getElementById("calendar-notice");
      if (notice) {
        notice.focus();
      }
    } else {
      var errors = section.querySelector(".error-summary");
      if (errors) {
        errors.focus();
      }
    }
  });
})();

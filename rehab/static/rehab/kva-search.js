/* KVÅ codes by search: as the nurse types a code or words of its title, the catalogue's
   valid codes are offered in a <datalist> (the input keeps working as plain text without
   JavaScript; the server checks every code). No inline script or style (CSP). */
(function () {
  "use strict";
  var timer = null;

  function datalist() {
    var list = document.getElementById("kva-options");
    if (!list) {
      list = document.createElement("datalist");
      list.id = "kva-options";
      document.body.appendChild(list);
    }
    return list;
  }

  function search(input) {
    var text = input.value.trim();
    if (text.length < 2) { return; }
    var url = input.getAttribute("data-kva-search") + "?q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        var list = datalist();
        list.textContent = "";
        data.results.forEach(function (row) {
          var option = document.createElement("option");
          option.value = row.code;
          option.label = row.code + " " + row.title;
          option.textContent = row.code + " " + row.title;
          list.appendChild(option);
        });
      })
      .catch(function () { /* typing the code still works */ });
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[data-kva-search]")) { return; }
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { search(input); }, 200);
  });
  document.addEventListener("DOMContentLoaded", datalist);
})();

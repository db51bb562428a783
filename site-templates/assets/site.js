// scoresite: table sorting, level filters, student lookup and printing.
// Small vanilla JS; every page is readable without it.
(function () {
  "use strict";
  function cellValue(row, i) {
    var t = (row.cells[i] ? row.cells[i].textContent : "").trim();
    var n = parseFloat(t.replace(/[%,]/g, ""));
    return isNaN(n) || !/^[-\d.,%\s±()]+$/.test(t) ? t.toLowerCase() : n;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, i) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("thead th").forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        Array.prototype.slice.call(body.rows)
          .sort(function (a, b) {
            var x = cellValue(a, i), y = cellValue(b, i);
            return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
          })
          .forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });
  document.querySelectorAll("select.level-filter").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var table = document.getElementById(sel.getAttribute("data-table"));
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.hidden = sel.value !== "" && r.getAttribute("data-level") !== sel.value;
      });
    });
  });
  document.querySelectorAll("form.find").forEach(function (form) {
    var students = JSON.parse(form.getAttribute("data-students") || "{}");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var ssid = form.elements.ssid.value.trim();
      var href = students[ssid];
      var out = form.querySelector(".find-result");
      if (href) { window.location.href = href; } else { out.textContent = "No student with SSID " + ssid + " in your reports."; }
    });
  });
  document.querySelectorAll("button.print").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();

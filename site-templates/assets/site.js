// scoresite: table sorting, level filters, student lookup and printing.
// Small vanilla JS; every page is readable without it.
(function () {
  "use strict";
  // How links leave a page: the logon shell replaces this to stay inside it.
  var api = window.scoresite = window.scoresite || {};
  api.go = api.go || function (href) { window.location.href = href; };
  function cellValue(row, i) {
    var t = (row.cells[i] ? row.cells[i].textContent : "").trim();
    var n = parseFloat(t.replace(/[%,]/g, ""));
    return isNaN(n) || !/^[-\d.,%\s±()]+$/.test(t) ? t.toLowerCase() : n;
  }
  function enhance(root) {
    root.querySelectorAll("table.sortable").forEach(function (table) {
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
    root.querySelectorAll("select.level-filter").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var table = document.getElementById(sel.getAttribute("data-table"));
        Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
          r.hidden = sel.value !== "" && r.getAttribute("data-level") !== sel.value;
        });
      });
    });
    root.querySelectorAll("select.points-view").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var t = document.getElementById(sel.getAttribute("data-table"));
        t.classList.toggle("only-percent", sel.value === "percent");
        t.classList.toggle("only-count", sel.value === "count");
      });
    });
    root.querySelectorAll("form.find").forEach(function (form) {
      var students = JSON.parse(form.getAttribute("data-students") || "{}");
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var ssid = form.elements.ssid.value.trim();
        var href = students[ssid];
        var out = form.querySelector(".find-result");
        if (href) { api.go(href); } else { out.textContent = "No student with SSID " + ssid + " in your reports."; }
      });
    });
    // My Groups: starred groups listed first on the home page, kept in this browser.
    var STARS = "scoresite.mygroups";
    var table = root.querySelector("table.groups");
    if (table) {
      var stars;
      try { stars = JSON.parse(localStorage.getItem(STARS) || "[]"); } catch (e) { stars = []; }
      var mine = root.querySelector("section.my-groups");
      var list = mine.querySelector("ul");
      function save() { try { localStorage.setItem(STARS, JSON.stringify(stars)); } catch (e) { /* not kept */ } }
      function show() {
        list.textContent = "";
        Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
          var on = stars.indexOf(r.getAttribute("data-key")) >= 0;
          r.querySelector("button.star").setAttribute("aria-pressed", on ? "true" : "false");
          if (on) {
            var li = document.createElement("li");
            li.appendChild(r.cells[0].querySelector("a").cloneNode(true));
            list.appendChild(li);
          }
        });
        mine.hidden = list.children.length === 0;
      }
      var th = document.createElement("th");
      th.scope = "col";
      th.textContent = "My Groups";
      table.tHead.rows[0].appendChild(th);
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "star";
        b.textContent = "★";
        b.setAttribute("aria-label", "Keep " + r.cells[0].textContent + " in My Groups");
        b.addEventListener("click", function () {
          var k = r.getAttribute("data-key"), at = stars.indexOf(k);
          if (at >= 0) { stars.splice(at, 1); } else { stars.push(k); }
          save();
          show();
        });
        var td = document.createElement("td");
        td.appendChild(b);
        r.appendChild(td);
      });
      show();
    }
    root.querySelectorAll("button.print").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }
  api.enhance = enhance;
  enhance(document);
  // Shared pages (student reports, batch prints) lead Home to the role home
  // the reader came from in this tab.
  var HOME = "scoresite.home";
  try {
    var brand = document.querySelector(".top .role");
    var homeLink = document.querySelector('.top nav a[href$="index.html"]');
    if (brand && homeLink) {
      sessionStorage.setItem(HOME, homeLink.href);
    } else if (homeLink && sessionStorage.getItem(HOME)) {
      homeLink.href = sessionStorage.getItem(HOME);
    }
  } catch (e) { /* storage unavailable: Home stays the role chooser */ }
})();

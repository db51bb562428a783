// scoresite: table sorting, level filters, student search and printing.
// Small vanilla JS; every page is readable without it.
(function () {
  "use strict";
  // How links leave a page: the logon shell replaces this to stay inside it.
  var api = window.scoresite = window.scoresite || {};
  api.go = api.go || function (href) { window.location.href = href; };
  // A cell's sort key: its data-sort (a date, a level's number) when it
  // has one, else its number, else its text.
  function cellValue(row, i) {
    var key = row.cells[i] ? row.cells[i].getAttribute("data-sort") : null;
    if (key !== null) return /^-?\d+(\.\d+)?$/.test(key) ? parseFloat(key) : key;
    var t = (row.cells[i] ? row.cells[i].textContent : "").trim();
    var n = parseFloat(t.replace(/[%,]/g, ""));
    return isNaN(n) || !/^[-\d.,%\s±()]+$/.test(t) ? t.toLowerCase() : n;
  }

  // Custom aggregate reports: add up the page's precomputed cube cells.
  // A CSV cell a spreadsheet could run as a formula gets a leading quote;
  // only a whole number is left as it is (the rule of the Rust csv_safe).
  var CSV_BAD = /^[=+\-@\t\r]/;
  var NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  function csvCell(v) {
    var t = String(v);
    if (CSV_BAD.test(t) && !NUMBER.test(t)) t = "'" + t;
    return /[",\n\r]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }
  api.csvCell = csvCell;
  function esc(t) {
    return String(t).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; });
  }
  function aggregate(form) {
    var cube = JSON.parse(form.querySelector("script.cube").textContent);
    var L = cube.levels.length, CL = cube.claim_levels.length, C = cube.claims.length;
    var AW = 4 + L;
    // Cells by institution, year and assessment.
    var index = {};
    cube.cells.forEach(function (c) {
      var k = c[0] + "|" + c[1] + "|" + c[2];
      (index[k] = index[k] || []).push(c);
    });
    function zero() {
      return { n: 0, scored: 0, sum: 0, sq: 0, dn: 0, dsum: 0, levels: new Array(L).fill(0), claims: new Array(C * CL).fill(0), alts: new Array(cube.alts.length * AW).fill(0), hidden: false };
    }
    // A fine cell holds sums to add up; any other cell is shown alone and
    // holds the mean and SEM as printed (`shown`).
    function add(t, c, shown) {
      t.shown = shown;
      if (c[4] < 0) { t.hidden = true; return; }
      t.n += c[4]; t.scored += c[5]; t.sum += c[6]; t.sq += c[7]; t.dn += c[8]; t.dsum += c[9];
      var at = 10, i;
      for (i = 0; i < L; i++) t.levels[i] += c[at + i];
      at += L;
      for (i = 0; i < C * CL; i++) t.claims[i] += c[at + i];
      at += C * CL;
      for (i = 0; i < t.alts.length; i++) t.alts[i] += c[at + i];
    }
    function values(form) {
      var pick = function (name) {
        return Array.prototype.filter.call(form.elements[name] ? (form.elements[name].length !== undefined && !form.elements[name].options ? form.elements[name] : [form.elements[name]]) : [], function (e) { return e.checked; }).map(function (e) { return +e.value; });
      };
      var dims = [form.elements.dim.value, form.elements.dim2.value].filter(function (v, i, a) { return v !== "" && a.indexOf(v) === i; }).map(Number);
      var only = {};
      form.querySelectorAll("select[name=only]").forEach(function (s) { if (s.value !== "") only[s.getAttribute("data-dim")] = +s.value; });
      return {
        years: pick("year"), assessments: pick("assessment"), dims: dims, only: only,
        higher: form.elements.higher ? form.elements.higher.checked : false,
        schools: form.elements.schools ? form.elements.schools.checked : false,
        percent: form.elements.value.value === "percent",
        grouped: form.elements.levels.value === "grouped",
        variant: form.elements.variant.value
      };
    }
    /** Tallies of institution i for one year and assessment, by subgroup key. */
    function tallies(i, year, a, q) {
      var inst = cube.institutions[i], out = {}, custom = Object.keys(q.only).length > 0;
      var sources = inst.sums.length ? inst.sums : [i];
      if (!inst.fine && (custom || q.dims.length > 1)) return null;
      sources.forEach(function (s) {
        (index[s + "|" + year + "|" + a] || []).forEach(function (c) {
          var sig = cube.signatures[c[3]];
          if (inst.fine) {
            for (var d in q.only) { if (sig[d] !== q.only[d]) return; }
          } else {
            for (var k = 0; k < sig.length; k++) {
              var want = q.dims.indexOf(k) >= 0;
              if ((sig[k] >= 0) !== want) return;
            }
          }
          var key = q.dims.map(function (d) { return sig[d]; }).join(",");
          add(out[key] = out[key] || zero(), c, !inst.fine);
        });
      });
      return out;
    }
    function fmtPct(count, n) { return n ? (100 * count / n).toFixed(0) + "%" : "—"; }
    function meanSem(n, sum, sq, shown) {
      if (!n) return ["—", "—"];
      if (shown) return [sum.toFixed(0), sq < 0 ? "—" : sq.toFixed(1)];
      var m = sum / n;
      var sem = n > 1 ? Math.sqrt(Math.max(0, (sq - n * m * m) / (n - 1)) / n) : null;
      return [m.toFixed(0), sem === null ? "—" : sem.toFixed(1)];
    }
    // Distance from Standard, signed, reported from 11 results as on the
    // California School Dashboard.
    function distance(n, sum, shown) {
      if (n < 11) return "—";
      return (shown ? sum : sum / n).toFixed(1);
    }
    function levelCells(counts, names, q, cutoff) {
      var total = counts.reduce(function (x, y) { return x + y; }, 0);
      var list = counts, heads = names;
      if (q.grouped && cutoff) {
        var below = 0, above = 0;
        counts.forEach(function (c, i) { if (i + 1 < cutoff) below += c; else above += c; });
        list = [below, above];
        heads = ["Below standard", "At or above standard"];
      }
      return { heads: heads, cells: list.map(function (c) { return q.percent ? fmtPct(c, total) : String(c); }) };
    }
    var last = null;
    function build(e) {
      if (e) e.preventDefault();
      var q = values(form);
      var own = [], schools = [], others = [];
      cube.institutions.forEach(function (inst, i) {
        if (!inst.own) others.push(i);
        else if (inst.kind === "school") schools.push(i);
        else own.push(i);
      });
      if (!own.length) { own = schools; schools = []; }
      var rowsOf = own.concat(q.schools ? schools : []).concat(q.higher ? others : []);
      var dimHeads = q.dims.map(function (d) { return cube.dimensions[d].label; });
      var head = ["Institution", "Assessment", "School year"].concat(dimHeads);
      var extraHead = null, rows = [];
      rowsOf.forEach(function (i) {
        q.years.forEach(function (year) {
          q.assessments.forEach(function (a) {
            var t = tallies(i, year, a, q);
            var base = [cube.institutions[i].name, cube.assessments[a].name, (year - 1) + "–" + String(year % 100).padStart(2, "0")];
            if (t === null) {
              rows.push({ cds: cube.institutions[i].cds, cells: base.concat(q.dims.map(function () { return ""; })).concat(["Not available: comparison rows show one subgroup dimension at a time"]), note: true });
              return;
            }
            Object.keys(t).sort(function (x, y) {
              var a1 = x.split(",").map(Number), b1 = y.split(",").map(Number);
              for (var k = 0; k < a1.length; k++) if (a1[k] !== b1[k]) return a1[k] - b1[k];
              return 0;
            }).forEach(function (key) {
              var tl = t[key];
              var dimCells = key === "" ? [] : key.split(",").map(function (v, k) { return cube.dimensions[q.dims[k]].values[+v]; });
              var lead = base.concat(dimCells);
              var blocks = [];
              if (q.variant === "claims") {
                cube.claims.forEach(function (name, c) {
                  var counts = tl.claims.slice(c * CL, (c + 1) * CL);
                  var n = counts.reduce(function (x, y) { return x + y; }, 0);
                  var lv = levelCells(counts, cube.claim_levels, { percent: q.percent, grouped: false }, 0);
                  blocks.push({ label: name, n: n, mean: null, levels: lv });
                });
              } else if (q.variant === "alts") {
                cube.alts.forEach(function (name, k) {
                  var s = tl.alts.slice(k * AW, (k + 1) * AW);
                  blocks.push({ label: name, n: s[0], ms: meanSem(s[1], s[2], s[3], tl.shown), levels: levelCells(s.slice(4), cube.levels, q, cube.cutoff) });
                });
              } else {
                blocks.push({ label: null, n: tl.n, ms: meanSem(tl.scored, tl.sum, tl.sq, tl.shown), dfs: cube.dfs ? [String(tl.dn), distance(tl.dn, tl.dsum, tl.shown)] : null, levels: levelCells(tl.levels, cube.levels, q, cube.cutoff) });
              }
              blocks.forEach(function (b) {
                var cells = lead.slice();
                if (b.label !== null) cells.push(b.label);
                if (tl.hidden) {
                  cells.push("*");
                  if (b.ms) cells.push("*", "*");
                  if (b.dfs) cells.push("*", "*");
                  b.levels.cells.forEach(function () { cells.push("*"); });
                } else {
                  cells.push(String(b.n));
                  if (b.ms) cells.push(b.ms[0], b.ms[1]);
                  if (b.dfs) cells.push(b.dfs[0], b.dfs[1]);
                  cells = cells.concat(b.levels.cells);
                }
                if (!extraHead) {
                  extraHead = (b.label !== null ? [q.variant === "claims" ? "Claim" : "Alt score"] : []).concat(["Students"]).concat(b.ms ? ["Average scale score", "SEM"] : []).concat(b.dfs ? ["Students with a DFS", "Distance from Standard"] : []).concat(b.levels.heads);
                }
                rows.push({ cds: cube.institutions[i].cds, cells: cells });
              });
            });
          });
        });
      });
      head = head.concat(extraHead || ["Students"]);
      var html = ['<table class="data sortable agg-table"><caption>' + esc(cube.family) + " · " + rows.length + ' rows</caption><thead><tr>'];
      head.forEach(function (h) { html.push('<th scope="col">' + esc(h) + "</th>"); });
      html.push("</tr></thead><tbody>");
      rows.forEach(function (r) {
        html.push("<tr>");
        r.cells.forEach(function (c, k) {
          var num = k >= 3 + q.dims.length && /^[-\d.*%—]+$/.test(c);
          html.push(r.note && k === r.cells.length - 1 ? '<td colspan="' + (head.length - k) + '" class="note">' + esc(c) + "</td>" : "<td" + (num ? ' class="num"' : "") + ">" + esc(c) + "</td>");
        });
        html.push("</tr>");
      });
      html.push("</tbody></table>");
      var out = form.parentNode.querySelector(".agg-out");
      out.innerHTML = html.join("");
      enhance(out);
      scrollBoxes();
      last = { head: head, rows: rows };
      form.querySelector(".agg-csv").disabled = false;
      form.querySelector(".agg-status").textContent = rows.length + " rows built.";
    }
    form.addEventListener("submit", build);
    form.querySelector(".agg-csv").addEventListener("click", function () {
      if (!last) return;
      // The CSV names each institution by its CDS code as well.
      var withCds = function (cells, cds) { return [cells[0], cds].concat(cells.slice(1)); };
      var lines = [withCds(last.head, "CDS code").map(csvCell).join(",")].concat(last.rows.map(function (r) { return withCds(r.cells, r.cds).map(csvCell).join(","); }));
      var url = URL.createObjectURL(new Blob(["\ufeff" + lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
      var link = document.createElement("a");
      link.href = url;
      link.download = "aggregate-report.csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    });
    build();
  }
  // My Groups a user builds from students they can see: [{name, school,
  // year, ssids, from}]. The sandbox keeps them in this browser's storage; the
  // secure site's shell replaces the store with one sealed to the user's key.
  var BUILT = "scoresite.built-groups";
  function groupStore() {
    return api.store || {
      get: function () {
        try { return Promise.resolve(JSON.parse(localStorage.getItem(BUILT) || "[]")); } catch (e) { return Promise.resolve([]); }
      },
      set: function (value) {
        try { localStorage.setItem(BUILT, JSON.stringify(value)); } catch (e) { return Promise.reject(e); }
        return Promise.resolve();
      }
    };
  }
  // An RDW groups file of the built groups, for the coordinator's data/.
  function groupsCsv(groups) {
    var lines = ["group_name,school_natural_id,school_year,subject_code,student_ssid,group_user_login"];
    groups.forEach(function (g) {
      g.ssids.forEach(function (ssid) {
        lines.push([g.name, g.school, g.year, "All", ssid, ""].map(csvCell).join(","));
      });
    });
    return lines.join("\r\n") + "\r\n";
  }
  function saveFile(name, text) {
    var url = URL.createObjectURL(new Blob(["\ufeff" + text], { type: "text/csv" }));
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }
  // Results by Student: the level and advanced filters hide the rows that
  // do not match and recompute the Results Summary from the rows left, by
  // the rules of the build's summary (stats::summarize, views::summary).
  function roundHalfEven(x) {
    var f = Math.floor(x);
    return x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
  }
  function distanceWords(d) {
    var shown = Math.abs(d).toFixed(1);
    if (!/[1-9]/.test(shown)) return shown + " (at standard)";
    return shown + (d > 0 ? " above" : " below");
  }
  // A level distribution bar (svg::distribution) redrawn for `percents`.
  function drawBar(chart, percents, names) {
    var at = 0;
    chart.querySelectorAll("rect").forEach(function (rect, i) {
      var w = percents[i] * 3;
      rect.setAttribute("x", at.toFixed(1));
      rect.setAttribute("width", w.toFixed(1));
      at += w;
    });
    chart.setAttribute("aria-label", names.map(function (n, i) { return n + ": " + roundHalfEven(percents[i]) + "%"; }).join(", "));
  }
  // The IAB dashboard of a group the user made: each card redone from its
  // students' latest results (data-results) for the group's students.
  function iabMine(form) {
    var select = form.querySelector("select"), status = form.querySelector(".iab-status");
    var cards = Array.prototype.slice.call(form.parentNode.querySelectorAll("li.card[data-results]"));
    var original = cards.map(function (c) { return c.innerHTML; });
    var groups = [];
    groupStore().get().then(function (list) {
      groups = list;
      list.forEach(function (g, i) { select.add(new Option(g.name + " (" + g.ssids.length + ")", String(i))); });
      form.hidden = list.length === 0;
    }, function () { /* nothing kept */ });
    select.addEventListener("change", function () {
      var g = select.value === "" ? null : groups[+select.value];
      cards.forEach(function (card, k) {
        card.innerHTML = original[k];
        if (!g) return;
        var cells = card.querySelectorAll('td[data-stat="level"]'), L = cells.length;
        var counts = new Array(L).fill(0), tested = 0;
        card.getAttribute("data-results").split(" ").forEach(function (w) {
          var at = w.indexOf(":"), level = +w.slice(at + 1);
          if (g.ssids.indexOf(w.slice(0, at)) < 0) return;
          tested++;
          if (level >= 1 && level <= L) counts[level - 1]++;
        });
        var withLevel = counts.reduce(function (a, b) { return a + b; }, 0);
        var percents = counts.map(function (c) { return withLevel ? 100 * c / withLevel : 0; });
        card.querySelector(".tested").textContent = tested + " of " + g.ssids.length + " students tested";
        cells.forEach(function (c, i) { c.innerHTML = roundHalfEven(percents[i]) + '% <span class="count">(' + counts[i] + ")</span>"; });
        var chart = card.querySelector("svg.dist");
        if (chart) drawBar(chart, percents, Array.prototype.map.call(card.querySelectorAll("thead th"), function (h) { return h.textContent; }));
      });
      status.textContent = g ? "Each card shows the students of " + g.name + "." : "";
    });
  }
  function rowFilters(form) {
    var table = document.getElementById(form.getAttribute("data-table"));
    var summary = document.getElementById(form.getAttribute("data-summary"));
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    // Each row's data-f holds its value of each filter, in data-keys' order.
    var keys = (form.getAttribute("data-keys") || "").split(" ").filter(Boolean);
    var values = rows.map(function (r) {
      var v = { level: r.getAttribute("data-level"), ssid: r.cells[1].textContent.trim() };
      (r.getAttribute("data-f") || "").split(" ").forEach(function (x, i) { v[keys[i]] = x; });
      return v;
    });
    var cells = summary.querySelectorAll("td[data-stat]");
    var chart = summary.parentNode.parentNode.querySelector("svg.dist");
    var original = Array.prototype.map.call(cells, function (c) { return c.innerHTML; });
    var originalChart = chart ? { label: chart.getAttribute("aria-label"), rects: Array.prototype.map.call(chart.querySelectorAll("rect"), function (r) { return [r.getAttribute("x"), r.getAttribute("width")]; }) } : null;
    var status = form.querySelector(".filter-status");
    function selects() { return Array.prototype.slice.call(form.querySelectorAll("select[data-key]")); }
    function apply() {
      var want = {};
      selects().forEach(function (s) { if (s.value !== "") want[s.getAttribute("data-key")] = s.value; });
      var active = Object.keys(want);
      var shown = [];
      rows.forEach(function (r, i) {
        var ok = active.every(function (k) {
          return k === "mygroup" ? mine[+want[k]].ssids.indexOf(values[i].ssid) >= 0 : values[i][k] === want[k];
        });
        r.hidden = !ok;
        if (ok) shown.push(r);
      });
      if (!active.length) {
        cells.forEach(function (c, i) { c.innerHTML = original[i]; });
        if (chart) {
          chart.setAttribute("aria-label", originalChart.label);
          chart.querySelectorAll("rect").forEach(function (r, i) { r.setAttribute("x", originalChart.rects[i][0]); r.setAttribute("width", originalChart.rects[i][1]); });
        }
        status.textContent = "";
        return;
      }
      var levelCells = summary.querySelectorAll('td[data-stat="level"]');
      var L = levelCells.length, counts = new Array(L).fill(0);
      var n = 0, scored = 0, sum = 0, sq = 0, dn = 0, dsum = 0;
      shown.forEach(function (r) {
        var score = r.getAttribute("data-score"), level = +r.getAttribute("data-level"), dfs = r.getAttribute("data-dfs");
        if (score === "" && !level) return;
        n++;
        if (score !== "") { var x = parseFloat(score); scored++; sum += x; sq += x * x; }
        if (level >= 1 && level <= L) counts[level - 1]++;
        if (dfs !== "" && dfs !== null) { dn++; dsum += parseFloat(dfs); }
      });
      var withLevel = counts.reduce(function (a, b) { return a + b; }, 0);
      var mean = scored ? sum / scored : null;
      var sem = scored > 1 ? Math.sqrt(Math.max(0, (sq - scored * mean * mean) / (scored - 1)) / scored) : null;
      var percents = counts.map(function (c) { return withLevel ? 100 * c / withLevel : 0; });
      summary.querySelector('td[data-stat="n"]').textContent = n;
      summary.querySelector('td[data-stat="mean"]').innerHTML = (mean === null ? "—" : String(Math.round(mean))) + ' <span class="pm">± ' + (sem === null ? "—" : sem.toFixed(1)) + "</span>";
      var dfsCell = summary.querySelector('td[data-stat="dfs"]');
      if (dfsCell) dfsCell.textContent = dn >= 11 ? distanceWords(dsum / dn) : "—";
      levelCells.forEach(function (c, i) { c.innerHTML = roundHalfEven(percents[i]) + '% <span class="count">(' + counts[i] + ")</span>"; });
      if (chart) {
        var heads = summary.querySelectorAll("thead th");
        drawBar(chart, percents, Array.prototype.slice.call(heads, heads.length - L).map(function (h) { return h.textContent; }));
      }
      status.textContent = "Showing " + shown.length + " of " + rows.length + " results; the Results Summary is of these.";
    }
    // My Groups: filter by one, or save the students shown as a new one.
    var mine = [];
    var mySelect = form.querySelector('select[data-key="mygroup"]');
    function listMine() {
      return groupStore().get().then(function (groups) {
        mine = groups;
        mySelect.length = 1;
        groups.forEach(function (g, i) { mySelect.add(new Option(g.name + " (" + g.ssids.length + ")", String(i))); });
        mySelect.parentNode.hidden = groups.length === 0;
      });
    }
    listMine().catch(function () { /* no store: the filter stays hidden */ });
    var save = form.parentNode.querySelector("form.save-group");
    save.addEventListener("submit", function (e) {
      e.preventDefault();
      var name = save.querySelector("input").value.trim();
      var ssids = rows.filter(function (r) { return !r.hidden; }).map(function (r) { return r.cells[1].textContent.trim(); });
      var out = save.querySelector(".save-status");
      if (!name) { out.textContent = "Give the group a name."; return; }
      if (!ssids.length) { out.textContent = "No students are shown to save."; return; }
      groupStore().get().then(function (groups) {
        groups = groups.filter(function (g) { return g.name !== name; });
        groups.push({ name: name, school: save.getAttribute("data-school"), year: +save.getAttribute("data-year"), ssids: ssids, from: save.getAttribute("data-from") });
        return groupStore().set(groups);
      }).then(function () {
        out.textContent = "Saved “" + name + "” with " + ssids.length + " students in My Groups.";
        save.querySelector("input").value = "";
        return listMine();
      }, function (err) {
        out.textContent = "Not saved: " + (err && err.message ? err.message : "this browser keeps nothing.");
      });
    });
    selects().forEach(function (s) { s.addEventListener("change", apply); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    apply();
  }
  // The assessment chooser: school year, subject and type narrow the list.
  function chooser(form) {
    var table = form.parentNode.querySelector("table.choices");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var status = form.parentNode.querySelector(".choose-status");
    function apply() {
      var want = {};
      form.querySelectorAll("select[data-key]").forEach(function (s) { if (s.value !== "") want[s.getAttribute("data-key")] = s.value; });
      var shown = 0;
      rows.forEach(function (r) {
        var ok = Object.keys(want).every(function (k) { return r.getAttribute("data-" + k) === want[k]; });
        r.hidden = !ok;
        if (ok) shown++;
      });
      status.textContent = shown ? shown + " of " + rows.length + " assessments listed." : "No assessment matches; choose another school year, subject or type.";
    }
    form.querySelectorAll("select").forEach(function (s) { s.addEventListener("change", apply); });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    apply();
  }
  // Long lists (schools, teachers): a find box and pages of the list's
  // children (of 25 unless data-page-size says).
  function pager(box) {
    var SIZE = +box.getAttribute("data-page-size") || 25;
    var all = function () { return Array.prototype.slice.call(box.children); };
    if (all().length <= SIZE) return;
    var what = box.getAttribute("data-paged");
    var find = document.createElement("div");
    find.className = "pager-find";
    var id = "find-" + what.replace(/\W/g, "-");
    find.innerHTML = '<label for="' + id + '">Find ' + esc(what) + '</label> <input type="search" id="' + id + '" autocomplete="off">';
    var nav = document.createElement("nav");
    nav.className = "pager";
    nav.setAttribute("aria-label", "Pages of " + what);
    nav.innerHTML = '<button type="button" class="prev">Previous</button> <span class="pager-status" role="status"></span> <button type="button" class="next">Next</button>';
    box.parentNode.insertBefore(find, box);
    box.parentNode.insertBefore(nav, box.nextSibling);
    var input = find.querySelector("input"), page = 0;
    function show() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var items = all(), hits = items.filter(function (it) {
        var t = it.textContent.toLowerCase();
        return words.every(function (w) { return t.indexOf(w) >= 0; });
      });
      var pages = Math.max(1, Math.ceil(hits.length / SIZE));
      page = Math.min(page, pages - 1);
      items.forEach(function (it) { it.hidden = true; });
      hits.slice(page * SIZE, page * SIZE + SIZE).forEach(function (it) { it.hidden = false; });
      nav.querySelector(".prev").disabled = page === 0;
      nav.querySelector(".next").disabled = page >= pages - 1;
      nav.querySelector(".pager-status").textContent = hits.length
        ? "Page " + (page + 1) + " of " + pages + " · " + hits.length + " " + what + (words.length ? " found" : "")
        : "No " + what + " match “" + input.value.trim() + "”.";
    }
    input.addEventListener("input", function () { page = 0; show(); });
    nav.querySelector(".prev").addEventListener("click", function () { page--; show(); });
    nav.querySelector(".next").addEventListener("click", function () { page++; show(); });
    show();
  }
  // A home page's groups, from the page's data (every group as [key, name,
  // href, school, year, subject, students]): drawn a page at a time, found by
  // any words, sorted by any column; ★ keeps a group in My Groups, listed
  // first, in this browser.
  function groupsTable(table) {
    var section = table.closest("section");
    var data = JSON.parse(section.querySelector("script.groups-data").textContent);
    var SIZE = 25, COLUMNS = [1, 3, 4, 5, 6], STARS = "scoresite.mygroups";
    var page = 0, sortBy = -1, asc = true, words = [];
    var stars;
    try { stars = JSON.parse(localStorage.getItem(STARS) || "[]"); } catch (e) { stars = []; }
    var mine = table.ownerDocument.querySelector("section.my-groups");
    var mineList = mine.querySelector("ul");
    var body = table.tBodies[0];
    var find = document.createElement("div");
    find.className = "pager-find";
    find.innerHTML = '<label for="find-groups">Find groups</label> <input type="search" id="find-groups" autocomplete="off">';
    var nav = document.createElement("nav");
    nav.className = "pager";
    nav.setAttribute("aria-label", "Pages of groups");
    nav.innerHTML = '<button type="button" class="prev">Previous</button> <span class="pager-status" role="status"></span> <button type="button" class="next">Next</button>';
    var box = table.parentNode.classList.contains("scroll") ? table.parentNode : table;
    box.parentNode.insertBefore(find, box);
    box.parentNode.insertBefore(nav, box.nextSibling);
    var note = section.querySelector("p.note");
    if (note) note.remove();
    var th = document.createElement("th");
    th.scope = "col";
    th.textContent = "My Groups";
    table.tHead.rows[0].appendChild(th);
    function link(g) {
      var a = document.createElement("a");
      a.href = g[2];
      a.textContent = g[1];
      a.addEventListener("click", function (e) { e.preventDefault(); api.go(g[2]); });
      return a;
    }
    function save() { try { localStorage.setItem(STARS, JSON.stringify(stars)); } catch (e) { /* not kept */ } }
    function drawMine() {
      mineList.textContent = "";
      data.forEach(function (g) {
        if (stars.indexOf(g[0]) < 0) return;
        var li = document.createElement("li");
        li.appendChild(link(g));
        mineList.appendChild(li);
      });
      mine.hidden = mineList.children.length === 0;
    }
    function draw() {
      var hits = data.filter(function (g) {
        var text = (g[1] + " " + g[3] + " " + g[4] + " " + g[5]).toLowerCase();
        return words.every(function (w) { return text.indexOf(w) >= 0; });
      });
      if (sortBy >= 0) {
        var c = COLUMNS[sortBy];
        hits.sort(function (x, y) {
          var a = typeof x[c] === "number" ? x[c] : String(x[c]).toLowerCase();
          var b = typeof y[c] === "number" ? y[c] : String(y[c]).toLowerCase();
          return (a < b ? -1 : a > b ? 1 : 0) * (asc ? 1 : -1);
        });
      }
      var pages = Math.max(1, Math.ceil(hits.length / SIZE));
      page = Math.min(page, pages - 1);
      body.textContent = "";
      hits.slice(page * SIZE, page * SIZE + SIZE).forEach(function (g) {
        var tr = body.insertRow();
        tr.setAttribute("data-key", g[0]);
        tr.insertCell().appendChild(link(g));
        [g[3], g[4], g[5]].forEach(function (t) { tr.insertCell().textContent = t; });
        var n = tr.insertCell();
        n.className = "num";
        n.textContent = g[6];
        var star = document.createElement("button");
        star.type = "button";
        star.className = "star";
        star.textContent = "★";
        star.setAttribute("aria-label", "Keep " + g[1] + " in My Groups");
        star.setAttribute("aria-pressed", stars.indexOf(g[0]) >= 0 ? "true" : "false");
        star.addEventListener("click", function () {
          var at = stars.indexOf(g[0]);
          if (at >= 0) { stars.splice(at, 1); } else { stars.push(g[0]); }
          save();
          star.setAttribute("aria-pressed", at >= 0 ? "false" : "true");
          drawMine();
        });
        tr.insertCell().appendChild(star);
      });
      nav.hidden = data.length <= SIZE;
      find.hidden = data.length <= SIZE;
      nav.querySelector(".prev").disabled = page === 0;
      nav.querySelector(".next").disabled = page >= pages - 1;
      nav.querySelector(".pager-status").textContent = hits.length
        ? "Page " + (page + 1) + " of " + pages + " · " + hits.length + " groups" + (words.length ? " found" : "")
        : "No groups match “" + find.querySelector("input").value.trim() + "”.";
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (head, i) {
      if (i >= COLUMNS.length) return;
      head.tabIndex = 0;
      function sort() {
        asc = sortBy === i ? !asc : true;
        sortBy = i;
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (o) { o.removeAttribute("aria-sort"); });
        head.setAttribute("aria-sort", asc ? "ascending" : "descending");
        page = 0;
        draw();
      }
      head.addEventListener("click", sort);
      head.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
    find.querySelector("input").addEventListener("input", function (e) {
      words = e.target.value.toLowerCase().split(/\s+/).filter(Boolean);
      page = 0;
      draw();
    });
    nav.querySelector(".prev").addEventListener("click", function () { page--; draw(); });
    nav.querySelector(".next").addEventListener("click", function () { page++; draw(); });
    draw();
    drawMine();
  }
  // The home page's list of the groups the user made.
  function builtGroups(section) {
    var body = section.querySelector("tbody"), status = section.querySelector(".built-status");
    var groups = [];
    function render() {
      body.textContent = "";
      groups.forEach(function (g, i) {
        var tr = body.insertRow();
        [g.name, String(g.ssids.length), g.from].forEach(function (t) { tr.insertCell().textContent = t; });
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = "Remove";
        b.setAttribute("aria-label", "Remove " + g.name);
        b.addEventListener("click", function () {
          groups.splice(i, 1);
          groupStore().set(groups).then(render, function (e) { status.textContent = "Not removed: " + e.message; });
        });
        tr.insertCell().appendChild(b);
      });
      section.hidden = groups.length === 0;
    }
    groupStore().get().then(function (g) { groups = g; render(); }, function () { /* nothing kept */ });
    section.querySelector(".built-csv").addEventListener("click", function () {
      saveFile("my-groups.csv", groupsCsv(groups));
    });
  }
  function enhance(root) {
    root.querySelectorAll("form.aggregate").forEach(aggregate);
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
    root.querySelectorAll("[data-paged]").forEach(pager);
    root.querySelectorAll("form.row-filters").forEach(rowFilters);
    root.querySelectorAll("form.chooser").forEach(chooser);
    root.querySelectorAll("section.built-groups").forEach(builtGroups);
    root.querySelectorAll("form.iab-mine").forEach(iabMine);
    // Another assessment of the same group or grade.
    root.querySelectorAll("form.jump").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        api.go(form.querySelector("select").value);
      });
    });
    root.querySelectorAll("select.points-view").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var t = document.getElementById(sel.getAttribute("data-table"));
        t.classList.toggle("only-percent", sel.value === "percent");
        t.classList.toggle("only-count", sel.value === "count");
      });
    });
    // Search by Student: [ssid, "Last, First", href] for every student with
    // a report. An SSID or a single match opens the report; several are listed.
    root.querySelectorAll("form.find").forEach(function (form) {
      var students = JSON.parse(form.getAttribute("data-students") || "[]");
      var LIMIT = 25;
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var q = form.elements.ssid.value.trim().toLowerCase();
        var out = form.querySelector(".find-result"), list = form.querySelector(".find-list");
        list.textContent = "";
        if (!q) { out.textContent = "Type a name or an SSID."; return; }
        var words = q.split(/[\s,]+/).filter(Boolean);
        var hits = students.filter(function (s) {
          if (s[0] === q) return true;
          var name = s[1].toLowerCase();
          return /^\d+$/.test(q) ? s[0].indexOf(q) === 0 : words.every(function (w) { return name.indexOf(w) >= 0; });
        });
        var exact = students.filter(function (s) { return s[0] === q; });
        if (exact.length === 1 || hits.length === 1) { api.go((exact[0] || hits[0])[2]); return; }
        if (!hits.length) { out.textContent = "No student matching “" + form.elements.ssid.value.trim() + "” in your reports."; return; }
        out.textContent = hits.length + " students match" + (hits.length > LIMIT ? "; the first " + LIMIT + " are listed. Type more to narrow the search." : ".");
        hits.slice(0, LIMIT).forEach(function (s) {
          var li = document.createElement("li"), a = document.createElement("a");
          a.href = s[2];
          a.textContent = s[1] + " (" + s[0] + ")";
          a.addEventListener("click", function (e) { e.preventDefault(); api.go(s[2]); });
          li.appendChild(a);
          list.appendChild(li);
        });
      });
    });
    root.querySelectorAll("table.groups").forEach(groupsTable);
    // Batch print: reports in name or SSID order.
    root.querySelectorAll("select.print-order").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var key = sel.value === "ssid" ? "data-ssid" : "data-name";
        var arts = Array.prototype.slice.call(root.querySelectorAll("article.isr"));
        if (!arts.length) return;
        var parent = arts[0].parentNode;
        arts.sort(function (a, b) { return a.getAttribute(key).localeCompare(b.getAttribute(key)); })
          .forEach(function (a) { parent.appendChild(a); });
      });
    });
    // Batch print: with or without each report's accessibility resources.
    root.querySelectorAll("input.print-access").forEach(function (box) {
      box.addEventListener("change", function () {
        root.querySelectorAll(".access-resources").forEach(function (d) { d.hidden = !box.checked; });
      });
    });
    root.querySelectorAll("button.print").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }
  // A table wider than the screen scrolls in its own box; a keyboard user
  // reaches such a box with Tab and scrolls it with the arrow keys.
  function scrollBoxes() {
    document.querySelectorAll(".scroll").forEach(function (box) {
      var wide = box.scrollWidth > box.clientWidth + 1;
      if (wide && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.setAttribute("role", "region");
        var table = box.querySelector("table");
        var head = table && (table.caption || table.tHead);
        box.setAttribute("aria-label", "Table, scrolls sideways" + (head ? ": " + head.textContent.trim().replace(/\s+/g, " ").slice(0, 80) : ""));
      } else if (!wide && box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    });
  }
  api.enhance = function (root) { enhance(root); scrollBoxes(); };
  enhance(document);
  scrollBoxes();
  window.addEventListener("resize", scrollBoxes);
  // A printed report shows what "About this score" and other disclosures hold.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
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

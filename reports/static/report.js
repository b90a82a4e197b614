// gradebox reports: sortable, searchable, filterable, paged tables; fragment linking.
// Inlined into every page; no network, no libraries.
(function () {
  "use strict";
  function cellValue(row, i, numeric) {
    var cell = row.cells[i];
    if (!cell) return numeric ? NaN : "";
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    var n = parseFloat(raw);
    return isNaN(n) ? NaN : n;
  }
  function setupTable(table) {
    var id = table.id, body = table.tBodies[0];
    if (!body) return;
    var rows = Array.prototype.slice.call(body.rows);
    var size = parseInt(table.getAttribute("data-page-size") || "0", 10);
    var state = { page: 0, query: "", threshold: -Infinity };
    var search = document.querySelector('[data-search-for="' + id + '"]');
    var thr = document.querySelector('[data-threshold-for="' + id + '"]');
    var pager = document.querySelector('[data-pager-for="' + id + '"]');
    var counter = document.querySelector('[data-count-for="' + id + '"]');
    var decisionSel = document.querySelector('[data-decision-for="' + id + '"]');
    var flaggedBox = document.querySelector('[data-flagged-for="' + id + '"]');
    function matches(row) {
      if (state.query && (row.getAttribute("data-text") || row.textContent).toLowerCase().indexOf(state.query) < 0) return false;
      var s = parseFloat(row.getAttribute("data-score"));
      if (!isNaN(s) && s < state.threshold) return false;
      if (decisionSel && decisionSel.value && row.getAttribute("data-decision") !== decisionSel.value) return false;
      if (flaggedBox && flaggedBox.checked && row.getAttribute("data-flagged") !== "1") return false;
      return true;
    }
    function apply() {
      var shown = rows.filter(matches);
      var pages = size ? Math.max(1, Math.ceil(shown.length / size)) : 1;
      if (state.page >= pages) state.page = pages - 1;
      var lo = size ? state.page * size : 0, hi = size ? lo + size : shown.length;
      var visible = new Set(shown.slice(lo, hi));
      rows.forEach(function (r) { r.classList.toggle("hidden", !visible.has(r)); });
      if (counter) counter.textContent = shown.length + " of " + rows.length;
      if (pager) {
        pager.querySelector(".info").textContent = shown.length ?
          "rows " + (lo + 1) + "\u2013" + Math.min(hi, shown.length) + " of " + shown.length + " (page " + (state.page + 1) + "/" + pages + ")" : "no rows";
        pager.querySelector(".prev").disabled = state.page <= 0;
        pager.querySelector(".next").disabled = state.page >= pages - 1;
      }
    }
    Array.prototype.forEach.call(table.tHead ? table.tHead.rows[0].cells : [], function (th, i) {
      var btn = th.querySelector("button.sort");
      if (!btn) return;
      btn.addEventListener("click", function () {
        var numeric = th.getAttribute("data-type") === "num";
        var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
        Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = cellValue(a, i, numeric), y = cellValue(b, i, numeric);
          if (numeric) {  // missing values last in either direction
            if (isNaN(x) && isNaN(y)) return 0; if (isNaN(x)) return 1; if (isNaN(y)) return -1;
            return (x - y) * dir;
          }
          return x < y ? -dir : x > y ? dir : 0;
        });
        rows.forEach(function (r) { body.appendChild(r); });
        state.page = 0; apply();
      });
    });
    if (search) {
      var q = new URLSearchParams(window.location.search).get("q");
      if (q) search.value = q;
      var onSearch = function () { state.query = search.value.trim().toLowerCase(); state.page = 0; apply(); };
      search.addEventListener("input", onSearch);
      state.query = search.value.trim().toLowerCase();
    }
    if (thr) {
      var onThr = function () { var v = parseFloat(thr.value); state.threshold = isNaN(v) ? -Infinity : v; state.page = 0;
        var out = document.querySelector('[data-threshold-value-for="' + id + '"]'); if (out) out.textContent = isNaN(v) ? "" : v.toFixed(2); apply(); };
      thr.addEventListener("input", onThr);
      var v0 = parseFloat(thr.value); state.threshold = isNaN(v0) ? -Infinity : v0;
    }
    [decisionSel, flaggedBox].forEach(function (el) {
      if (!el) return;
      el.addEventListener("change", function () { state.page = 0; apply(); });
    });
    if (pager) {
      pager.querySelector(".prev").addEventListener("click", function () { state.page -= 1; apply(); });
      pager.querySelector(".next").addEventListener("click", function () { state.page += 1; apply(); });
    }
    apply();
  }
  function setupFragments() {
    var lines = document.querySelectorAll(".code .ln[data-frag]");
    function mark(frag, on) {
      document.querySelectorAll('.code .ln[data-frag="' + frag + '"]').forEach(function (l) { l.classList.toggle("active", on); });
    }
    lines.forEach(function (l) {
      l.addEventListener("mouseenter", function () { mark(l.getAttribute("data-frag"), true); });
      l.addEventListener("mouseleave", function () { mark(l.getAttribute("data-frag"), false); });
    });
    // scroll each side's own box to a fragment's first line; on a click, the page too
    function show(f, page) {
      var sbs = document.getElementById("side-by-side");
      if (page && sbs) sbs.scrollIntoView({ block: "start" });
      ["a", "b"].forEach(function (side) {
        var box = document.querySelector(".side-" + side);
        var first = box && box.querySelector('.ln[data-frag="' + f + '"]');
        if (first) box.scrollTop = Math.max(0, first.offsetTop - 40);
      });
    }
    document.querySelectorAll("[data-goto-frag]").forEach(function (a) {
      a.addEventListener("click", function (ev) { ev.preventDefault(); show(a.getAttribute("data-goto-frag"), true); });
    });
    if (document.querySelector(".side-a")) show("0", false);
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table[data-table]").forEach(setupTable);
    setupFragments();
  });
})();

/* Findings table of report.html: filter, search, sort and page through the embedded findings.
 * Data comes from the JSON element #findings-data (type application/json) and is only
 * ever written with textContent / new Option (never innerHTML), so it cannot become markup. */
(function () {
  "use strict";
  var source = document.getElementById("findings-data");
  var body = document.getElementById("findings-body");
  if (!source || !body) { return; }
  var data = JSON.parse(source.textContent);
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var PAGE = 250;
  var SEVERITY_RANK = { error: 0, warning: 1, info: 2 };
  var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  var count = new Intl.NumberFormat("en-US");

  // With run history or reviewer dispositions each row also has a status and a disposition.
  var marked = col.status !== undefined;

  // provider NPI -> name, when the run was given a providers export
  var names = data.names || {};
  // claim id -> its evidence packet (a relative path we wrote), when the run wrote packets
  var packets = data.packets || {};

  var rows = data.rows.map(function (r, i) {
    var text = [r[col.rule_id], r[col.severity], r[col.claim_id], r[col.patient_id],
      r[col.provider_npi], names[r[col.provider_npi]] || "", r[col.service_date],
      r[col.procedure_code], r[col.message],
      r[col.evidence]].concat(marked ? [r[col.status], r[col.disposition]] : [])
      .join("\u0001").toLowerCase();
    return { r: r, i: i, text: text };
  });

  var ruleSelect = document.getElementById("filter-rule");
  var sevSelect = document.getElementById("filter-severity");
  var provSelect = document.getElementById("filter-provider");
  var statusSelect = document.getElementById("filter-status");
  var search = document.getElementById("filter-text");
  var more = document.getElementById("findings-more");
  var counter = document.getElementById("findings-count");

  data.rules.forEach(function (rule) {
    ruleSelect.add(new Option(rule[0] + " \u2014 " + rule[1], rule[0]));
  });
  data.severities.forEach(function (s) { sevSelect.add(new Option(s, s)); });
  data.providers.forEach(function (p) {
    provSelect.add(new Option(names[p] ? p + " \u2014 " + names[p] : p, p));
  });

  var sortKey = "amount_at_risk";
  var sortDir = -1;
  var limit = PAGE;
  var current = [];

  function cmpValues(a, b) {
    if (a === b) { return 0; }
    if (a === null || a === undefined) { return 1; }
    if (b === null || b === undefined) { return -1; }
    if (typeof a === "number" && typeof b === "number") { return a - b; }
    return String(a) < String(b) ? -1 : 1;
  }

  function sortValue(row, key) {
    if (key === "severity") { return SEVERITY_RANK[row.r[col.severity]]; }
    return row.r[col[key]];
  }

  function compare(x, y) {
    var c = cmpValues(sortValue(x, sortKey), sortValue(y, sortKey));
    if (c !== 0) {
      // nulls stay last whichever the direction
      var nx = sortValue(x, sortKey) === null, ny = sortValue(y, sortKey) === null;
      return nx || ny ? c : c * sortDir;
    }
    if (sortKey === "claim_id") {
      c = cmpValues(x.r[col.line_number], y.r[col.line_number]) * sortDir;
      if (c !== 0) { return c; }
    }
    return x.i - y.i;
  }

  function show(value) {
    return value === null || value === undefined ? "\u2013" : String(value);
  }

  // An element of `tag` holding `text`, named by `col` so tests and readers can find it.
  function part(tag, text, className, col) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (col) { el.setAttribute("data-col", col); }
    el.textContent = show(text);
    return el;
  }

  function cell(tr, parts, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    parts.forEach(function (p) { td.appendChild(p); });
    tr.appendChild(td);
    return td;
  }

  function renderRow(row) {
    var r = row.r;
    var tr = document.createElement("tr");
    var sev = r[col.severity];
    var known = Object.prototype.hasOwnProperty.call(SEVERITY_RANK, sev);
    var first = [
      part("div", r[col.rule_id], "rule-id mono", "rule_id"),
      part("span", sev, "sev" + (known ? " sev-" + sev : ""), "severity")
    ];
    if (marked && r[col.status] === "new") {
      first.push(part("span", "new", "mark mark-new", "status"));
    }
    if (marked && r[col.disposition]) {
      first.push(part("span", "reviewed: " + r[col.disposition], "mark mark-reviewed",
        "disposition"));
    }
    cell(tr, first, "");
    var claim = part("div", r[col.claim_id], "mono", "claim_id");
    if (Object.prototype.hasOwnProperty.call(packets, r[col.claim_id])) {
      var link = document.createElement("a");
      link.href = packets[r[col.claim_id]];
      link.className = "packet-link";
      link.title = "Evidence packet of this claim";
      link.textContent = claim.textContent;
      claim.replaceChildren(link);
    }
    cell(tr, [claim, part("div", "line " + r[col.line_number], "sub", "line_number")], "");
    cell(tr, [part("span", r[col.patient_id], "mono", "patient_id")], "");
    var provider = [part("span", r[col.provider_npi], "mono", "provider_npi")];
    if (names[r[col.provider_npi]]) {
      provider.push(part("div", names[r[col.provider_npi]], "sub", "provider_name"));
    }
    cell(tr, provider, "");
    cell(tr, [part("span", r[col.service_date], "", "service_date")], "");
    cell(tr, [part("span", r[col.procedure_code], "mono", "procedure_code")], "");
    var units = [r[col.billed_units], r[col.supported_units], r[col.excess_units]].map(show);
    cell(tr, [part("span", units.join(" / "), "", "units")], "num").title =
      "billed / supported / excess";
    cell(tr, [part("span", money.format(r[col.amount_at_risk]), "", "amount_at_risk")], "num");
    cell(tr, [
      part("div", r[col.message], "msg", "message"),
      part("div", r[col.evidence], "evidence", "evidence")
    ], "finding");
    return tr;
  }

  function hasStatus(r, status) {
    if (status === "reviewed") { return Boolean(r[col.disposition]); }
    if (status === "unreviewed") { return !r[col.disposition]; }
    return r[col.status] === status;
  }

  function filtered() {
    var rule = ruleSelect.value, sev = sevSelect.value, prov = provSelect.value;
    var status = statusSelect ? statusSelect.value : "";
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    return rows.filter(function (row) {
      var r = row.r;
      if (rule && r[col.rule_id] !== rule) { return false; }
      if (sev && r[col.severity] !== sev) { return false; }
      if (prov && r[col.provider_npi] !== prov) { return false; }
      if (status && !hasStatus(r, status)) { return false; }
      for (var t = 0; t < terms.length; t++) {
        if (row.text.indexOf(terms[t]) === -1) { return false; }
      }
      return true;
    });
  }

  function draw() {
    var fragment = document.createDocumentFragment();
    var shown = Math.min(limit, current.length);
    for (var k = 0; k < shown; k++) { fragment.appendChild(renderRow(current[k])); }
    body.replaceChildren(fragment);
    counter.textContent = current.length === 0
      ? "No finding on this page matches the filters."
      : "Showing " + count.format(shown) + " of " + count.format(current.length) +
        " matching findings (" + count.format(rows.length) + " on this page).";
    more.hidden = shown >= current.length;
    more.textContent = "Show " + count.format(Math.min(PAGE, current.length - shown)) + " more";
  }

  function update() {
    current = filtered().sort(compare);
    limit = PAGE;
    draw();
  }

  document.querySelectorAll("#findings-table th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      sortDir = key === sortKey ? -sortDir : (key === "amount_at_risk" ? -1 : 1);
      sortKey = key;
      document.querySelectorAll("#findings-table th[aria-sort]").forEach(function (th) {
        th.removeAttribute("aria-sort");
      });
      button.parentNode.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
      update();
    });
  });
  [ruleSelect, sevSelect, provSelect, statusSelect].forEach(function (el) {
    if (el) { el.addEventListener("change", update); }
  });
  var pending = null;
  search.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(update, 120);
  });
  document.getElementById("filter-reset").addEventListener("click", function () {
    ruleSelect.value = ""; sevSelect.value = ""; provSelect.value = ""; search.value = "";
    if (statusSelect) { statusSelect.value = ""; }
    update();
  });
  more.addEventListener("click", function () { limit += PAGE; draw(); });
  // A printout has no "show more" button: print every finding the filters let through.
  window.addEventListener("beforeprint", function () {
    if (limit < current.length) { limit = current.length; draw(); }
  });
  update();
})();

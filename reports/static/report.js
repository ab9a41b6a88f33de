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
  // rule id -> the rule's recommended action
  var actions = data.actions || {};
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
  var groupSelect = document.getElementById("group-by");
  var prev = document.getElementById("page-prev");
  var next = document.getElementById("page-next");
  var pageInfo = document.getElementById("page-info");
  var counter = document.getElementById("findings-count");
  var table = document.getElementById("findings-table");
  // whether every finding of the run is on this page, and the files that hold them all
  var complete = table.getAttribute("data-complete") === "true";
  var runTotal = Number(table.getAttribute("data-total"));
  var exportsText = table.getAttribute("data-exports");

  data.rules.forEach(function (rule) {
    ruleSelect.add(new Option(rule[0] + " \u2014 " + rule[1], rule[0]));
  });
  data.severities.forEach(function (s) { sevSelect.add(new Option(s, s)); });
  data.providers.forEach(function (p) {
    provSelect.add(new Option(names[p] ? p + " \u2014 " + names[p] : p, p));
  });

  var sortKey = "amount_at_risk";
  var sortDir = -1;
  var page = 0;
  var printing = false;
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

  // groups first (largest amount at risk first), then the chosen order within a group
  var groupTotals = {};
  function compareGroups(x, y) {
    var key = groupSelect.value;
    if (!key) { return 0; }
    var gx = x.r[col[key]], gy = y.r[col[key]];
    if (gx === gy) { return 0; }
    var c = groupTotals[gy].amount - groupTotals[gx].amount;
    return c !== 0 ? c : (String(gx) < String(gy) ? -1 : 1);
  }

  function compare(x, y) {
    var g = compareGroups(x, y);
    if (g !== 0) { return g; }
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
    ].concat(actions[r[col.rule_id]]
      ? [part("div", "Action: " + actions[r[col.rule_id]], "action", "action")] : []), "finding");
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

  var GROUP_NAMES = { claim_id: "Claim", patient_id: "Patient", provider_npi: "Provider" };

  function groupRow(key, value) {
    var tr = document.createElement("tr");
    tr.className = "group-row";
    var td = document.createElement("td");
    td.colSpan = 9;
    var label = part("strong", GROUP_NAMES[key] + " " + value, "mono", "group");
    if (key === "claim_id" && Object.prototype.hasOwnProperty.call(packets, value)) {
      var link = document.createElement("a");
      link.href = packets[value];
      link.className = "packet-link";
      link.textContent = label.textContent;
      label.replaceChildren(link);
    }
    td.appendChild(label);
    if (key === "provider_npi" && names[value]) {
      td.appendChild(part("span", " " + names[value], "sub", "group_name"));
    }
    var t = groupTotals[value];
    td.appendChild(part("span", " \u2014 " + count.format(t.findings) + " finding" +
      (t.findings === 1 ? "" : "s") + ", " + money.format(t.amount) + " at risk", "sub",
      "group_total"));
    tr.appendChild(td);
    return tr;
  }

  function pages() { return Math.max(1, Math.ceil(current.length / PAGE)); }

  function notFound() {
    var q = search.value.trim();
    if (!q) { return "No finding on this page matches the filters."; }
    if (complete) {
      return "No finding of this run matches \u201c" + q + "\u201d with these filters.";
    }
    return "No finding on this page matches \u201c" + q + "\u201d. This page holds " +
      count.format(rows.length) + " of the run\u2019s " + count.format(runTotal) +
      " findings; a claim whose findings are not among them is in the complete list: " +
      exportsText + ", in the same folder as this report.";
  }

  function draw() {
    var fragment = document.createDocumentFragment();
    page = Math.min(page, pages() - 1);
    var from = printing ? 0 : page * PAGE;
    var to = printing ? current.length : Math.min(current.length, from + PAGE);
    var key = groupSelect.value, last = null;
    for (var k = from; k < to; k++) {
      var value = key ? current[k].r[col[key]] : null;
      if (key && (k === from || value !== last)) { fragment.appendChild(groupRow(key, value)); }
      last = value;
      fragment.appendChild(renderRow(current[k]));
    }
    body.replaceChildren(fragment);
    counter.textContent = current.length === 0 ? notFound()
      : "Showing " + count.format(from + 1) + "\u2013" + count.format(to) + " of " +
        count.format(current.length) + " matching findings (" + count.format(rows.length) +
        " on this page" + (complete ? "" : ", " + count.format(runTotal) + " in the run") + ").";
    prev.parentNode.hidden = printing || pages() === 1;
    prev.disabled = page === 0;
    next.disabled = page >= pages() - 1;
    pageInfo.textContent = "Page " + count.format(page + 1) + " of " + count.format(pages());
  }

  // The view (filters, grouping, order, page) lives in the address's hash, so it can be shared.
  var CONTROLS = { rule: ruleSelect, severity: sevSelect, provider: provSelect,
    status: statusSelect, q: search, group: groupSelect };

  function writeHash() {
    var params = new URLSearchParams();
    Object.keys(CONTROLS).forEach(function (name) {
      var el = CONTROLS[name];
      if (el && el.value) { params.set(name, el.value); }
    });
    if (sortKey !== "amount_at_risk" || sortDir !== -1) {
      params.set("sort", sortKey);
      params.set("dir", sortDir === 1 ? "asc" : "desc");
    }
    if (page > 0) { params.set("page", String(page + 1)); }
    var text = params.toString();
    var hash = text ? "#findings?" + text : "";
    if (hash === location.hash) { return; }
    try {
      history.replaceState(null, "", hash || location.pathname + location.search);
    } catch (e) {
      location.replace(hash || "#");
    }
  }

  function hasOption(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }

  function readHash() {
    var hash = location.hash;
    var at = hash.indexOf("?");
    if (hash.indexOf("#findings") !== 0 || at === -1) { return false; }
    var params = new URLSearchParams(hash.slice(at + 1));
    Object.keys(CONTROLS).forEach(function (name) {
      var el = CONTROLS[name];
      if (!el) { return; }
      var value = params.get(name) || "";
      // a value the page does not offer (an edited address) is dropped, not half-applied
      el.value = el.tagName === "SELECT" && !hasOption(el, value) ? "" : value;
    });
    var sort = params.get("sort");
    if (sort && col[sort] !== undefined) {
      sortKey = sort;
      sortDir = params.get("dir") === "asc" ? 1 : -1;
    }
    page = Math.max(0, (parseInt(params.get("page"), 10) || 1) - 1);
    return true;
  }

  function showSort() {
    document.querySelectorAll("#findings-table th[aria-sort]").forEach(function (th) {
      th.removeAttribute("aria-sort");
    });
    var button = document.querySelector("#findings-table th button[data-sort='" + sortKey + "']");
    if (button) {
      button.parentNode.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
    }
  }

  function totals(list) {
    groupTotals = {};
    var key = groupSelect.value;
    if (!key) { return; }
    // a line's money counts once, at its largest finding (the report's rule)
    var lineMax = {};
    list.forEach(function (row) {
      var g = row.r[col[key]];
      var t = groupTotals[g] || (groupTotals[g] = { findings: 0, amount: 0 });
      t.findings += 1;
      var line = g + "\u0001" + row.r[col.claim_id] + "\u0001" + row.r[col.line_number];
      var amount = row.r[col.amount_at_risk] || 0;
      if (!(line in lineMax)) { lineMax[line] = 0; }
      if (amount > lineMax[line]) {
        t.amount += amount - lineMax[line];
        lineMax[line] = amount;
      }
    });
  }

  function update(keepPage) {
    var list = filtered();
    totals(list);
    current = list.sort(compare);
    if (!keepPage) { page = 0; }
    showSort();
    draw();
    writeHash();
  }

  document.querySelectorAll("#findings-table th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.getAttribute("data-sort");
      sortDir = key === sortKey ? -sortDir : (key === "amount_at_risk" ? -1 : 1);
      sortKey = key;
      update();
    });
  });
  [ruleSelect, sevSelect, provSelect, statusSelect, groupSelect].forEach(function (el) {
    if (el) { el.addEventListener("change", function () { update(); }); }
  });
  var pending = null;
  search.addEventListener("input", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { update(); }, 120);
  });
  document.getElementById("filter-reset").addEventListener("click", function () {
    ruleSelect.value = ""; sevSelect.value = ""; provSelect.value = ""; search.value = "";
    groupSelect.value = "";
    if (statusSelect) { statusSelect.value = ""; }
    sortKey = "amount_at_risk"; sortDir = -1;
    update();
  });
  prev.addEventListener("click", function () { page -= 1; draw(); writeHash(); });
  next.addEventListener("click", function () { page += 1; draw(); writeHash(); });
  // A printout has no pager: print every finding the filters let through, then page again.
  window.addEventListener("beforeprint", function () { printing = true; draw(); });
  window.addEventListener("afterprint", function () { printing = false; draw(); });
  window.addEventListener("hashchange", function () {
    if (readHash()) { update(true); }
  });
  var shared = readHash();
  update(true);
  if (shared) { document.getElementById("findings").scrollIntoView(); }
})();

/* promptdeck's HTML report: reads the embedded JSON, draws the grid, filters, details.
 * Every text from the data is written with textContent (never as markup). */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var S = D.S;
  var F = {};
  D.F.forEach(function (name, i) { F[name] = i; });
  var ROW_H = 30;
  var STATUS = { p: "pass", f: "fail", e: "error", u: "unchecked" };
  var perf = { lastFilterMs: null, readyMs: null, renders: 0 };
  window.__promptdeckReport = perf;

  function s(i) { return i === null || i === undefined ? null : S[i]; }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined) return;
        if (key === "text") node.textContent = String(value);
        else if (key === "cls") node.className = value;
        else node.setAttribute(key, String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    }
    return node;
  }

  function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + " %"; }
  function ms(x) { return x === null || x === undefined ? "–" : x.toFixed(0) + " ms"; }
  function num(x, d) { return x === null || x === undefined ? "–" : x.toFixed(d); }
  function money(cost, unknown) {
    if (cost === null || cost === undefined) return "$?";
    if (unknown) return cost > 0 ? "$" + cost.toFixed(4) + " + $?" : "$?";
    return "$" + cost.toFixed(cost && cost < 0.0001 ? 6 : 4);
  }

  /* ---- the data, folded per case × (prompt · model) ---- */
  var rows = D.rows, cols = D.cols, cells = D.cells;
  var groups = rows.map(function () { return {}; });
  cells.forEach(function (c, i) {
    var g = groups[c[F.row]];
    (g[c[F.col]] = g[c[F.col]] || []).push(i);
  });
  var rowInfo = rows.map(function (r, ri) {
    var info = { fail: false, error: false, flaky: false, changed: false, cells: 0,
      counts: { p: 0, f: 0, e: 0, u: 0 }, status: {} };
    Object.keys(groups[ri]).forEach(function (col) {
      var n = { p: 0, f: 0, e: 0, u: 0 }, changed = 0;
      groups[ri][col].forEach(function (i) {
        var c = cells[i];
        n[c[F.status]]++;
        info.counts[c[F.status]]++;
        if (c[F.change]) changed = changed || c[F.change];
      });
      var st = n.e && !(n.p || n.f || n.u) ? "error" : n.p && n.f ? "flaky" : n.f ? "fail"
        : n.p ? "pass" : n.u ? "unchecked" : "missing";
      info.status[col] = { st: st, n: n, change: changed };
      info.cells += groups[ri][col].length;
      info.fail = info.fail || n.f > 0;
      info.error = info.error || n.e > 0;
      info.flaky = info.flaky || st === "flaky";
      info.changed = info.changed || changed !== 0;
    });
    info.tags = r[5].map(s);
    return info;
  });
  var haystacks = null;
  function haystack(ri) {
    if (haystacks === null) {
      haystacks = rows.map(function (r, i) {
        var parts = [s(r[1]), s(r[3]), s(r[4]), s(r[6]), s(r[7])].concat(rowInfo[i].tags);
        Object.keys(groups[i]).forEach(function (col) {
          groups[i][col].forEach(function (ci) {
            parts.push(s(cells[ci][F.output]), s(cells[ci][F.error]));
          });
        });
        return parts.filter(function (p) { return p; }).join("\n").toLowerCase();
      });
    }
    return haystacks[ri];
  }

  /* ---- filters ---- */
  var state = { status: "all", tag: "", search: "" };
  var visible = [];
  var matchCell = {
    all: function () { return true; },
    failed: function (st) { return st.n.f > 0; },
    errored: function (st) { return st.n.e > 0; },
    flaky: function (st) { return st.st === "flaky"; },
    changed: function (st) { return st.change !== 0; }
  };
  function rowMatches(ri) {
    var info = rowInfo[ri];
    if (state.status === "failed" && !info.fail) return false;
    if (state.status === "errored" && !info.error) return false;
    if (state.status === "flaky" && !info.flaky) return false;
    if (state.status === "changed" && !info.changed) return false;
    if (state.tag && info.tags.indexOf(state.tag) < 0) return false;
    if (state.search && haystack(ri).indexOf(state.search) < 0) return false;
    return true;
  }
  function applyFilters() {
    var t0 = performance.now();
    visible = [];
    var n = { p: 0, f: 0, e: 0, u: 0 }, total = 0;
    for (var ri = 0; ri < rows.length; ri++) {
      if (!rowMatches(ri)) continue;
      visible.push(ri);
      var c = rowInfo[ri].counts;
      n.p += c.p; n.f += c.f; n.e += c.e; n.u += c.u;
      total += rowInfo[ri].cells;
    }
    var counts = document.getElementById("counts");
    counts.dataset.cases = String(visible.length);
    counts.dataset.cells = String(total);
    counts.dataset.passed = String(n.p);
    counts.dataset.failed = String(n.f);
    counts.dataset.errors = String(n.e);
    counts.textContent = visible.length + " of " + rows.length + " cases · " + total + " cells: " +
      n.p + " passed, " + n.f + " failed, " + n.e + " errored" + (n.u ? ", " + n.u + " unchecked" : "");
    document.getElementById("grid-spacer").style.height = (visible.length * ROW_H) + "px";
    document.getElementById("empty").hidden = visible.length > 0;
    var grid = document.getElementById("grid");
    grid.scrollTop = 0;
    drawRows(true);
    perf.lastFilterMs = performance.now() - t0;
  }

  /* ---- the grid (only the rows in view are in the page) ---- */
  function caseLabel(r) {
    return "case-" + r[2] + (s(r[3]) ? " " + s(r[3]) : "");
  }
  function drawHead() {
    var head = document.getElementById("grid-head");
    head.appendChild(el("div", { cls: "ghead-case", text: "case" }));
    cols.forEach(function (c) {
      head.appendChild(el("div", { cls: "ghead", title: c[0] + " · " + c[1] + (c[2] ? " · run " + c[2] : "") },
        el("span", { text: c[0] }), el("span", { cls: "model", text: c[1] }),
        c[2] ? el("span", { cls: "model", text: "run " + c[2] }) : null));
    });
  }
  var drawn = { first: -1, last: -1 };
  function drawRows(force) {
    var grid = document.getElementById("grid");
    var head = document.getElementById("grid-head").offsetHeight;
    var first = Math.max(0, Math.floor((grid.scrollTop - head) / ROW_H) - 5);
    var last = Math.min(visible.length, first + Math.ceil(grid.clientHeight / ROW_H) + 10);
    if (!force && first === drawn.first && last === drawn.last) return;
    drawn = { first: first, last: last };
    var box = document.getElementById("grid-rows");
    box.style.top = (first * ROW_H) + "px";
    var frag = document.createDocumentFragment();
    for (var k = first; k < last; k++) frag.appendChild(drawRow(visible[k]));
    box.replaceChildren(frag);
    perf.renders++;
  }
  function drawRow(ri) {
    var r = rows[ri], info = rowInfo[ri];
    var label = el("div", { cls: "gcase", title: s(r[1]) },
      el("span", { text: caseLabel(r) }));
    info.tags.forEach(function (t) { label.appendChild(el("span", { cls: "tag", text: t })); });
    var line = el("div", { cls: "grow", "data-row": ri }, label);
    cols.forEach(function (c, ci) {
      var st = info.status[ci];
      if (!st) { line.appendChild(el("div", { cls: "gcell st-missing" })); return; }
      var ids = groups[ri][ci];
      var text;
      if (ids.length > 1) text = st.n.p + "/" + ids.length;
      else if (st.st === "error") text = "error";
      else if (st.st === "unchecked") text = "–";
      else text = (st.st === "pass" ? "✓ " : "✗ ") + cells[ids[0]][F.score].toFixed(2);
      var button = el("button", { type: "button", cls: "gcell st-" + st.st, "data-row": ri,
        "data-col": ci, "data-status": st.st, title: st.st }, text);
      if (st.change) button.appendChild(el("span", { cls: "chg", text: st.change < 0 ? "▼" : "▲" }));
      if (!matchCell[state.status](st)) button.classList.add("dim");
      line.appendChild(button);
    });
    return line;
  }

  /* ---- one cell in detail ---- */
  function facts(pairs) {
    var box = el("div", { cls: "facts" });
    pairs.forEach(function (p) {
      if (p[1] !== null && p[1] !== undefined && p[1] !== "") {
        box.appendChild(el("span", null, el("b", { text: p[0] + ": " }), String(p[1])));
      }
    });
    return box;
  }
  function scoresTable(list) {
    if (!list.length) return el("p", { cls: "muted", text: "No assertions: nothing was checked." });
    var table = el("table", null, el("tr", null, el("th", { text: "assertion" }),
      el("th", { text: "type" }), el("th", { cls: "num", text: "score" }),
      el("th", { text: "result" }), el("th", { text: "reason" })));
    list.forEach(function (x) {
      table.appendChild(el("tr", null, el("td", { text: s(x[0]) }), el("td", { text: s(x[1]) }),
        el("td", { cls: "num", text: num(x[2], 3) }),
        el("td", null, el("span", { cls: "chip " + (x[3] ? "st-pass" : "st-fail"), text: x[3] ? "pass" : "fail" })),
        el("td", { text: s(x[4]) })));
    });
    return table;
  }
  function pre(text) { return el("pre", { text: text === null || text === undefined ? "" : text }); }
  function cacheState(c) {
    if (c[F.cache] === "semantic" || c[F.source] === "semantic") {
      return "semantic" + (c[F.similarity] !== null ? " (similarity " + num(c[F.similarity], 3) + ")" : "");
    }
    if (c[F.cache] === "exact") return "exact";
    return c[F.source] === "fresh" ? "miss (fresh call)" : c[F.source];
  }
  function ratingText(r) {
    var parts = [];
    if (r[0] === 1) parts.push("👍");
    if (r[0] === -1) parts.push("👎");
    if (r[1]) parts.push(r[1] + "/5");
    if (s(r[2])) parts.push("“" + s(r[2]) + "”");
    if (s(r[3])) parts.push("corrected: " + s(r[3]));
    if (s(r[4])) parts.push("(by " + s(r[4]) + ")");
    return parts.join(" ");
  }
  function cellBlock(ci) {
    var c = cells[ci];
    var st = STATUS[c[F.status]];
    var block = el("div", { cls: "repeat" },
      el("h3", null, "repeat " + c[F.repeat] + " ", el("span", { cls: "chip st-" + st, text: st })));
    block.appendChild(facts([
      ["score", st === "pass" || st === "fail" ? num(c[F.score], 3) : null], ["latency", ms(c[F.latency_ms])],
      ["first token", c[F.ttft_ms] === null ? null : ms(c[F.ttft_ms])],
      ["tokens", c[F.tokens] === null ? "–" : c[F.tokens] + (c[F.prompt_tokens] !== null
        ? " (" + c[F.prompt_tokens] + " in, " + c[F.completion_tokens] + " out)" : "")],
      ["cost", money(c[F.cost_usd], false)], ["cache", cacheState(c)], ["trace", c[F.trace]]
    ]));
    var asked = c[F.messages];
    block.appendChild(el("h3", { text: "Prompt" }));
    if (asked === null) block.appendChild(el("p", { cls: "muted", text: "The request was not recorded." }));
    else D.P[asked].forEach(function (m) {
      block.appendChild(el("div", { cls: "role", text: s(m[0]) }));
      block.appendChild(pre(s(m[1])));
    });
    if (s(c[F.error]) !== null) {
      block.appendChild(el("h3", { text: "Error" }));
      block.appendChild(pre(s(c[F.error])));
    } else {
      block.appendChild(el("h3", { text: "Answer" }));
      block.appendChild(pre(s(c[F.output])));
    }
    block.appendChild(el("h3", { text: "Assertions" }));
    block.appendChild(st === "error" && !c[F.scores].length
      ? el("p", { cls: "muted", text: "Not graded: the call failed." }) : scoresTable(c[F.scores]));
    if (c[F.ratings].length) {
      block.appendChild(el("h3", { text: "Ratings" }));
      var list = el("ul");
      c[F.ratings].forEach(function (r) { list.appendChild(el("li", { text: ratingText(r) })); });
      block.appendChild(list);
    }
    if (c[F.before] !== null) block.appendChild(sideBySide(ci));
    return block;
  }
  function beforeAfter(title, status, score, output, error, scoreList) {
    var failed = scoreList.filter(function (x) { return !x[3]; });
    var box = el("div", null, el("h3", null, title + " ",
      el("span", { cls: "chip st-" + STATUS[status], text: STATUS[status] }),
      status === "p" || status === "f" ? " score " + num(score, 3) : ""));
    box.appendChild(pre(error !== null ? "error: " + error : output));
    failed.forEach(function (x) { box.appendChild(el("div", { text: s(x[0]) + ": " + s(x[4]) })); });
    return box;
  }
  function sideBySide(ci) {
    var c = cells[ci], b = D.before[c[F.before]];
    return el("div", { cls: "side" },
      beforeAfter("Before (" + s(b[5]) + ", run " + s(b[6]) + ")", b[0], b[1], s(b[2]), s(b[3]), b[4]),
      beforeAfter("After", c[F.status], c[F.score], s(c[F.output]), s(c[F.error]), c[F.scores]));
  }
  function openDetail(ri, ci) {
    var r = rows[ri], col = cols[ci];
    document.getElementById("detail-title").textContent =
      caseLabel(r) + " · " + col[0] + " · " + col[1] + (col[2] ? " · run " + col[2] : "");
    var body = document.getElementById("detail-body");
    var parts = [facts([["suite", s(r[0])], ["defined at", s(r[4])], ["key", s(r[1])],
      ["tags", rowInfo[ri].tags.join(", ")]])];
    if (s(r[6]) !== null) parts.push(el("h3", { text: "Variables" }), pre(s(r[6])));
    if (s(r[7]) !== null) parts.push(el("h3", { text: "Expected" }), pre(s(r[7])));
    (groups[ri][ci] || []).forEach(function (i) { parts.push(cellBlock(i)); });
    body.replaceChildren.apply(body, parts);
    var dialog = document.getElementById("detail");
    dialog.hidden = false;
    document.getElementById("detail-close").focus();
  }
  function closeDetail() { document.getElementById("detail").hidden = true; }

  /* ---- statistics ---- */
  function statsTable(title, list, keys) {
    var head = el("tr");
    keys.forEach(function (k) { head.appendChild(el("th", { text: k[1] })); });
    ["cells", "passed", "pass rate", "95 % CI", "failed", "errors", "pass@k", "pass^k",
      "flaky", "p50", "p95", "p99", "tokens", "cost"].forEach(function (k) {
      head.appendChild(el("th", { cls: "num", text: k }));
    });
    var table = el("table", { "data-table": title }, head);
    list.forEach(function (g) {
      var tr = el("tr");
      keys.forEach(function (k) { tr.appendChild(el("td", { text: g[k[0]] })); });
      var pr = g.pass_rate, lat = g.latency_ms;
      [g.cells, pr.passed + "/" + pr.total, pr.total ? pct(pr.rate) : "–",
        pr.total ? pct(pr.low) + " – " + pct(pr.high) : "–", g.failed, g.errors,
        g.repeats > 1 ? num(g.pass_at_k, 3) + " (k=" + g.repeats + ")" : "–",
        g.repeats > 1 ? num(g.pass_hat_k, 3) : "–", g.flaky.length,
        ms(lat.p50), ms(lat.p95), ms(lat.p99), g.tokens, money(g.cost_usd, g.unknown_cost > 0)
      ].forEach(function (v) { tr.appendChild(el("td", { cls: "num", text: v })); });
      table.appendChild(tr);
    });
    return [el("h2", { text: title }), table];
  }
  function drawStats() {
    var view = document.getElementById("stats-view");
    if (view.childElementCount) return;
    var parts = statsTable("Per prompt × model", D.summary.groups,
      [["suite", "suite"], ["prompt", "prompt"], ["model", "model"]])
      .concat(statsTable("Per model", D.by_model, [["prompt", "model"]]))
      .concat(statsTable("Per prompt", D.by_prompt, [["prompt", "prompt"]]));
    parts.forEach(function (p) { view.appendChild(p); });
  }

  /* ---- comparisons ---- */
  var PAIR_LIMIT = 300;
  function drawCompare() {
    var view = document.getElementById("compare-view");
    if (view.childElementCount) return;
    D.compare.forEach(function (cmp) {
      var test = cmp.test;
      view.appendChild(el("h2", { text: cmp.before + " → " + cmp.after }));
      view.appendChild(el("p", { text: cmp.regressions + " regressions, " + cmp.improvements +
        " improvements, " + cmp.unchanged + " unchanged" +
        (cmp.only_before ? ", " + cmp.only_before + " only before" : "") +
        (cmp.only_after ? ", " + cmp.only_after + " only after" : "") }));
      view.appendChild(el("p", { cls: "paired-test", text: test === null ? "No paired cells: no test." :
        "Paired exact McNemar test on " + (test.both_pass + test.both_fail + test.regressions +
        test.improvements) + " paired cells: p = " + test.p_value.toFixed(4) + " (" +
        (test.significant ? "significant" : "not significant") + " at " + (100 * test.alpha) + " %)" }));
    });
    [[-1, "Regressions"], [1, "Improvements"]].forEach(function (kind) {
      var found = [];
      cells.forEach(function (c, i) { if (c[F.change] === kind[0]) found.push(i); });
      view.appendChild(el("h2", { text: kind[1] + " (" + found.length + ")" }));
      found.slice(0, PAIR_LIMIT).forEach(function (i) {
        var c = cells[i], r = rows[c[F.row]], col = cols[c[F.col]];
        var open = el("button", { type: "button", cls: "linkish", text: caseLabel(r) + " · " +
          col[0] + " · " + col[1] + " #r" + c[F.repeat] });
        open.addEventListener("click", function () { openDetail(c[F.row], c[F.col]); });
        var pair = el("div", { cls: "pair", "data-change": kind[0] }, open);
        if (c[F.before] !== null) pair.appendChild(sideBySide(i));
        view.appendChild(pair);
      });
      if (found.length > PAIR_LIMIT) {
        view.appendChild(el("p", { text: "… and " + (found.length - PAIR_LIMIT) +
          " more: use the grid's “changed since baseline” filter." }));
      }
    });
  }

  /* ---- the page ---- */
  function header() {
    var sm = D.summary, pr = sm.pass_rate;
    document.getElementById("title").textContent = D.title;
    var rate = pr.total ? pr.passed + "/" + pr.total + " passed (" + pct(pr.rate) + ", 95 % CI " +
      pct(pr.low) + " – " + pct(pr.high) + ")" : "nothing was checked: no pass rate";
    document.getElementById("headline").textContent = rate + " · " + sm.failed + " failed · " +
      sm.errors + " errored" + (sm.unchecked ? " · " + sm.unchecked + " without assertions" : "") +
      " · " + sm.tokens + " tokens · " + money(sm.cost_usd, sm.unknown_cost > 0) +
      " · latency p50 " + ms(sm.latency_ms.p50) + ", p95 " + ms(sm.latency_ms.p95) +
      (sm.status && sm.status !== "finished" ? " · " + sm.status : "") +
      (sm.started_at ? " · started " + sm.started_at : "");
    var notes = [];
    if (sm.judge_warning) notes.push(sm.judge_warning);
    if (sm.unknown_cost) notes.push(sm.unknown_cost + " cells have no known price: their cost shows as $?");
    if (D.clipped) notes.push(D.clipped + " long texts are shortened to keep this page small; " +
      "the JSON report (-o report.json) has them whole");
    document.getElementById("warnings").textContent = notes.join(" · ");
    var legend = document.getElementById("legend");
    ["pass", "fail", "error", "flaky", "unchecked"].forEach(function (k) {
      legend.appendChild(el("span", { cls: "chip st-" + k, text: k }));
    });
    legend.appendChild(el("span", { cls: "muted", text: "▼ regressed · ▲ improved" }));
    var select = document.getElementById("tag-filter");
    D.tags.forEach(function (t) { select.appendChild(el("option", { value: t, text: t })); });
    if (!D.compare.length) {
      document.querySelector("input[value='changed']").parentNode.title = "no baseline to compare with";
    } else {
      document.querySelector("[data-tab='compare']").hidden = false;
    }
  }
  function showTab(name) {
    document.querySelectorAll("#tabs button").forEach(function (b) {
      b.setAttribute("aria-selected", String(b.dataset.tab === name));
    });
    ["grid", "stats", "compare"].forEach(function (v) {
      document.getElementById(v + "-view").hidden = v !== name;
    });
    if (name === "stats") drawStats();
    if (name === "compare") drawCompare();
    if (name === "grid") drawRows(true);
  }
  function wire() {
    document.getElementById("tabs").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-tab]");
      if (b) showTab(b.dataset.tab);
    });
    document.getElementById("status-filter").addEventListener("change", function (e) {
      state.status = e.target.value;
      applyFilters();
    });
    document.getElementById("tag-filter").addEventListener("change", function (e) {
      state.tag = e.target.value;
      applyFilters();
    });
    var timer = null;
    document.getElementById("search").addEventListener("input", function (e) {
      clearTimeout(timer);
      var value = e.target.value.trim().toLowerCase();
      timer = setTimeout(function () { state.search = value; applyFilters(); }, 120);
    });
    document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
    var scheduled = false;
    document.getElementById("grid").addEventListener("scroll", function () {
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(function () { scheduled = false; drawRows(false); });
    });
    window.addEventListener("resize", function () { drawRows(true); });
    document.getElementById("grid-rows").addEventListener("click", function (e) {
      var b = e.target.closest("button.gcell");
      if (b) openDetail(Number(b.dataset.row), Number(b.dataset.col));
    });
    document.getElementById("detail-close").addEventListener("click", closeDetail);
    document.getElementById("detail").addEventListener("click", function (e) {
      if (e.target.id === "detail") closeDetail();
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") closeDetail();
    });
  }

  header();
  drawHead();
  wire();
  applyFilters();
  perf.readyMs = performance.now();
  document.documentElement.dataset.ready = "1";
})();

// Jobs page: re-renders rows from /prowjobs.js every few seconds, auto-submits filters, and
// posts rerun/abort with the CSRF token. The server-rendered table works without this file.
(function () {
  "use strict";
  var table = document.getElementById("jobs");
  if (!table) return;
  var tbody = table.tBodies[0];
  var notice = document.getElementById("notice");
  var limit = table.getAttribute("data-limit") || "500";
  var refresh = parseInt(table.getAttribute("data-refresh") || "30", 10) * 1000;
  var host = table.getAttribute("data-github-host") || "github.com";
  var spyglass = table.getAttribute("data-spyglass") === "1";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  var form = document.getElementById("filters");
  if (form) {
    Array.prototype.forEach.call(form.querySelectorAll("select"), function (s) {
      s.addEventListener("change", function () { form.submit(); });
    });
  }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== "") e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function link(href, text, cls) {
    return href ? el("a", { href: href, "class": cls }, text) : document.createTextNode(text);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function fmtTime(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
  }
  function fmtDur(s) {
    if (s <= 0) return "0s";
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), r = s % 60;
    return h ? h + "h" + m + "m" + r + "s" : m ? m + "m" + r + "s" : r + "s";
  }
  var finalStates = { success: 1, failure: 1, aborted: 1, error: 1 };

  function row(pj) {
    var spec = pj.spec || {}, st = pj.status || {};
    var state = st.state || "unknown";
    var refs = spec.refs || (spec.extra_refs || [])[0];
    var name = (pj.metadata || {}).name || "";
    var tr = el("tr", { "class": "s-" + state, "data-name": name });
    var td = el("td"); td.appendChild(el("span", { "class": "state " + state, title: st.description || "" }, state)); tr.appendChild(td);
    td = el("td");
    td.appendChild(el("button", { "class": "act rerun", "data-prowjob": name, title: "Rerun" }, "\u21bb"));
    if (state === "triggered" || state === "pending")
      td.appendChild(el("button", { "class": "act abort", "data-prowjob": name, title: "Abort" }, "\u2715"));
    tr.appendChild(td);
    td = el("td"); tr.appendChild(td);
    var td2 = el("td"); tr.appendChild(td2);
    if (refs) {
      var repo = refs.org + "/" + refs.repo;
      td.appendChild(link(refs.repo_link || "https://" + host + "/" + repo, repo));
      var pulls = refs.pulls || [];
      pulls.forEach(function (p) {
        td2.appendChild(link(p.link || "https://" + host + "/" + repo + "/pull/" + p.number, "#" + p.number));
        td2.appendChild(document.createTextNode(" "));
        td2.appendChild(el("span", { "class": "mono muted" }, (p.sha || "").slice(0, 7)));
        td2.appendChild(document.createTextNode(" "));
        if (p.author) { td2.appendChild(el("span", { "class": "muted" }, "@" + p.author)); td2.appendChild(document.createTextNode(" ")); }
      });
      if (!pulls.length) td2.appendChild(el("span", { "class": "mono" },
        refs.base_sha ? refs.base_ref + " (" + refs.base_sha.slice(0, 7) + ")" : (refs.base_ref || "")));
    }
    td = el("td");
    var jobLink = st.url || (spyglass && st.build_id ? "/view/prowjob/" + spec.job + "/" + st.build_id : "");
    td.appendChild(link(jobLink, spec.job || ""));
    td.appendChild(document.createTextNode(" "));
    td.appendChild(el("a", { "class": "muted", href: "/prowjob?prowjob=" + encodeURIComponent(name), title: "ProwJob YAML" }, "yaml"));
    tr.appendChild(td);
    tr.appendChild(el("td", {}, spec.type || ""));
    var start = st.startTime ? new Date(st.startTime) : null;
    td = el("td"); if (start) td.appendChild(el("time", { datetime: st.startTime }, fmtTime(start))); tr.appendChild(td);
    var end = st.completionTime ? new Date(st.completionTime) : (finalStates[state] ? null : new Date());
    tr.appendChild(el("td", {}, start && end ? fmtDur(Math.round((end - start) / 1000)) : ""));
    tr.appendChild(el("td", {}, spec.cluster || ""));
    return tr;
  }

  function poll() {
    var q = new URLSearchParams(location.search);
    q.set("omit", "annotations,labels,decoration_config,pod_spec");
    q.set("limit", limit);
    fetch("/prowjobs.js?" + q.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json().then(function (d) { return [d, r]; }); })
      .then(function (res) {
        var items = res[0].items || [];
        var frag = document.createDocumentFragment();
        items.forEach(function (pj) { frag.appendChild(row(pj)); });
        tbody.replaceChildren(frag);
        var shown = document.getElementById("shown"); if (shown) shown.textContent = items.length;
        var h = res[1].headers;
        var m = h.get("X-Deck-Matched"), matched = document.getElementById("matched");
        if (m && matched) matched.textContent = m;
        var tot = h.get("X-Deck-Total"), total = document.getElementById("total");
        if (tot && total) total.textContent = tot;
        var c = h.get("X-Deck-Counts"), counts = document.getElementById("counts");
        if (c !== null && counts) {
          var cf = document.createDocumentFragment();
          c.split(",").filter(Boolean).forEach(function (kv) {
            var p = kv.split("="), span = el("span", { "class": "count" });
            span.appendChild(el("span", { "class": "state " + p[0] }, p[0]));
            span.appendChild(document.createTextNode(" " + p[1]));
            cf.appendChild(span);
          });
          counts.replaceChildren(cf);
        }
        var empty = document.getElementById("empty"); if (empty) empty.hidden = items.length > 0;
      })
      .catch(function () { /* keep the last rows; try again next tick */ })
      .then(function () { setTimeout(poll, refresh); });
  }
  if (refresh > 0) setTimeout(poll, refresh);

  table.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("button.act");
    if (!b) return;
    var name = b.getAttribute("data-prowjob");
    var abort = b.classList.contains("abort");
    if (abort && !window.confirm("Abort " + name + "?")) return;
    b.disabled = true;
    var headers = {};
    if (csrf) headers["X-CSRF-Token"] = csrf;
    fetch((abort ? "/abort" : "/rerun") + "?prowjob=" + encodeURIComponent(name), { method: "POST", headers: headers, credentials: "same-origin" })
      .then(function (r) { return r.text().then(function (t) { return [r.status, t]; }); })
      .then(function (res) {
        notice.textContent = res[1];
        if (res[0] === 401) {
          notice.appendChild(document.createTextNode(" "));
          notice.appendChild(el("a", { href: "/github-login?dest=" + encodeURIComponent(location.pathname + location.search) }, "Log in"));
        }
      })
      .catch(function (e) { notice.textContent = "Request failed: " + e; })
      .then(function () { b.disabled = false; });
  });
})();

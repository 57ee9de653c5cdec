(function () {
  "use strict";
  var q = document.getElementById("query").value;
  var status = document.getElementById("status");
  var body = document.querySelector("#prs tbody");
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function tideCell(p) {
    var td = el("td");
    if (!p.TideQueries || !p.TideQueries.length) { td.appendChild(el("span", "muted", "no Tide query")); return td; }
    p.TideQueries.forEach(function (t) {
      var d = el("div");
      if (t.Matches) { d.appendChild(el("span", "ok", "✓ query " + (t.Index + 1) + ": ready")); td.appendChild(d); return; }
      var parts = [];
      if (t.MissingLabels.length) parts.push("needs " + t.MissingLabels.join(", "));
      if (t.ForbiddenLabels.length) parts.push("remove " + t.ForbiddenLabels.join(", "));
      if (t.WrongAuthor) parts.push("author must be " + t.WrongAuthor);
      if (t.WrongMilestone) parts.push("milestone must be " + t.WrongMilestone);
      if (t.FailingContexts.length) parts.push("waiting on " + t.FailingContexts.join(", "));
      d.appendChild(el("span", "bad", "✗ query " + (t.Index + 1) + ": " + parts.join("; ")));
      td.appendChild(d);
    });
    return td;
  }
  fetch("/pr-data.js" + (q ? "?query=" + encodeURIComponent(q) : ""), { credentials: "same-origin" })
    .then(function (r) { if (!r.ok) throw new Error(r.status + " " + r.statusText); return r.json(); })
    .then(function (data) {
      var prs = data.PullRequestsWithContexts || [];
      status.textContent = prs.length + " open pull request" + (prs.length === 1 ? "" : "s") + " · " + data.Query;
      prs.forEach(function (p) {
        var pr = p.PullRequest, tr = el("tr");
        var a = el("a", null, pr.Repository.NameWithOwner + "#" + pr.Number);
        a.href = pr.URL || "#";
        var td = el("td"); td.appendChild(a); tr.appendChild(td);
        tr.appendChild(el("td", null, pr.Title));
        td = el("td");
        pr.Labels.Nodes.forEach(function (l) { td.appendChild(el("span", "label", l.Label.Name)); });
        tr.appendChild(td);
        td = el("td");
        p.Contexts.forEach(function (c) {
          var s = el(c.TargetURL ? "a" : "span", "ctx " + c.State.toLowerCase(), c.Context);
          if (c.TargetURL) s.href = c.TargetURL;
          s.title = c.State + (c.Description ? ": " + c.Description : "");
          td.appendChild(s);
        });
        tr.appendChild(td);
        tr.appendChild(tideCell(p));
        body.appendChild(tr);
      });
    })
    .catch(function (e) { status.textContent = "Could not load pull requests: " + e.message; });
})();

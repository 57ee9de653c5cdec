// Spyglass page behaviour: build-log expanders (fetch a byte range as HTML and swap it in),
// line links with shift-click ranges (#<artifact>:<a>-<b>), and highlighting of the linked
// lines on load.
"use strict";
(function () {
  function selectRange(artifact, a, b) {
    document.querySelectorAll(".loglines .line.sel").forEach(function (el) { el.classList.remove("sel"); });
    var first = null;
    for (var n = Math.min(a, b); n <= Math.max(a, b); n++) {
      var el = document.getElementById(artifact + ":" + n);
      if (el) { el.classList.add("sel"); if (!first) { first = el; } }
    }
    return first;
  }

  function applyHash() {
    var h = decodeURIComponent(location.hash.slice(1));
    var m = /^(.*):(\d+)-(\d+)$/.exec(h);
    if (!m) { return; }
    var first = selectRange(m[1], +m[2], +m[3]);
    if (first) { first.scrollIntoView({ block: "center" }); }
  }

  var lastClicked = null;
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!(t instanceof Element)) { return; }
    var btn = t.closest(".skipped button");
    if (btn) {
      var box = btn.closest(".skipped");
      if (box.classList.contains("loading")) { return; }
      var n = +(btn.dataset.n || 20);
      if (e.shiftKey || e.altKey || e.metaKey || e.ctrlKey) { n *= 10; }
      var url = box.dataset.url + "&dir=" + encodeURIComponent(btn.dataset.dir || "all") + "&n=" + n;
      box.classList.add("loading");
      fetch(url, { credentials: "same-origin" }).then(function (r) {
        return r.text().then(function (body) {
          if (!r.ok) { throw new Error(body || r.statusText); }
          box.outerHTML = body;
        });
      }).catch(function (err) {
        box.classList.remove("loading");
        box.title = "Could not load lines: " + err.message;
      });
      return;
    }
    var ln = t.closest(".loglines a.ln");
    if (ln && ln.dataset.line) {
      var line = ln.closest(".line");
      var artifact = line.id.slice(0, line.id.lastIndexOf(":"));
      if (e.shiftKey && lastClicked && lastClicked.artifact === artifact) {
        e.preventDefault();
        var a = Math.min(lastClicked.n, +ln.dataset.line), b = Math.max(lastClicked.n, +ln.dataset.line);
        history.replaceState(null, "", "#" + artifact + ":" + a + "-" + b);
        selectRange(artifact, a, b);
        return;
      }
      lastClicked = { artifact: artifact, n: +ln.dataset.line };
      selectRange(artifact, lastClicked.n, lastClicked.n);
    }
  });
  window.addEventListener("hashchange", applyHash);
  document.addEventListener("DOMContentLoaded", applyHash);
})();

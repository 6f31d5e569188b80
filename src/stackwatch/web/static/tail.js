// Live tail for /logs?tail=1: polls the JSON API and prepends new records. Text only (textContent),
// so nothing from a log line is ever interpreted as HTML.
(function () {
  "use strict";
  var status = document.getElementById("tail-status");
  var table = document.getElementById("log-rows");
  if (!status || !table) { return; }
  var body = table.tBodies[0];
  var api = status.getAttribute("data-api");
  var after = parseFloat(status.getAttribute("data-after"));
  var seen = {};
  function cell(row, text) { var td = row.insertCell(-1); td.textContent = text || ""; return td; }
  function poll() {
    var url = api + (api.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(after) + "&limit=500";
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      var events = data.events || [];
      for (var i = events.length - 1; i >= 0; i--) {
        var e = events[i];
        var key = e.ts + "|" + e.host + "|" + e.raw;
        if (seen[key]) { continue; }
        seen[key] = true;
        var row = body.insertRow(0);
        row.className = "lvl-" + String(e.level || "").toLowerCase();
        cell(row, e.time); cell(row, e.host); cell(row, e.program || e.service); cell(row, e.level);
        cell(row, e.message).className = "msg";
        if (e.ts > after) { after = e.ts; }
      }
      status.textContent = "Live tail: last checked " + new Date().toISOString().slice(11, 19) + " UTC";
    }).catch(function () { status.textContent = "Live tail: cannot reach stackwatch, retrying"; });
  }
  setInterval(poll, 2000);
})();

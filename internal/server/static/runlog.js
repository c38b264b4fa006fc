// runlog.js follows a run's log on the run page (ui.go, runPage). The
// page holds the lines stored when it was rendered; this script reads the
// rest from the API's NDJSON stream (GET …/logs?follow=true&after=SEQ) as
// the server flushes each batch, appends them, reconnects from the last
// line seen when the connection drops, and shows the run's final state
// from the stream's last object once the run ends. It builds nodes with
// textContent only: a log line is never markup. Without JavaScript the
// page still shows the backlog and reloads itself (its <noscript> refresh).
(function () {
  "use strict";
  var log = document.getElementById("run-log");
  if (!log || log.getAttribute("data-follow") !== "true" || !window.fetch || !window.TextDecoder || !window.ReadableStream) {
    return;
  }
  var logsURL = log.getAttribute("data-logs");
  var runURL = log.getAttribute("data-run");
  var after = parseInt(log.getAttribute("data-after"), 10) || 0;
  var live = document.getElementById("run-live");
  var statusShown = document.getElementById("run-status");
  var retry = 0;

  function say(text) {
    if (live) live.textContent = text;
  }

  // clock is the line's time as the server renders it: HH:MM:SS, UTC.
  function clock(at) {
    var d = new Date(at);
    return isNaN(d.getTime()) ? "" : d.toISOString().slice(11, 19);
  }

  // lineNode is one line, in the markup the server renders for the backlog.
  function lineNode(l) {
    var div = document.createElement("div");
    var err = l.stream === "stderr";
    div.className = err ? "line stderr" : "line";
    div.setAttribute("data-seq", String(l.seq));
    var t = document.createElement("time");
    t.dateTime = l.at || "";
    t.title = l.at || "";
    t.textContent = clock(l.at);
    div.appendChild(t);
    if (err) {
      var m = document.createElement("span");
      m.className = "mark";
      m.textContent = "stderr";
      div.appendChild(m);
    }
    var s = document.createElement("span");
    s.className = "text";
    s.textContent = l.line || "";
    div.appendChild(s);
    return div;
  }

  // append adds lines, keeping the view at the bottom when it was there.
  function append(lines) {
    if (lines.length === 0) return;
    var stick = log.scrollHeight - log.scrollTop - log.clientHeight < 8;
    var f = document.createDocumentFragment();
    lines.forEach(function (l) { f.appendChild(lineNode(l)); });
    var empty = document.getElementById("run-log-empty");
    if (empty) empty.remove();
    log.appendChild(f);
    if (stick) log.scrollTop = log.scrollHeight;
    if (statusShown && (statusShown.textContent === "pending" || statusShown.textContent === "starting")) {
      refreshRun(); // the job prints: the run has started
    }
  }

  function showStatus(status) {
    if (!statusShown) return;
    statusShown.textContent = status;
    statusShown.className = "status status-" + status;
  }

  function refreshRun() {
    fetch(runURL, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) { if (run && log.getAttribute("data-follow") === "true") showStatus(run.status); })
      .catch(function () {});
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
  }

  // ended shows the run's final state from the stream's last object.
  function ended(run) {
    log.setAttribute("data-follow", "false");
    showStatus(run.status);
    setText("run-reason", run.reason || "");
    if (run.finished_at) {
      var took = run.started_at ? Math.max(0, Math.round((new Date(run.finished_at) - new Date(run.started_at)) / 1000)) : null;
      setText("run-finished", "finished " + clock(run.finished_at) + " UTC" + (took === null ? "" : " (took " + took + " s)"));
    }
    var rows = run.table_rows || {};
    var names = Object.keys(rows).sort();
    var table = document.getElementById("run-tables");
    if (table && names.length > 0) {
      var body = table.tBodies[0] || table.appendChild(document.createElement("tbody"));
      while (body.rows.length > 0) body.deleteRow(0);
      names.forEach(function (n) {
        var tr = body.insertRow();
        tr.insertCell().textContent = n;
        tr.insertCell().textContent = String(rows[n]);
      });
      table.hidden = false;
    }
    var text = "The run ended: " + run.status;
    if (run.exit_code !== undefined && run.exit_code !== null) text += " (exit code " + run.exit_code + ")";
    say(text + ".");
  }

  // once follows the stream until it ends. It answers true when there is
  // nothing more to follow (the run ended, or the server refused), false
  // when the connection dropped and a new one should go on from after.
  async function once() {
    var resp;
    try {
      resp = await fetch(logsURL + "?follow=true&after=" + after, {
        credentials: "same-origin", cache: "no-store", headers: {Accept: "application/x-ndjson"}
      });
    } catch (e) {
      return false;
    }
    if (!resp.ok) {
      if (resp.status >= 500) return false;
      say("The log cannot be followed (HTTP " + resp.status + "): reload the page" + (resp.status === 401 ? " and sign in again" : "") + ".");
      return true;
    }
    retry = 0;
    say("Following the run: lines appear as the job prints them.");
    var reader = resp.body.getReader();
    var dec = new TextDecoder();
    var buf = "";
    try {
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) return false;
        buf += dec.decode(chunk.value, {stream: true});
        var batch = [];
        var nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          var text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (text === "") continue;
          var obj;
          try {
            obj = JSON.parse(text);
          } catch (e) {
            // Not the server's stream: following again would read the same.
            console.error("run log: not a JSON line", text);
            say("The log stream could not be read: reload the page.");
            return true;
          }
          if (obj.end) {
            append(batch);
            ended(obj.run || {});
            return true;
          }
          if (obj.seq > after) {
            batch.push(obj);
            after = obj.seq;
          }
        }
        append(batch);
      }
    } catch (e) {
      return false;
    }
  }

  async function follow() {
    while (!(await once())) {
      retry = Math.min(retry === 0 ? 1 : retry * 2, 10);
      say("The connection to the server dropped; trying again in " + retry + " s.");
      await new Promise(function (r) { setTimeout(r, retry * 1000); });
    }
  }

  log.scrollTop = log.scrollHeight;
  follow();
})();

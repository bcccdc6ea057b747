// The outbox: every juror write (tick, untick, grid completion, observation, conflict
// declaration) goes through here. It applies the change on screen at once, stores the
// operation (UUID, kind, payload, time) in IndexedDB, sends it, and deletes it only when
// the server acknowledges it. Offline or on error it retries with backoff, in order, also
// after a reload or a closed tab. Acknowledged operations stay in a journal until the
// cached copies of the candidate's pages have been refreshed, so a page reloaded from the
// offline cache always shows everything this device recorded.
(function () {
  "use strict";
  var body = document.body;
  var juror = body.getAttribute("data-juror-id");
  if (!juror || !window.idbKeyval) return;
  var idb = window.idbKeyval;
  var outbox = idb.createStore("ntc-outbox", "operations");
  var journal = idb.createStore("ntc-journal", "operations");
  var csrf = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  var endpoint = body.getAttribute("data-outbox-url");
  var digestTemplate = body.getAttribute("data-digest-url");
  var statusBox = document.getElementById("sync-status");
  var words = readWords();
  var sending = false;
  var backoff = 1000;
  var timer = null;
  var authLost = false;
  var serverDown = false; // the last send reached something that did not answer as the app
  var counter = null; // read from sessionStorage at the first operation
  var refused = [];
  // Operations recorded but not yet in IndexedDB: the status must not say "saved" meanwhile.
  var storing = 0;
  // Operations that this document shows beyond its server-rendered state, in order.
  var docOps = [];
  // A locked session (every signature collected) takes no writes any more: the phone stops
  // talking to the server on its own (no periodic sync, no heartbeat, no comparison after
  // it). Operations still stored are sent all the same, once, to be answered (refused).
  var locked = body.hasAttribute("data-session-locked");
  var syncEvery = null;

  function readWords() {
    var out = {};
    document.querySelectorAll("template[data-word]").forEach(function (t) {
      out[t.getAttribute("data-word")] = t.innerHTML.trim();
    });
    return out;
  }

  // The word for a count in the page's language: "digestAgree:one" or "digestAgree:other".
  function plural(word, n) {
    var category = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "fr").select(n) : (n > 1 ? "other" : "one");
    return words[word + ":" + category] || words[word + ":other"];
  }

  function nextKey() {
    if (counter === null) counter = Number(sessionStorage.getItem("ntc-seq") || 0);
    counter += 1;
    sessionStorage.setItem("ntc-seq", String(counter));
    // Sortable: time first, then a per-tab counter, then randomness against tab collisions.
    return String(Date.now()).padStart(15, "0") + "-" + String(counter).padStart(8, "0") + "-" +
      Math.random().toString(36).slice(2, 8);
  }

  function mine(entries) {
    return entries
      .filter(function (e) { return e[1] && String(e[1].juror) === juror; })
      .sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
  }

  function pendingEntries() { return idb.entries(outbox).then(mine); }
  function journalEntries() { return idb.entries(journal).then(mine); }

  // ---- applying an operation on screen -------------------------------------------------
  function subjectId(op) {
    var p = op.payload;
    if (op.kind === "mark") return "crit-" + p.modality + "-" + p.criterion_id;
    if (op.kind === "transversal") return "tr-" + p.transversal_id + "-" + p.competency_id;
    if (op.kind === "grid") return "grid-" + p.modality;
    if (op.kind === "observation") return "obs-" + (p.phase_id ? "phase-" + p.phase_id : "competency-" + p.competency_id);
    return "conflict";
  }

  function truthy(v) { return v === true || v === "1" || v === "true" || v === "on"; }

  function applyOnScreen(op, state, fromOtherTab) {
    var id = subjectId(op);
    var p = op.payload;
    if (op.kind === "mark" || op.kind === "transversal") {
      var on = truthy(p.observed);
      // Counted whether or not the criterion is on this page (the candidate page has none).
      if (op.kind === "mark") followTick(p, on);
      var item = document.getElementById(id);
      if (!item) return;
      var button = item.querySelector("button.tick");
      // What the server rendered: a refused tap goes back to it.
      if (button && !item.hasAttribute("data-rendered")) item.setAttribute("data-rendered", button.getAttribute("aria-pressed"));
      if (state !== "error") clearRefusal(item);
      if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
      var input = item.querySelector("input[name=observed]");
      if (input) input.value = on ? "0" : "1";
      item.setAttribute("data-state", state);
    } else if (op.kind === "grid") {
      var grid = document.getElementById(id);
      if (!grid) return;
      if (!grid.hasAttribute("data-rendered")) grid.setAttribute("data-rendered", grid.classList.contains("finished") ? "true" : "false");
      if (state !== "error") clearRefusal(grid);
      var done = truthy(p.completed);
      grid.classList.toggle("finished", done);
      grid.setAttribute("data-state", state);
      var flag = grid.querySelector("input[name=completed]");
      if (flag) flag.value = done ? "0" : "1";
      var gridButton = grid.querySelector("button");
      if (gridButton) {
        gridButton.textContent = done ? gridButton.getAttribute("data-reopen") : gridButton.getAttribute("data-complete");
        gridButton.classList.toggle("secondary", done); // "Rouvrir" is the lesser action
      }
      var badge = document.getElementById(id + "-badge");
      if (badge) badge.hidden = !done;
      var flash = document.getElementById(id + "-done");
      if (flash) flash.hidden = !done;
      document.querySelectorAll("[data-grid='" + p.modality + "'] button.tick").forEach(function (b) {
        b.disabled = done || b.hasAttribute("data-locked");
      });
    } else if (op.kind === "observation") {
      var area = document.getElementById(id);
      if (area && state !== "error") clearRefusal(area);
      // Not under the juror's fingers: a note typed here is not overwritten while they type
      // (a tab in the background is not being typed in, its focus notwithstanding).
      var typing = document.activeElement === area && !(fromOtherTab && document.hidden);
      if (area && !typing && area.value !== p.text) area.value = p.text;
      var status = document.getElementById(id + "-status");
      if (status) {
        status.setAttribute("data-state", state);
        status.textContent = state === "saved" ? words.noteSaved : state === "error" ? status.textContent : notePendingWord();
      }
    } else if (op.kind === "conflict") {
      var box = document.getElementById("conflict");
      if (box) box.setAttribute("data-state", state);
      if (!truthy(p.has_conflict)) showCleared(); else showDeclared();
    }
  }

  // A link declared on this phone (sent or not): the juror no longer evaluates this
  // candidate. Said at once, offline too, and nothing is offered any more; the page reloads
  // as the server renders it once the declaration is sent.
  function showDeclared() {
    var box = document.getElementById("conflict");
    var notice = document.getElementById("conflict-declared");
    if (!box || !notice) return;
    var active = document.activeElement;
    var hadFocus = active && active !== body && box.contains(active);
    box.querySelectorAll("[data-before-clearance], details.declare-conflict, #conflict-cleared").forEach(function (el) { el.hidden = true; });
    notice.hidden = false;
    document.querySelectorAll("form[data-operation] button").forEach(function (b) { b.disabled = true; });
    document.querySelectorAll("form[data-operation] textarea").forEach(function (area) {
      area.readOnly = true;
      area.removeAttribute("data-observation");
    });
    if (hadFocus) notice.focus();
  }

  // "No link with this candidate", recorded on this phone (sent or not): the page the server
  // rendered before it shows its controls disabled (data-needs-clearance); enable them, so
  // the juror can score at once, offline too. The confirmation is sent before the ticks.
  function showCleared() {
    // The juror's "Aucun lien" button is about to hide: the focus goes to the confirmation
    // rather than falling to <body> (not on a page load, where the juror did nothing).
    var active = document.activeElement;
    var hadFocus = active && active !== body && active.closest("[data-before-clearance]");
    document.querySelectorAll("[data-before-clearance]").forEach(function (el) { el.hidden = true; });
    document.querySelectorAll("[data-needs-clearance]").forEach(function (el) {
      el.removeAttribute("data-needs-clearance");
      if (el.hasAttribute("hidden")) el.hidden = false;
      if (el.tagName === "TEXTAREA") {
        el.readOnly = false;
        el.setAttribute("data-observation", "");
      } else if ("disabled" in el) {
        el.disabled = false;
      }
    });
    var cleared = document.getElementById("conflict-cleared");
    if (hadFocus && cleared) cleared.focus();
  }

  // This juror's ticks as the page was rendered, then as this document shows them: the grid
  // counts follow every tick applied, also one of a criterion shown on another page (a copy
  // of the candidate page from the offline cache, then the operations stored on the phone).
  var renderedTicks = null;
  var shownTicks = null;
  function readTicks() {
    if (renderedTicks) return true;
    var holder = document.querySelector("[data-juror-ticks]");
    if (!holder) return false;
    renderedTicks = {};
    shownTicks = {};
    JSON.parse(holder.getAttribute("data-juror-ticks")).forEach(function (t) { renderedTicks[t] = true; shownTicks[t] = true; });
    return true;
  }
  function followTick(p, on) {
    if (!readTicks()) return;
    var key = p.criterion_id + ":" + p.modality;
    if (Boolean(shownTicks[key]) === on) return;
    if (on) shownTicks[key] = true; else delete shownTicks[key];
    countInGrid(p.modality, on ? 1 : -1);
  }

  // The grid card's "N/M critères observés" follows the ticks made on this page.
  function countInGrid(modality, delta) {
    var count = document.querySelector("#grid-" + modality + " .grid-count");
    if (!count) return;
    var done = Math.max(0, Number(count.getAttribute("data-done")) + delta);
    count.setAttribute("data-done", String(done));
    setText(count, words.gridCount.replace("%d", done).replace("%t", count.getAttribute("data-total")));
  }

  function candidateOnPage() { return body.getAttribute("data-candidate-id"); }

  // Writes only what changed: rewriting the same text still costs a layout and a paint, and
  // a live region would announce it again at every sync.
  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }
  function setAttr(element, name, value) {
    if (element.getAttribute(name) !== value) element.setAttribute(name, value);
  }

  // Everything this device recorded and the page might not show yet (cached copy).
  // Only this page's candidate: element ids (crit-MSP-12) repeat from candidate to candidate.
  function replayStoredOperations() {
    var candidate = candidateOnPage();
    if (!candidate) return replayOnHome();
    var here = function (e) { return e[1].candidate === candidate; };
    return Promise.all([journalEntries(), pendingEntries()]).then(function (lists) {
      lists[0].filter(here).forEach(function (e) { docOps.push(e[1]); applyOnScreen(e[1], "saved"); });
      lists[1].filter(here).forEach(function (e) { docOps.push(e[1]); applyOnScreen(e[1], "pending"); });
    });
  }

  // The session home (a copy from the offline cache, or one rendered before the last sync)
  // shows each candidate's conflict status and completed grids as this phone recorded them.
  function replayOnHome() {
    if (!document.getElementById("candidate-list")) return Promise.resolve();
    return Promise.all([journalEntries(), pendingEntries()]).then(function (lists) {
      lists[0].concat(lists[1]).forEach(function (e) { applyOnHome(e[1]); });
    });
  }

  function applyOnHome(op) {
    var row = document.querySelector(".candidate-row[data-candidate='" + op.candidate + "']");
    if (!row) return;
    if (op.kind === "conflict") {
      var declared = truthy(op.payload.has_conflict);
      row.querySelector("[data-home=to-confirm]").hidden = true;
      row.querySelector("[data-home=declared]").hidden = !declared;
    } else if (op.kind === "grid") {
      var badge = row.querySelector("[data-home=grids]");
      var done = (badge.getAttribute("data-completed") || "").split(" ").filter(Boolean);
      var at = done.indexOf(op.payload.modality);
      if (truthy(op.payload.completed) && at === -1) done.push(op.payload.modality);
      if (!truthy(op.payload.completed) && at !== -1) done.splice(at, 1);
      var total = badge.getAttribute("data-total");
      badge.setAttribute("data-completed", done.sort().join(" "));
      badge.classList.toggle("badge-ok", String(done.length) === total);
      setText(badge, words.gridsDone.replace("%d", done.length).replace("%t", total));
    }
  }

  // ---- other tabs of this juror ---------------------------------------------------------
  // Every tab of the phone shares one outbox, and any of them may send what another recorded:
  // each tells the others what it recorded and what the server answered, so a page left open
  // in another tab shows the same ticks, notes and refusals (a tap or a note typed there
  // starts from what was last recorded, not from what that tab was rendered with).
  var channel = window.BroadcastChannel ? new BroadcastChannel("ntc-outbox-" + juror) : null;
  function tell(type, op, message, state) {
    if (channel) channel.postMessage({ type: type, op: op, message: message || "", state: state || null });
  }
  // The last operation this document knows of for the subject of `op`.
  function latestFor(op) {
    var last = null;
    docOps.forEach(function (o) { if (o.candidate === op.candidate && subjectId(o) === subjectId(op)) last = o; });
    return last;
  }
  function known(op) {
    return docOps.some(function (o) { return o.op_id === op.op_id; });
  }
  if (channel) channel.onmessage = function (event) {
    var m = event.data || {};
    var op = m.op;
    if (!op || String(op.juror) !== juror) return;
    var here = op.candidate === candidateOnPage();
    if (m.type === "recorded") {
      if (here && !known(op)) {
        docOps.push(op);
        applyOnScreen(op, "pending", true);
        showLedgerWaiting();
      } else if (!candidateOnPage()) {
        applyOnHome(op);
      }
    } else if (m.type === "saved") {
      var last = here ? latestFor(op) : null;
      if (last && last.op_id === op.op_id) applyOnScreen(op, "saved", true);
    } else if (m.type === "refused") {
      noteRefused(op, m.message, m.state);
    }
    showStatus();
  };

  // Counted once, whichever tab sent it and however many times it was answered. What the
  // server said it holds (a grid completed elsewhere) is shown with it, not contradicted.
  function noteRefused(op, message, state) {
    if (refused.some(function (r) { return r.op.op_id === op.op_id; })) return;
    refused.push({ op: op, message: message });
    revert(op, message);
    if (state && state.grid && op.candidate === candidateOnPage()) {
      var held = {
        kind: "grid",
        payload: { candidate_id: op.payload.candidate_id, modality: state.grid.modality, completed: state.grid.completed },
        candidate: op.candidate
      };
      docOps.push(held);
      applyOnScreen(held, "saved");
    }
  }

  // ---- recording -----------------------------------------------------------------------
  function record(kind, payload) {
    var op = {
      op_id: window.ntcNewOperationId(),
      kind: kind,
      payload: payload,
      client_time: new Date().toISOString(),
      juror: juror,
      candidate: String(payload.candidate_id)
    };
    var key = nextKey();
    docOps.push(op);
    applyOnScreen(op, "pending");
    if (op.candidate === candidateOnPage()) showLedgerWaiting();
    storing += 1;
    showUnsaved();
    return idb.set(key, op, outbox).then(function () {
      tell("recorded", op);
      return kind === "observation" ? dropOlderNotes(op, key) : null;
    }).then(function () {
      storing -= 1;
      showStatus();
      flushSoon(0);
      return op;
    }, function (error) {
      // The phone would not keep it: say so, never "saved".
      storing -= 1;
      notStored.push(op);
      revert(op, words.notStored);
      showStatus();
      throw error;
    });
  }
  var notStored = [];

  // A note is saved at each pause in the typing, and the server keeps the last text: the
  // older texts still waiting are dropped, so a note counts once in the header (one already
  // being sent is harmless, it is only overwritten).
  function dropOlderNotes(op, key) {
    var id = subjectId(op);
    return pendingEntries().then(function (entries) {
      return Promise.all(entries.filter(function (e) {
        return e[0] < key && e[1].kind === "observation" && e[1].candidate === op.candidate && subjectId(e[1]) === id;
      }).map(function (e) { return idb.del(e[0], outbox); }));
    }).catch(function () { /* kept: sent, then overwritten by the newer text */ });
  }

  // At once, before IndexedDB answers: one more operation waits.
  function showUnsaved() {
    if (!statusBox) return;
    var n = Number(statusBox.getAttribute("data-pending") || 0) + 1;
    var offline = statusBox.getAttribute("data-state") === "offline";
    setAttr(statusBox, "data-state", offline ? "offline" : "pending");
    setAttr(statusBox, "data-pending", String(n));
    setText(statusBox, (offline ? words.offlinePending : words.pending).replace("%n", n));
  }

  function payloadOf(form) {
    var data = new FormData(form);
    var payload = { candidate_id: Number(form.getAttribute("data-candidate")) };
    data.forEach(function (value, name) {
      if (["csrf_token", "op_id", "kind", "next"].indexOf(name) === -1) payload[name] = value;
    });
    return payload;
  }

  // Capture phase: the outbox sees the submit before htmx or the browser does.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-operation]");
    if (!form) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var kind = form.querySelector("input[name=kind]").value;
    var payload = payloadOf(form);
    if (kind === "grid" && truthy(payload.completed) && !emptyGridConfirmed(form, payload.modality)) return;
    record(kind, payload).then(function () {
      if (kind === "conflict" && truthy(payload.has_conflict)) {
        // A declared link makes the page read-only: show it once the server has it.
        whenSynced().then(function () { location.reload(); });
      }
    });
  }, true);

  // "Grille terminée" with no criterion observed is most often a slip of the thumb: the
  // button asks for a second tap within a few seconds.
  function emptyGridConfirmed(form, modality) {
    var count = document.querySelector("#grid-" + modality + " .grid-count");
    var button = form.querySelector("button");
    if (!count || !button || Number(count.getAttribute("data-done")) > 0) return true;
    if (Number(button.getAttribute("data-confirm-until") || 0) > Date.now()) return true;
    var label = button.textContent;
    button.setAttribute("data-confirm-until", String(Date.now() + 5000));
    button.textContent = words.emptyGrid;
    setTimeout(function () {
      button.removeAttribute("data-confirm-until");
      if (button.textContent === words.emptyGrid) button.textContent = label;
    }, 5000);
    return false;
  }

  // Observations are saved as the juror types (last text wins on the server). Each keystroke
  // is kept synchronously as a draft, and the draft stays until IndexedDB holds the operation:
  // a page left or reloaded inside the debounce window, or before IndexedDB answered (the
  // browser may drop that write with the page), loses nothing; the next page records it.
  var typingTimers = {};
  function draftKey(area) { return "draft:" + juror + ":" + area.form.getAttribute("data-candidate") + ":" + area.id; }
  // Notes being typed count as waiting, once: not again when an earlier text of theirs waits.
  function typingNotPending(entries) {
    var candidate = candidateOnPage();
    return Object.keys(typingTimers).filter(function (id) {
      return !entries.some(function (e) { return e[1].kind === "observation" && e[1].candidate === candidate && subjectId(e[1]) === id; });
    }).length;
  }
  // Under a note not yet sent: "Enregistrement…" only when it can be, else it waits.
  function notePendingWord() {
    var offline = !navigator.onLine || body.getAttribute("data-online") === "false";
    return offline ? words.noteOffline : words.notePending;
  }
  function showNotesWaiting() {
    document.querySelectorAll(".obs-status[data-state=pending]").forEach(function (status) { setText(status, notePendingWord()); });
  }

  function recordDraft(key, draft) {
    return record("observation", draft.payload).then(function (op) {
      // Typed again meanwhile: that newer draft is still to be recorded.
      if (localStorage.getItem(key) === JSON.stringify(draft)) localStorage.removeItem(key);
      return op;
    });
  }
  function saveTyped(area) {
    clearTimeout(typingTimers[area.id]);
    delete typingTimers[area.id];
    var draft = { payload: payloadOf(area.form) };
    localStorage.setItem(draftKey(area), JSON.stringify(draft));
    return recordDraft(draftKey(area), draft);
  }
  document.addEventListener("input", function (event) {
    var area = event.target.closest("textarea[data-observation]");
    if (!area) return;
    localStorage.setItem(draftKey(area), JSON.stringify({ payload: payloadOf(area.form) }));
    var status = document.getElementById(area.id + "-status");
    if (status) { status.setAttribute("data-state", "pending"); setText(status, notePendingWord()); }
    var first = !typingTimers[area.id];
    clearTimeout(typingTimers[area.id]);
    typingTimers[area.id] = setTimeout(function () { saveTyped(area); }, 600);
    if (first) showStatus(); // the header counts a note being typed as waiting
  });
  window.addEventListener("pagehide", function () {
    document.querySelectorAll("textarea[data-observation]").forEach(function (area) {
      if (typingTimers[area.id]) saveTyped(area);
    });
  });
  // Drafts left by a page closed mid-typing become operations now.
  function recordDrafts() {
    var prefix = "draft:" + juror + ":";
    var keys = Object.keys(localStorage).filter(function (k) { return k.indexOf(prefix) === 0; });
    return keys.reduce(function (chain, key) {
      return chain.then(function () {
        var draft = JSON.parse(localStorage.getItem(key) || "null");
        if (draft && draft.payload) return recordDraft(key, draft);
        localStorage.removeItem(key);
      });
    }, Promise.resolve());
  }

  // ---- sending -------------------------------------------------------------------------
  function flushSoon(delay) {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  function post(operations, pending) {
    return fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ operations: operations, pending: pending })
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      // Signed out: refused outright, sent to sign in, or a CSRF token the session no longer
      // matches (its error page is the only non-JSON 400 this endpoint gives).
      var toSignIn = response.redirected && /^\/(connexion|j\/)/.test(new URL(response.url).pathname);
      var json = type.indexOf("application/json") !== -1;
      if (response.status === 401 || response.status === 403 || toSignIn || (response.status === 400 && !json)) {
        authLost = true;
        throw new Error("signed out");
      }
      authLost = false;
      // Anything else that is not the endpoint's answer (a server error, a proxy's or a wifi
      // portal's page) is the network failing: kept, and tried again.
      if (!response.ok || !json) {
        serverDown = true;
        throw new Error("HTTP " + response.status);
      }
      serverDown = false;
      return response.json().then(function (answer) {
        if (answer && answer.locked) sessionLocked();
        return answer;
      });
    }, function (error) {
      serverDown = false;
      throw error;
    });
  }

  // With nothing to send, the server still hears now and then that this phone has nothing
  // pending (the chair's screen shows it); not on every page load.
  function heartbeat() {
    if (locked) return Promise.resolve(null);
    var last = Number(sessionStorage.getItem("ntc-heartbeat") || 0);
    if (Date.now() - last < 15000) return Promise.resolve(null);
    return post([], 0).then(function () {
      sessionStorage.setItem("ntc-heartbeat", String(Date.now()));
      return null;
    });
  }

  var again = false;
  var touched = {};
  var refreshTimer = null;

  function flush() {
    if (sending) {
      // A tap during a sync is sent right after it, not at the next periodic sync.
      again = true;
      return Promise.resolve();
    }
    sending = true;
    again = false;
    var loop = function () {
      return pendingEntries().then(function (entries) {
        var batch = entries.slice(0, 100);
        if (!batch.length) return heartbeat();
        return post(batch.map(function (e) {
          var op = e[1];
          return { op_id: op.op_id, kind: op.kind, payload: op.payload, client_time: op.client_time };
        }), entries.length - batch.length).then(function (answer) {
          var byId = {};
          answer.results.forEach(function (r) { byId[r.op_id] = r; });
          var work = batch.map(function (e) {
            var result = byId[e[1].op_id];
            if (!result) return Promise.resolve();
            touched[e[1].candidate] = true;
            if (result.status === "refused") {
              tell("refused", e[1], result.message, result.result);
              return idb.del(e[0], outbox).then(function () { noteRefused(e[1], result.message, result.result); });
            }
            tell("saved", e[1]);
            if (e[1].candidate === candidateOnPage()) applyOnScreen(e[1], "saved");
            return idb.set(e[0], e[1], journal).then(function () { return idb.del(e[0], outbox); });
          });
          return Promise.all(work).then(loop);
        });
      });
    };
    return loop().then(function () {
      backoff = 1000;
      setAttr(body, "data-online", "true");
      scheduleRefresh();
    }).catch(function () {
      setAttr(body, "data-online", "false");
      flushSoon(backoff);
      backoff = Math.min(backoff * 2, 30000);
    }).then(function () {
      sending = false;
      showStatus();
      if (again) flushSoon(0);
    });
  }

  // Refreshing the offline copies costs a request per cached page: once the juror pauses,
  // not after every tap. Until then the journal keeps what the copies lack.
  function scheduleRefresh() {
    if (locked && !Object.keys(touched).length) return; // nothing sent: nothing to compare
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      var candidates = Object.keys(touched);
      touched = {};
      refreshCachedPages(candidates).then(checkDigest);
    }, 4000);
  }

  // A refused operation (or one the phone would not keep) is no longer shown as done: the
  // subject goes back to what this document showed before it (the last operation still
  // standing, else the server's rendering), the message is put next to it, and the device's
  // ledger forgets it.
  function revert(op, message) {
    var index = docOps.indexOf(op);
    if (index === -1) index = docOps.map(function (o) { return o.op_id; }).indexOf(op.op_id);
    if (index !== -1) docOps.splice(index, 1);
    var item = op.candidate === candidateOnPage() ? document.getElementById(subjectId(op)) : null;
    if (!item && op.kind === "mark" && op.candidate === candidateOnPage() && readTicks()) {
      // Not on this page: only its grid's count goes back.
      var last = null;
      docOps.forEach(function (o) { if (o.candidate === op.candidate && subjectId(o) === subjectId(op)) last = o; });
      followTick(op.payload, last ? truthy(last.payload.observed) : Boolean(renderedTicks[op.payload.criterion_id + ":" + op.payload.modality]));
    }
    if (item) {
      var id = subjectId(op);
      var before = null;
      docOps.forEach(function (o) { if (o.candidate === op.candidate && subjectId(o) === id) before = o; });
      var restore = before;
      var rendered = item.getAttribute("data-rendered");
      if (!restore && rendered !== null && (op.kind === "mark" || op.kind === "transversal" || op.kind === "grid")) {
        var payload = {};
        Object.keys(op.payload).forEach(function (k) { payload[k] = op.payload[k]; });
        payload[op.kind === "grid" ? "completed" : "observed"] = rendered === "true";
        restore = { kind: op.kind, payload: payload, candidate: op.candidate };
      }
      if (restore) applyOnScreen(restore, "error");
      item.setAttribute("data-state", "error");
      if (op.kind === "observation") {
        var status = document.getElementById(id + "-status");
        if (status) { status.setAttribute("data-state", "error"); status.textContent = message; }
      } else {
        var note = item.querySelector(":scope > .field-error[data-refusal]");
        if (!note) {
          note = document.createElement("p");
          note.className = "field-error";
          note.setAttribute("role", "alert");
          note.setAttribute("data-refusal", "");
          item.appendChild(note);
        }
        note.textContent = message;
      }
    }
    var list = document.getElementById("refused-operations");
    if (list) {
      var li = document.createElement("li");
      li.textContent = message;
      list.appendChild(li);
      var box = document.getElementById("refused-box");
      if (box) box.hidden = false;
    }
  }

  // Tapped again: the refusal shown there is read, and no longer counted in the header.
  function clearRefusal(item) {
    var note = item.querySelector(":scope > .field-error[data-refusal]");
    if (note) note.remove();
    var candidate = candidateOnPage();
    for (var i = refused.length - 1; i >= 0; i -= 1) {
      if (refused[i].op.candidate === candidate && subjectId(refused[i].op) === item.id) refused.splice(i, 1);
    }
  }

  function whenSynced() {
    return new Promise(function (resolve) {
      var check = function () {
        pendingEntries().then(function (e) { if (!e.length) resolve(); else setTimeout(check, 300); });
      };
      check();
    });
  }

  // Refresh the offline copies of the candidate's pages, then forget the journal up to now.
  function refreshCachedPages(candidates) {
    if (!candidates.length || !window.caches) return Promise.resolve();
    return journalEntries().then(function (entries) {
      var upTo = entries.length ? entries[entries.length - 1][0] : null;
      return caches.open("ntc-pages").then(function (cache) {
        return cache.keys().then(function (requests) {
          var urls = requests.map(function (r) { return r.url; }).filter(function (url) {
            var path = new URL(url).pathname;
            return path === "/jury/" || candidates.some(function (c) { return path.indexOf("/jury/candidats/" + c) === 0 || path.indexOf("/jury/deliberation/candidats/" + c) === 0; });
          });
          return Promise.all(urls.map(function (url) {
            return fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
              if (!r.ok) throw new Error("refresh failed");
            });
          }));
        });
      }).then(function () {
        if (upTo === null) return;
        return Promise.all(entries.filter(function (e) {
          return e[0] <= upTo && candidates.indexOf(e[1].candidate) !== -1;
        }).map(function (e) { return idb.del(e[0], journal); }));
      });
    }).catch(function () { /* kept in the journal: refreshed on the next sync */ });
  }

  // ---- the sync ledger -------------------------------------------------------------------
  function showStatus() {
    if (!statusBox) return;
    pendingEntries().then(function (entries) {
      var state, text;
      var n = entries.length + storing + typingNotPending(entries);
      if (authLost) { state = "error"; text = words.signedOut; }
      else if (notStored.length) { state = "error"; text = words.notStored; }
      else if (refused.length) {
        // Refused entries are not saved: the header must not say "Tout est enregistré".
        state = "error";
        text = plural("refused", refused.length).replace("%n", refused.length);
        if (n) text += " · " + words.pending.replace("%n", n);
      }
      else if (!navigator.onLine || body.getAttribute("data-online") === "false") {
        state = "offline";
        text = n ? words.offlinePending.replace("%n", n) : words.offline;
        if (serverDown && navigator.onLine && n) text = words.serverDown.replace("%n", n);
      } else if (n) { state = "pending"; text = words.pending.replace("%n", n); }
      else { state = "saved"; text = words.saved; }
      setAttr(statusBox, "data-state", state);
      setAttr(statusBox, "data-pending", String(n));
      setText(statusBox, text);
      showNotesWaiting();
    });
  }

  function sha256(text) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }

  // The device's view of this juror's ticks for the candidate: the state the page was
  // rendered with, then every operation this document knows of, in order.
  function deviceTicks(candidate) {
    var holder = document.querySelector("[data-juror-ticks]");
    var ticks = {};
    JSON.parse(holder.getAttribute("data-juror-ticks")).forEach(function (t) { ticks[t] = true; });
    docOps.forEach(function (op) {
      if (op.kind !== "mark" || op.candidate !== candidate) return;
      var key = op.payload.criterion_id + ":" + op.payload.modality;
      if (truthy(op.payload.observed)) ticks[key] = true; else delete ticks[key];
    });
    return Promise.resolve(Object.keys(ticks).sort());
  }

  function checkDigest() {
    var candidate = candidateOnPage();
    var box = document.getElementById("ledger-status");
    if (!candidate || !box || !digestTemplate || !document.querySelector("[data-juror-ticks]")) return Promise.resolve();
    return pendingEntries().then(function (pending) {
      if (pending.some(function (e) { return e[1].candidate === candidate; })) { showLedgerWaiting(); return; }
      return Promise.all([
        deviceTicks(candidate).then(function (keys) { return sha256(keys.join("\n")).then(function (h) { return { count: keys.length, sha256: h }; }); }),
        fetch(digestTemplate.replace("0", candidate), { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (r) { return r.json(); })
      ]).then(function (both) {
        var agree = both[0].sha256 === both[1].sha256 && both[0].count === both[1].count;
        setAttr(box, "data-agree", agree ? "true" : "false");
        setText(box, (agree ? plural("digestAgree", both[1].count) : words.digestDiffer).replace("%n", both[1].count));
      });
    }).catch(function () { /* offline: compared on the next sync */ });
  }

  // While this candidate's entries wait, the comparison cannot be made: an earlier "they
  // agree" would be stale, so the ledger says it waits instead (neutral, neither agree nor not).
  function showLedgerWaiting() {
    var box = document.getElementById("ledger-status");
    if (!box || !document.querySelector("[data-juror-ticks]")) return;
    if (box.hasAttribute("data-agree")) box.removeAttribute("data-agree");
    setText(box, words.digestWaiting);
  }

  // ---- signing out wipes this juror's traces on the phone ---------------------------------
  document.addEventListener("submit", function (event) {
    if (event.target.id !== "sign-out-form" || event.target.getAttribute("data-confirmed")) return;
    event.preventDefault();
    var form = event.target;
    var notice = document.getElementById("sign-out-offline");
    if (notice) { notice.hidden = true; notice.textContent = ""; }
    flush().then(pendingEntries).then(function (entries) {
      // Nothing is wiped unless the server can hear the sign-out: offline, the phone would
      // lose its data and the browser show its own error page, the juror still signed in.
      return post([], entries.length).catch(function (error) {
        if (!authLost) throw error;
      }).then(function () { return entries; });
    }).then(function (entries) {
      if (entries.length && !window.confirm(plural("signOutPending", entries.length).replace("%n", entries.length))) return;
      return wipe().then(function () {
        form.setAttribute("data-confirmed", "true");
        form.submit();
      });
    }, function () {
      showStatus();
      if (notice) {
        notice.textContent = words.signOutOffline;
        notice.hidden = false;
      } else {
        window.alert(words.signOutOffline);
      }
    });
  }, true);

  function wipe() {
    var drop = function (store) {
      return idb.entries(store).then(function (entries) {
        return Promise.all(mine(entries).map(function (e) { return idb.del(e[0], store); }));
      });
    };
    Object.keys(localStorage).forEach(function (k) {
      if (k.indexOf("timer:" + juror + ":") === 0 || k.indexOf("draft:" + juror + ":") === 0) localStorage.removeItem(k);
    });
    return Promise.all([drop(outbox), drop(journal), window.caches ? caches.delete("ntc-pages") : null]);
  }

  // Another juror signed in on this phone: their predecessor's cached pages must go.
  function forgetOtherJurorsPages() {
    var previous = localStorage.getItem("ntc-juror");
    localStorage.setItem("ntc-juror", juror);
    if (previous && previous !== juror && window.caches) return caches.delete("ntc-pages");
    return Promise.resolve();
  }

  // ---- prefetch: the pages a juror will need offline -------------------------------------
  // The service worker keeps a copy of each page fetched. From the session home, the pages a
  // candidate's page links to (its phases) are fetched too, so a juror who never opened a
  // candidate online can still score them offline; at most every 15 minutes per tab, as the
  // copies are refreshed after each sync anyway.
  var DEEP_PREFETCH_EVERY = 15 * 60 * 1000;
  function prefetch() {
    if (!navigator.onLine || !window.caches) return;
    var worker = navigator.serviceWorker;
    if (worker && !worker.controller) {
      // Fetched past the worker, nothing would be kept: wait until it is in charge.
      worker.addEventListener("controllerchange", prefetch, { once: true });
      return;
    }
    var seen = {};
    var links = [];
    var add = function (href, depth) {
      if (seen[href]) return;
      seen[href] = true;
      links.push({ url: href, depth: depth });
    };
    document.querySelectorAll("a[data-prefetch]").forEach(function (a) { add(a.href, 0); });
    var deepAt = Number(sessionStorage.getItem("ntc-deep-prefetch") || 0);
    var deep = body.hasAttribute("data-prefetch-deep") && Date.now() - deepAt > DEEP_PREFETCH_EVERY;
    var running = 2;
    var next = function () {
      // The juror asked for the new version: the page is about to reload, stop here.
      var link = document.documentElement.hasAttribute("data-updating") ? null : links.shift();
      if (!link) {
        // Stamped when done: a prefetch cut short by leaving the page starts again next time.
        running -= 1;
        if (running > 0) return;
        if (deep) sessionStorage.setItem("ntc-deep-prefetch", String(Date.now()));
        body.setAttribute("data-prefetched", deep ? "deep" : "links");
        return;
      }
      fetch(link.url, { credentials: "same-origin" }).then(function (response) {
        if (!deep || link.depth > 0 || !response.ok) return;
        return response.text().then(function (html) {
          new DOMParser().parseFromString(html, "text/html").querySelectorAll("a[data-prefetch]").forEach(function (a) {
            add(new URL(a.getAttribute("href"), link.url).href, 1);
          });
        });
      }).catch(function () {}).then(next);
    };
    next(); next();
  }

  window.addEventListener("online", function () { body.setAttribute("data-online", "true"); showStatus(); flushSoon(0); });
  window.addEventListener("offline", function () { body.setAttribute("data-online", "false"); showStatus(); });
  document.addEventListener("visibilitychange", function () { if (!document.hidden) flushSoon(0); });
  var reopenCheck = null;
  if (!locked) syncEvery = setInterval(function () { if (!document.hidden) flush(); }, 20000);
  else watchForReopening();

  // The server said the session got locked while this page was open: the periodic sync
  // stops, and the page says why nothing can be entered any more.
  function sessionLocked() {
    if (locked) return;
    locked = true;
    clearInterval(syncEvery);
    body.setAttribute("data-session-locked", "");
    var notice = document.getElementById("session-locked");
    if (notice) notice.hidden = false;
    watchForReopening();
  }

  // Locked, the record no longer changes, but the chair may reopen the deliberation for a
  // correction: once a minute the page asks whether the session is still locked (one small
  // GET, no write), and reloads as the server now renders it when it is not.
  function watchForReopening() {
    var url = body.getAttribute("data-state-url");
    if (!url || reopenCheck) return;
    reopenCheck = setInterval(function () {
      if (document.hidden || !navigator.onLine) return;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (state && state.locked === false) {
            clearInterval(reopenCheck);
            location.reload();
          }
        })
        .catch(function () { /* offline: asked again in a minute */ });
    }, 60000);
  }

  window.ntcOutbox = { record: record, flush: flush, pending: pendingEntries, journal: journalEntries, refused: refused, whenSynced: whenSynced };

  // Start-up reads the phone's storage and talks to the server: in a task of its own once the
  // page is shown (within 200 ms), not inside this script's evaluation, which only has to
  // catch the juror's taps. A tap before it runs is stored and sent all the same.
  function start() {
    forgetOtherJurorsPages().then(recordDrafts).then(replayStoredOperations).then(function () {
      showStatus();
      flushSoon(0);
      setTimeout(prefetch, 1500);
      // The juror sees at once that this phone and the server agree (not only after a write).
      if (navigator.onLine) setTimeout(checkDigest, 1000);
    });
  }
  if (window.ntcWhenIdle) window.ntcWhenIdle(start, 200); else setTimeout(start, 0);
})();

// Phase timer: counts down the phase's minutes; state in localStorage so it keeps running
// across page changes, reloads and offline. Warns at 5 minutes and at 0 (and vibrates).
(function () {
  "use strict";
  var root = document.getElementById("timer");
  if (!root) return;
  var key = root.getAttribute("data-timer-key");
  var total = parseInt(root.getAttribute("data-minutes"), 10) * 60 * 1000;
  var display = root.querySelector(".timer-display");
  var alertBox = root.querySelector(".timer-alert");
  var messages = {};
  root.querySelectorAll("template[data-message]").forEach(function (t) {
    messages[t.getAttribute("data-message")] = t.innerHTML.trim();
  });

  function load() {
    try {
      return JSON.parse(localStorage.getItem(key)) || { elapsed: 0, startedAt: null, warned: {} };
    } catch (e) {
      return { elapsed: 0, startedAt: null, warned: {} };
    }
  }
  function save(state) { localStorage.setItem(key, JSON.stringify(state)); }
  function elapsed(state) {
    return state.elapsed + (state.startedAt ? Date.now() - state.startedAt : 0);
  }
  function format(ms) {
    var negative = ms < 0;
    var seconds = Math.floor(Math.abs(ms) / 1000);
    var text = String(Math.floor(seconds / 60)).padStart(2, "0") + ":" + String(seconds % 60).padStart(2, "0");
    return negative ? "-" + text : text;
  }
  function warn(state, name) {
    if (state.warned[name]) return;
    state.warned[name] = true;
    save(state);
    alertBox.textContent = messages[name] || "";
    if (navigator.vibrate) navigator.vibrate(name === "zero" ? [300, 150, 300] : 200);
  }
  // Ticks twice a second but touches the page only when what it shows changes: an idle or
  // paused timer costs no style, layout or paint.
  var shown = "";
  function render() {
    var state = load();
    var left = total - elapsed(state);
    var text = format(left);
    var running = state.startedAt ? "true" : "false";
    var look = [text, running, left <= 5 * 60 * 1000 && left > 0, left <= 0].join("|");
    if (look !== shown) {
      shown = look;
      if (display.textContent !== text) display.textContent = text;
      root.setAttribute("data-running", running);
      root.classList.toggle("warning", left <= 5 * 60 * 1000 && left > 0);
      root.classList.toggle("over", left <= 0);
    }
    if (state.startedAt && left <= 5 * 60 * 1000 && total > 5 * 60 * 1000) warn(state, "five");
    if (state.startedAt && left <= 0) warn(state, "zero");
  }
  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-timer-action]");
    if (!button) return;
    var state = load();
    var action = button.getAttribute("data-timer-action");
    if (action === "start" && !state.startedAt) state.startedAt = Date.now();
    if (action === "pause" && state.startedAt) {
      state.elapsed = elapsed(state);
      state.startedAt = null;
    }
    if (action === "reset") {
      state = { elapsed: 0, startedAt: null, warned: {} };
      alertBox.textContent = "";
    }
    save(state);
    render();
  });
  render();
  setInterval(render, 500);
})();

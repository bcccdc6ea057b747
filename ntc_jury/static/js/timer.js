// Phase timer: counts down the phase's minutes; state in localStorage so it keeps running
// across page changes, reloads and offline. Warns at 5 minutes and at 0 (and vibrates); the
// warning stays shown after a reload. One button starts, pauses and resumes; resetting a
// timer that has counted asks for a second tap, so a slip of the thumb costs nothing.
(function () {
  "use strict";
  var root = document.getElementById("timer");
  if (!root) return;
  var key = root.getAttribute("data-timer-key");
  var total = parseInt(root.getAttribute("data-minutes"), 10) * 60 * 1000;
  var display = root.querySelector(".timer-display");
  var alertBox = root.querySelector(".timer-alert");
  var toggle = root.querySelector("[data-timer-action=toggle]");
  var reset = root.querySelector("[data-timer-action=reset]");
  var resetLabel = reset.querySelector(".reset-label"); // visible only when asking to confirm
  var words = {};
  root.querySelectorAll("template[data-message], template[data-label]").forEach(function (t) {
    words[t.getAttribute("data-message") || t.getAttribute("data-label")] = t.innerHTML.trim();
  });
  var armedUntil = 0; // a first tap on reset arms it for a few seconds

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
  function setText(element, text) { if (element.textContent !== text) element.textContent = text; }
  // Vibrates once per warning (remembered with the timer); the words stay while they apply.
  function warn(state, name) {
    if (state.warned[name]) return;
    state.warned[name] = true;
    save(state);
    if (navigator.vibrate) navigator.vibrate(name === "zero" ? [300, 150, 300] : 200);
  }
  // Ticks twice a second but touches the page only when what it shows changes: an idle or
  // paused timer costs no style, layout or paint.
  var shown = "";
  function render() {
    var state = load();
    var spent = elapsed(state);
    var left = total - spent;
    var text = format(left);
    var running = state.startedAt ? "true" : "false";
    var five = left <= 5 * 60 * 1000 && left > 0 && total > 5 * 60 * 1000;
    var over = left <= 0;
    var armed = Date.now() < armedUntil;
    var look = [text, running, five, over, armed, spent > 0].join("|");
    if (look === shown) return;
    shown = look;
    setText(display, text);
    root.setAttribute("data-running", running);
    root.classList.toggle("warning", five);
    root.classList.toggle("over", over);
    setText(toggle, state.startedAt ? words.pause : spent > 0 ? words.resume : words.start);
    setText(resetLabel, armed ? words.confirm : words.reset);
    resetLabel.classList.toggle("visually-hidden", !armed);
    reset.classList.toggle("danger", armed);
    setText(alertBox, over && spent > 0 ? words.zero : five && spent > 0 ? words.five : "");
    if (state.startedAt && five) warn(state, "five");
    if (state.startedAt && over) warn(state, "zero");
  }
  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-timer-action]");
    if (!button) return;
    var state = load();
    var action = button.getAttribute("data-timer-action");
    if (action === "toggle" && !state.startedAt) {
      state.startedAt = Date.now();
    } else if (action === "toggle") {
      state.elapsed = elapsed(state);
      state.startedAt = null;
    }
    if (action === "reset") {
      if (elapsed(state) > 0 && Date.now() >= armedUntil) {
        armedUntil = Date.now() + 4000;
        render();
        return;
      }
      armedUntil = 0;
      state = { elapsed: 0, startedAt: null, warned: {} };
    }
    save(state);
    render();
  });
  render();
  setInterval(render, 500);

  // The header's sync state, repeated in the timer bar while the header is scrolled away.
  var status = document.getElementById("sync-status");
  var mirror = root.querySelector(".timer-sync");
  if (!status || !mirror || !window.IntersectionObserver) return;
  function copy() {
    setText(mirror, status.textContent);
    if (mirror.getAttribute("data-state") !== status.getAttribute("data-state")) {
      mirror.setAttribute("data-state", status.getAttribute("data-state"));
    }
  }
  new MutationObserver(copy).observe(status, { attributes: true, childList: true, characterData: true, subtree: true });
  new IntersectionObserver(function (entries) {
    mirror.hidden = entries[entries.length - 1].isIntersecting;
  }).observe(status);
  copy();
})();

// Behaviour shared by every page. No inline scripts: the CSP allows scripts from 'self' only.
(function () {
  "use strict";

  function newOperationId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }
  window.ntcNewOperationId = newOperationId;

  // An autosaved field sends a new operation each time (last write wins on the server).
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.hasAttribute("data-fresh-op")) {
      event.detail.parameters["op_id"] = newOperationId();
    }
  });

  // 409 (locked), 422 (refused) and 400 carry a fragment with an error state: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A request that never reached the server leaves the control marked in error.
  document.addEventListener("htmx:sendError", function (event) {
    var item = event.detail.elt.closest("[data-state]");
    if (item) item.setAttribute("data-state", "error");
  });
})();

// "Imprimer" buttons (no inline handlers under the CSP).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});

document.documentElement.classList.add("js");

// Work that can wait until the page is shown and the main thread is idle (at most `timeout`
// ms later): outbox.js starts up with it too.
window.ntcWhenIdle = function (work, timeout) {
  if (window.requestIdleCallback) requestIdleCallback(work, { timeout: timeout || 1000 });
  else setTimeout(work, 1);
};

// The service worker: offline pages, and a "Mettre à jour" banner instead of silent updates.
// Registered once the page has loaded and the main thread is idle: its install downloads the
// app shell, which is not what the juror is waiting for.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    window.ntcWhenIdle(function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
        var banner = document.getElementById("update-banner");
        function offer() {
          if (registration.waiting && navigator.serviceWorker.controller && banner) banner.hidden = false;
        }
        offer();
        registration.addEventListener("updatefound", function () {
          var worker = registration.installing;
          if (worker) worker.addEventListener("statechange", function () { if (worker.state === "installed") offer(); });
        });
        document.addEventListener("click", function (event) {
          if (event.target.closest("[data-update-app]") && registration.waiting) {
            registration.waiting.postMessage({ type: "SKIP_WAITING" });
          }
        });
      });
      var reloading = false;
      navigator.serviceWorker.addEventListener("controllerchange", function () {
        // Only a juror-approved update reloads: the first install takes control silently.
        if (reloading || !document.documentElement.hasAttribute("data-updating")) return;
        reloading = true;
        location.reload();
      });
      document.addEventListener("click", function (event) {
        if (event.target.closest("[data-update-app]")) document.documentElement.setAttribute("data-updating", "true");
      });
    });
  });
}

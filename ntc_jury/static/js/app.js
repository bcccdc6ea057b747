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
//
// Until a first worker is installed this phone cannot show the juror's pages offline, so
// <html data-offline-shell> says "installing", "ready" or "failed" (every change is kept in
// window.ntcOfflineShell, with the worker's reason when it gave one). A failed first install
// (one shell file that bad wifi would not deliver, even after the worker's own retries) is
// tried again while the page stays open, after growing pauses, and a juror's page says so.
if ("serviceWorker" in navigator) {
  var SHELL_RETRY_MS = [2000, 5000, 15000, 30000, 60000];
  var shellFailures = 0;
  var shellRetry = null;
  var shellReason = "";

  var offlineShell = function (state) {
    document.documentElement.setAttribute("data-offline-shell", state);
    window.ntcOfflineShell = window.ntcOfflineShell || [];
    window.ntcOfflineShell.push(state === "failed" && shellReason ? state + " · " + shellReason : state);
    var notice = document.getElementById("offline-shell");
    if (notice) notice.hidden = state !== "failed";
  };

  var firstInstallFailed = function (reason) {
    if (navigator.serviceWorker.controller) return; // a working worker is in charge
    if (reason) shellReason = reason;
    offlineShell("failed");
    var pause = SHELL_RETRY_MS[Math.min(shellFailures, SHELL_RETRY_MS.length - 1)];
    shellFailures += 1;
    clearTimeout(shellRetry);
    shellRetry = setTimeout(registerWorker, pause);
  };

  // A worker is active but not in charge of this page: it activated while this page was
  // loading, and its claim missed it. Its requests (the offline prefetch too) would bypass it.
  var claimThisPage = function (registration) {
    if (!navigator.serviceWorker.controller && registration.active) {
      registration.active.postMessage({ type: "CLAIM" });
    }
  };

  var watchFirstInstall = function (registration) {
    if (registration.active) {
      claimThisPage(registration);
      offlineShell("ready");
      return;
    }
    var worker = registration.installing || registration.waiting;
    var settle = function () {
      if (worker.state === "activated") {
        claimThisPage(registration);
        offlineShell("ready");
      } else if (worker.state === "redundant" && !registration.active) firstInstallFailed();
    };
    if (!worker) {
      firstInstallFailed(); // it failed before this page heard of it
      return;
    }
    worker.addEventListener("statechange", settle);
    settle();
  };

  var offerUpdates = function (registration) {
    var banner = document.getElementById("update-banner");
    function offer() {
      if (registration.waiting && navigator.serviceWorker.controller && banner) banner.hidden = false;
    }
    offer();
    registration.addEventListener("updatefound", function () {
      var worker = registration.installing;
      if (worker) worker.addEventListener("statechange", function () { if (worker.state === "installed") offer(); });
    });
  };

  var registered = null;
  var registerWorker = function () {
    if (!navigator.serviceWorker.controller) offlineShell("installing");
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
      if (registration !== registered) offerUpdates(registration);
      registered = registration;
      watchFirstInstall(registration);
    }, function (error) {
      firstInstallFailed(String((error && error.message) || error));
    });
  };

  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type !== "INSTALL_FAILED") return;
    shellReason = String(data.reason || "");
    // The worker's "redundant" may have reached this page first: log the failure again, with why.
    if (document.documentElement.getAttribute("data-offline-shell") === "failed") offlineShell("failed");
  });

  window.addEventListener("load", function () {
    window.ntcWhenIdle(function () {
      registerWorker();
      document.addEventListener("click", function (event) {
        if (!event.target.closest("[data-update-app]") || !registered || !registered.waiting) return;
        // Asked again until it takes over: Chromium can drop a go-ahead that reaches the new
        // worker while the old one is still answering the page's requests (the prefetch).
        var tries = 0;
        var goAhead = function () {
          if (!registered.waiting || tries >= 10) return;
          tries += 1;
          registered.waiting.postMessage({ type: "SKIP_WAITING" });
          setTimeout(goAhead, 2000);
        };
        goAhead();
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

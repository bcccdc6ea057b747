// Behaviour shared by every page. No inline scripts: the CSP allows scripts from 'self' only.
(function () {
  "use strict";
  // htmx swaps a fragment with an error state on 4xx/5xx instead of ignoring it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();

// ntc-jury service worker, version {{ version }}.
// App shell precached; juror pages network-first with a cache fallback; nothing else cached.
"use strict";
const VERSION = {{ version|tojson }};
const SHELL_CACHE = "ntc-shell-" + VERSION;
const PAGES_CACHE = "ntc-pages";
const SHELL = {{ shell|tojson }};
const OFFLINE_URL = {{ offline_url|tojson }};
const NETWORK_TIMEOUT_MS = 4000;

const PRECACHE_RETRY_MS = [500, 2000]; // pauses before a shell file's 2nd and 3rd try

function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// One shell file, tried again after short pauses: one request that bad wifi dropped must not
// cost the whole install, as it would with cache.addAll.
async function precache(cache, url) {
  let failure = null;
  for (const wait of [0, ...PRECACHE_RETRY_MS]) {
    if (wait) await pause(wait);
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) return cache.put(url, response);
      failure = url + " : HTTP " + response.status;
    } catch (error) {
      failure = url + " : " + error.message;
    }
  }
  throw new Error(failure);
}

// The pages that registered this worker are not its clients yet: tell them why it failed.
async function tellPages(message) {
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  pages.forEach((page) => page.postMessage(message));
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    try {
      const cache = await caches.open(SHELL_CACHE);
      await Promise.all(SHELL.map((url) => precache(cache, url)));
    } catch (error) {
      await tellPages({ type: "INSTALL_FAILED", reason: String(error.message || error) });
      throw error; // no half-installed worker: the page registers it again later
    }
    // The very first worker takes over at once; later versions wait for the juror's "Mettre à jour".
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((n) => n.startsWith("ntc-shell-") && n !== SHELL_CACHE).map((n) => caches.delete(n)))
    ).then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "SKIP_WAITING") self.skipWaiting();
  // A page loaded while this worker was activating missed its claim (clients.claim() only
  // takes the pages that exist then): it asks again, or it would stay uncontrolled.
  if (data.type === "CLAIM") event.waitUntil(self.clients.claim());
  if (data.type === "FORGET_PAGES") {
    event.waitUntil(caches.delete(PAGES_CACHE).then(() => event.source && event.source.postMessage({ type: "PAGES_FORGOTTEN" })));
  }
});

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

// Only pages the server marks as a juror's own are kept (never staff pages).
function cacheable(response) {
  return response && response.ok && !response.redirected && response.headers.get("NTC-Offline") === "juror";
}

async function pageFromNetwork(request) {
  const response = await Promise.race([fetch(request), timeout(NETWORK_TIMEOUT_MS)]);
  if (cacheable(response)) {
    const cache = await caches.open(PAGES_CACHE);
    await cache.put(request.url, response.clone());
  }
  return response;
}

async function pageFromCache(request) {
  const cache = await caches.open(PAGES_CACHE);
  const cached = await cache.match(request.url);
  if (cached) return cached;
  if (request.mode === "navigate") return caches.match(OFFLINE_URL);
  return Response.error();
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
    return;
  }
  if (url.pathname.startsWith("/jury/") && request.headers.get("HX-Request") !== "true") {
    event.respondWith(pageFromNetwork(request).catch(() => pageFromCache(request)));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
  }
});

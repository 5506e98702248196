// The offline app's service worker (served as /sw.js, registered for the scope /app).
// It keeps the app's shell (the /app page, its script, style, manifest and icons) so the app
// starts without a network. It never stores API answers: the worker's data lives in the app's
// encrypted IndexedDB store, and API requests go straight to the network.
'use strict';

const CACHE = 'shegong-shell-__VERSION__';
const SHELL = "__SHELL__";

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((c) => c.addAll(SHELL.map((u) => new Request(u, { credentials: 'same-origin', cache: 'reload' }))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('shegong-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener('message', (event) => {
  // Sign-out and an expired session: forget the shell too.
  if (event.data === 'wipe') {
    event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith('shegong-')).map((k) => caches.delete(k)))));
  }
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (req.mode === 'navigate' && url.pathname === '/app') {
    // Network first (a signed-out visitor is sent to the login page), the kept shell offline.
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok && !res.redirected) {
            const copy = res.clone();
            caches.open(CACHE).then((c) => c.put('/app', copy));
          }
          return res;
        })
        .catch(() => caches.match('/app').then((hit) => hit || Response.error()))
    );
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(req)));
  }
});

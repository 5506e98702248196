/*
 * The offline field app (/app). Plain ES2019 + WebCrypto + IndexedDB, no dependencies, under
 * the CSP `script-src 'self'`.
 *
 * - The worker's own data (GET /api/v1/app/bundle) and every queued record are kept in the
 *   IndexedDB database `shegong-offline`, encrypted with AES-GCM under the session's device key
 *   (GET /api/v1/app/session), imported as a non-extractable CryptoKey.
 * - Visits and case notes made offline queue there, each with its own Idempotency-Key, and are
 *   sent in order when the network returns (and at start); a lost answer is sent again with the
 *   same key, which the server answers with the first result: never twice.
 * - A queued record carries the file as it was (`expected`); when the file changed since, the
 *   server answers 409 and the record waits for the worker (submit anyway / discard).
 * - A 401 (session expired, account disabled) erases the cached files; queued records stay,
 *   encrypted, until the same account signs in again (another account: erased). Sign-out
 *   erases everything.
 */
(function () {
  'use strict';

  const DB_NAME = 'shegong-offline';
  const M = JSON.parse(document.body.dataset.msgs || '{}');
  const $ = (id) => document.getElementById(id);

  let db = null;
  let key = null; // CryptoKey
  let session = null; // { user_id, display_name, csrf_token, max_files }
  let bundle = null;
  let syncing = false;
  let lastSynced = 0;
  let progress = null; // { done, total }
  let signedOut = false;
  let formTarget = null; // { kind, item }

  function fmt(s, args) {
    return String(s || '').replace(/\{(\w+)\}/g, (m, k) => (k in args ? String(args[k]) : m));
  }

  // ------------------------------------------------------------------ IndexedDB
  function openDb() {
    return new Promise((resolve, reject) => {
      const r = indexedDB.open(DB_NAME, 1);
      r.onupgradeneeded = () => {
        const d = r.result;
        d.createObjectStore('meta');
        d.createObjectStore('cache');
        d.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
      };
      r.onsuccess = () => {
        const d = r.result;
        d.onversionchange = () => d.close(); // a sign-out elsewhere deletes the database
        resolve(d);
      };
      r.onerror = () => reject(r.error);
    });
  }

  function req(store, mode, fn) {
    // Signing out closes the database while other work may still be on its way: it ends quietly.
    if (!db) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const r = fn(t.objectStore(store));
      t.oncomplete = () => resolve(r && r.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  const get = (s, k) => req(s, 'readonly', (o) => o.get(k));
  const put = (s, v, k) => req(s, 'readwrite', (o) => (k === undefined ? o.put(v) : o.put(v, k)));
  const del = (s, k) => req(s, 'readwrite', (o) => o.delete(k));
  const all = (s) => req(s, 'readonly', (o) => o.getAll());
  const clear = (s) => req(s, 'readwrite', (o) => o.clear());

  // ------------------------------------------------------------------ crypto
  function hexBytes(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function importKey(hex) {
    return crypto.subtle.importKey('raw', hexBytes(hex), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
  }
  async function seal(k, value) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, new TextEncoder().encode(JSON.stringify(value)));
    return { iv, ct };
  }
  async function unseal(k, box) {
    const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv }, k, box.ct);
    return JSON.parse(new TextDecoder().decode(pt));
  }

  // ------------------------------------------------------------------ wiping
  async function wipeShell() {
    if ('caches' in window) {
      const names = await caches.keys();
      await Promise.all(names.filter((n) => n.startsWith('shegong-')).map((n) => caches.delete(n)));
    }
  }
  async function wipeAll() {
    await clear('cache');
    await clear('queue');
    await clear('meta');
    key = null;
    bundle = null;
    session = null;
  }

  // 401: the session is gone (expired, signed out elsewhere, account disabled).
  async function onSignedOut() {
    signedOut = true;
    await clear('cache');
    bundle = null;
    await wipeShell();
    render();
  }

  // ------------------------------------------------------------------ server
  function api(path, opts) {
    const o = Object.assign({ credentials: 'same-origin', cache: 'no-store' }, opts || {});
    o.headers = Object.assign({ Accept: 'application/json' }, o.headers || {});
    return fetch(path, o);
  }

  // The session's key and CSRF token. A new session (signed in again) re-encrypts what is queued.
  async function refreshSession() {
    const res = await api('/api/v1/app/session');
    if (res.status === 401) {
      await onSignedOut();
      return false;
    }
    if (!res.ok) throw new Error('session ' + res.status);
    const s = await res.json();
    signedOut = false;
    const owner = await get('meta', 'owner');
    if (owner && owner !== s.user_id) {
      await wipeAll();
      note(M.other_account);
    }
    const oldKey = await get('meta', 'key');
    const oldTag = await get('meta', 'tag');
    const newKey = await importKey(s.device_key);
    if (oldKey && oldTag !== s.session_tag) {
      for (const it of await all('queue')) {
        try {
          it.box = await seal(newKey, await unseal(oldKey, it.box));
          await put('queue', it);
        } catch (e) {
          await del('queue', it.seq); // unreadable: nothing can be done with it
        }
      }
      await clear('cache');
    }
    await put('meta', newKey, 'key');
    await put('meta', s.session_tag, 'tag');
    await put('meta', s.user_id, 'owner');
    key = newKey;
    session = s;
    await put('meta', await seal(key, { user_id: s.user_id, display_name: s.display_name, csrf_token: s.csrf_token, max_files: s.max_files }), 'session');
    return true;
  }

  async function refreshBundle() {
    const res = await api('/api/v1/app/bundle');
    if (res.status === 401) {
      await onSignedOut();
      return;
    }
    if (!res.ok) throw new Error('bundle ' + res.status);
    bundle = await res.json();
    await put('cache', await seal(key, bundle), 'bundle');
  }

  function send(p, idem) {
    return api(p.path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-CSRF-Token': session.csrf_token,
        'Idempotency-Key': idem,
      },
      body: JSON.stringify(p.body),
    });
  }

  // Send what waits, oldest first, each with its own stored key.
  async function sync() {
    if (syncing || !key || !session || signedOut) return;
    syncing = true;
    try {
      const items = (await all('queue')).filter((i) => i.state === 'pending').sort((a, b) => a.seq - b.seq);
      progress = { done: 0, total: items.length };
      render();
      let sent = 0;
      for (const it of items) {
        const p = await unseal(key, it.box);
        let res;
        try {
          res = await send(p, it.idem);
          if (res.status === 403) {
            // The CSRF token of an older session: take the current one and try once more.
            if (await refreshSession()) res = await send(p, it.idem);
          }
        } catch (e) {
          break; // the network went away: the rest waits
        }
        if (res.status === 401) {
          await onSignedOut();
          break;
        }
        const body = res.ok ? null : await res.json().catch(() => ({}));
        if (res.ok) {
          await del('queue', it.seq);
          sent++;
        } else if (res.status === 409 && body.code === 'conflict.file_changed') {
          p.conflict = body;
          it.state = 'conflict';
          it.box = await seal(key, p);
          await put('queue', it);
        } else if (res.status === 409 || res.status >= 500) {
          break; // still running on the server, or a passing failure: later
        } else {
          p.error = { status: res.status, title: body.title || '', errors: body.errors || [] };
          it.state = 'failed';
          it.box = await seal(key, p);
          await put('queue', it);
        }
        progress.done++;
        render();
      }
      if (items.length) {
        lastSynced = sent;
        noteText = '';
      }
    } finally {
      syncing = false;
      progress = null;
    }
  }

  async function online() {
    render();
    if (!navigator.onLine) return;
    try {
      if (await refreshSession()) {
        await sync();
        if (!signedOut) await refreshBundle();
      }
    } catch (e) {
      // Unreachable server: keep working from the device.
    }
    await render();
  }

  // ------------------------------------------------------------------ queueing
  async function enqueue(kind, path, body, label) {
    const box = await seal(key, { kind, path, body, label });
    const idem = crypto.randomUUID ? crypto.randomUUID() : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    await put('queue', { idem, state: 'pending', kind, created: Date.now(), box });
    note(M.queued);
    if (navigator.onLine) online();
    else render();
  }

  function today() {
    if (bundle && bundle.today) return bundle.today;
    const d = new Date();
    return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') + '-' + String(d.getDate()).padStart(2, '0');
  }

  function option(sel, list, only, chosen) {
    sel.textContent = '';
    for (const c of list || []) {
      if (only && !only.includes(c.code)) continue;
      const o = document.createElement('option');
      o.value = c.code;
      o.textContent = c.label;
      if (c.code === chosen) o.selected = true;
      sel.appendChild(o);
    }
  }

  function openForm(kind, item) {
    formTarget = { kind, item };
    const card = $('oa-form-card');
    card.hidden = false;
    for (const row of card.querySelectorAll('[data-for]')) {
      row.hidden = row.dataset.for !== kind;
      // A hidden field takes no part in the form's own checks.
      for (const c of row.querySelectorAll('input, select, textarea')) c.disabled = row.hidden;
    }
    $('oa-form').reset();
    if (kind === 'visit') {
      $('oa-form-title').textContent = fmt(M.visit_of, { name: item.name });
      $('oa-served-on').value = today();
      $('oa-served-on').max = today();
      option($('oa-method'), bundle.catalogues.methods, item.methods, 'home');
      option($('oa-domain'), bundle.catalogues.domains, null, localStorage.getItem('oa-domain') || 'elderly');
    } else {
      $('oa-form-title').textContent = fmt(M.note_of, { name: item.resident_name });
    }
    card.scrollIntoView({ block: 'start' });
    (kind === 'visit' ? $('oa-method') : $('oa-note')).focus();
  }

  async function saveForm(ev) {
    ev.preventDefault();
    const t = formTarget;
    if (!t || !key) return;
    if (t.kind === 'visit') {
      const r = t.item;
      const domain = $('oa-domain').value;
      localStorage.setItem('oa-domain', domain);
      await enqueue('visit', '/api/v1/services', {
        kind: 'visit',
        domain,
        resident_id: r.id,
        served_on: $('oa-served-on').value,
        duration_minutes: parseInt($('oa-duration').value, 10) || 30,
        person_times: 1,
        method: $('oa-method').value,
        workers: session ? session.display_name : '',
        notes: $('oa-notes').value,
        expected: { resident_status: r.status, resident_worker: r.worker_user_id || '' },
      }, fmt(M.visit_of, { name: r.name }));
    } else {
      const k = t.item;
      const text = $('oa-note').value.trim();
      if (!text) {
        $('oa-note').focus();
        return;
      }
      await enqueue('note', '/api/v1/cases/' + encodeURIComponent(k.id) + '/note', {
        note: text,
        expected: { case_stage: k.stage, case_worker: k.worker_user_id || '' },
      }, fmt(M.note_of, { name: k.resident_name }));
    }
    formTarget = null;
    $('oa-form-card').hidden = true;
  }

  // ------------------------------------------------------------------ rendering
  let noteText = '';
  function note(text) {
    noteText = text;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function labelOf(list, code) {
    const hit = (list || []).find((x) => x.code === code);
    return hit ? hit.label : code;
  }

  function expectedLabel(field, value) {
    const c = bundle ? bundle.catalogues : {};
    if (field === 'resident_status') return labelOf(c.statuses, value);
    if (field === 'case_stage') return labelOf(c.stages, value);
    if (session && value === session.user_id) return session.display_name;
    return value || '—';
  }

  async function renderQueue(items) {
    const ul = $('oa-queue');
    ul.textContent = '';
    if (!items.length) {
      ul.appendChild(el('li', 'hint', M.queue_empty));
      return;
    }
    for (const it of items.sort((a, b) => a.seq - b.seq)) {
      const li = el('li', 'oa-item');
      li.dataset.state = it.state;
      li.dataset.kind = it.kind;
      const state = { pending: M.state_pending, conflict: M.state_conflict, failed: M.state_failed }[it.state];
      li.appendChild(el('span', 'tag oa-state-' + it.state, state));
      let p = null;
      try {
        p = key ? await unseal(key, it.box) : null;
      } catch (e) {
        p = null;
      }
      li.appendChild(el('span', 'oa-label', p ? ' ' + p.label : ' ' + (it.kind === 'visit' ? M.kind_visit : M.kind_note)));
      if (p && p.conflict) {
        const box = el('div', 'oa-conflict');
        box.appendChild(el('p', '', p.conflict.message));
        for (const ch of p.conflict.changes || []) {
          box.appendChild(el('p', 'oa-change', fmt(M.conflict_detail, {
            field: M['field_' + ch.field] || ch.field,
            expected: expectedLabel(ch.field, ch.expected),
            current: ch.current_label || ch.current,
          })));
        }
        li.appendChild(box);
      }
      if (p && p.error) {
        const box = el('div', 'oa-error');
        box.appendChild(el('p', '', p.error.title || String(p.error.status)));
        for (const e of p.error.errors || []) box.appendChild(el('p', '', e.message));
        li.appendChild(box);
      }
      if (it.state === 'conflict' || it.state === 'failed') {
        const actions = el('div', 'form-actions');
        if (it.state === 'conflict') {
          const again = el('button', 'btn btn-primary oa-anyway', M.submit_anyway);
          again.type = 'button';
          again.addEventListener('click', async () => {
            delete p.body.expected;
            delete p.conflict;
            it.state = 'pending';
            it.box = await seal(key, p);
            await put('queue', it);
            online();
          });
          actions.appendChild(again);
        }
        const drop = el('button', 'btn oa-discard', M.discard);
        drop.type = 'button';
        drop.addEventListener('click', async () => {
          if (!window.confirm(M.discard_confirm)) return;
          await del('queue', it.seq);
          render();
        });
        actions.appendChild(drop);
        li.appendChild(actions);
      }
      ul.appendChild(li);
    }
  }

  function renderFiles() {
    const ul = $('oa-residents');
    const cl = $('oa-cases');
    ul.textContent = '';
    cl.textContent = '';
    if (!bundle) {
      ul.appendChild(el('li', 'hint', M.not_cached));
      $('oa-due-counts').textContent = '';
      $('oa-cache-info').textContent = signedOut ? '' : M.not_cached;
      return;
    }
    const c = bundle.catalogues;
    $('oa-due-counts').textContent = fmt(M.due_counts, bundle.due);
    let info = fmt(M.cached, {
      n: bundle.residents.length, c: bundle.cases.length, max: bundle.max_files,
      at: new Date(bundle.generated_at).toLocaleString(),
    });
    if (bundle.residents_total > bundle.residents.length) {
      info += ' ' + fmt(M.truncated, { total: bundle.residents_total, n: bundle.residents.length });
    }
    $('oa-cache-info').textContent = info;
    if (!bundle.residents.length) ul.appendChild(el('li', 'hint', M.no_residents));
    for (const r of bundle.residents) {
      const li = el('li', 'oa-item');
      li.dataset.id = r.id;
      li.appendChild(el('strong', '', r.name));
      li.appendChild(el('span', 'tag tier-' + r.risk_tier, labelOf(c.tiers, r.risk_tier)));
      const overdue = r.next_visit_due < bundle.today;
      li.appendChild(el('span', overdue ? 'tag oa-overdue' : 'hint', overdue ? M.overdue + ' ' + r.next_visit_due : fmt(M.due_on, { date: r.next_visit_due })));
      li.appendChild(el('div', 'hint', r.region_path));
      const b = el('button', 'btn btn-primary oa-visit', M.record_visit);
      b.type = 'button';
      b.addEventListener('click', () => openForm('visit', r));
      li.appendChild(b);
      ul.appendChild(li);
    }
    if (!bundle.cases.length) cl.appendChild(el('li', 'hint', M.no_cases));
    for (const k of bundle.cases) {
      const li = el('li', 'oa-item');
      li.dataset.id = k.id;
      li.appendChild(el('strong', '', k.resident_name));
      li.appendChild(el('span', 'tag', labelOf(c.stages, k.stage)));
      li.appendChild(el('div', 'hint', k.problem));
      const b = el('button', 'btn oa-note', M.add_note);
      b.type = 'button';
      b.addEventListener('click', () => openForm('note', k));
      li.appendChild(b);
      cl.appendChild(li);
    }
  }

  async function render() {
    const net = $('oa-net');
    net.dataset.state = navigator.onLine ? 'online' : 'offline';
    net.textContent = navigator.onLine ? M.online : M.offline;
    const items = db ? await all('queue') : [];
    const count = (s) => items.filter((i) => i.state === s).length;
    const parts = [];
    if (progress && progress.total) {
      parts.push(fmt(M.syncing, { n: Math.min(progress.done + 1, progress.total), m: progress.total }));
    } else if (signedOut) {
      parts.push(M.signed_out);
    } else {
      if (lastSynced) parts.push(fmt(M.synced, { n: lastSynced }));
      if (count('pending')) parts.push(navigator.onLine ? fmt(M.pending, { n: count('pending') }) : M.waiting_network + ' ' + fmt(M.pending, { n: count('pending') }));
      if (count('conflict')) parts.push(fmt(M.conflicts, { n: count('conflict') }));
      if (count('failed')) parts.push(fmt(M.failed, { n: count('failed') }));
      if (!items.length && navigator.onLine && bundle) parts.push(M.all_synced);
      if (noteText) parts.push(noteText);
    }
    const status = $('oa-sync-status');
    status.textContent = parts.join(' ');
    status.dataset.pending = String(count('pending'));
    status.dataset.conflicts = String(count('conflict'));
    status.dataset.syncing = progress ? '1' : '0';
    const bar = $('oa-progress');
    bar.hidden = !progress;
    if (progress) {
      $('oa-progress-bar').max = Math.max(progress.total, 1);
      $('oa-progress-bar').value = progress.done;
    }
    await renderQueue(items);
    renderFiles();
    document.body.dataset.ready = '1';
  }

  // ------------------------------------------------------------------ start
  async function loadLocal() {
    key = await get('meta', 'key');
    if (!key) return;
    try {
      const s = await get('meta', 'session');
      session = s ? await unseal(key, s) : null;
      const b = await get('cache', 'bundle');
      bundle = b ? await unseal(key, b) : null;
    } catch (e) {
      bundle = null;
    }
  }

  async function signOut(ev) {
    ev.preventDefault();
    const form = ev.target;
    form.querySelector('input[name="_csrf"]').value = session ? session.csrf_token : '';
    try {
      const d = db;
      db = null;
      d.close();
      await Promise.race([
        Promise.all([
          new Promise((r) => { const d = indexedDB.deleteDatabase(DB_NAME); d.onsuccess = d.onerror = d.onblocked = r; }),
          wipeShell(),
        ]),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
    } finally {
      form.submit();
    }
  }

  async function start() {
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/sw.js', { scope: '/app' }).catch(() => {});
    }
    db = await openDb();
    await loadLocal();
    $('oa-form').addEventListener('submit', saveForm);
    $('oa-cancel').addEventListener('click', () => { $('oa-form-card').hidden = true; formTarget = null; });
    $('oa-sync-now').addEventListener('click', () => online().catch(() => {}));
    $('oa-logout').addEventListener('submit', signOut);
    window.addEventListener('online', () => online().catch(() => {}));
    window.addEventListener('offline', () => render().catch(() => {}));
    await render();
    await online();
  }

  start().catch(() => {});
})();

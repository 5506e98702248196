// The offline field app (issue 19 item 4), at 390×844: a township social worker opens /app
// (installable: manifest, service worker), which caches her own files and open case encrypted
// in IndexedDB; the network goes away (Playwright's context.setOffline: Chromium's network
// emulation, which also sets navigator.onLine); the app reloads from the service worker's cache
// and still shows her files; she records three visits and a case note, all queued on the
// device. Meanwhile the county office marks one of the residents as moved out. Back online,
// the queue drains by itself: the answer to the first visit is lost on the way (the request
// reaches the server, the app sees a network error) and is sent again with the same
// Idempotency-Key; the server holds each visit and the note exactly once, the county's
// dashboard counter moves by two, and the visit to the moved-out resident is shown as a conflict with what
// changed — never saved silently — until she discards it. Signing out erases the device's data.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  eventually,
  launchBrowser,
  openSession,
  overflow,
  pageFetch,
  signIn,
  steps,
  strongPassword,
  uniqueName,
  visit,
} from './helpers.mjs';

const COUNTY = '430202';
const TOWN = '430202001';
const PHONE = { width: 390, height: 844 };

let server;
let browser;

before(async () => {
  server = await Server.start('offline');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function csrf(page) {
  return page.locator('meta[name="csrf-token"]').getAttribute('content');
}

async function postJson(page, path, body) {
  const token = await csrf(page);
  return pageFetch(page, path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token, Accept: 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The county dashboard's service-record counter (maintained with every write). */
async function recordsCounter(page) {
  await visit(page, `/stats/${COUNTY}`);
  return Number((await page.locator('#kpi-records').textContent()).replace(/[^0-9]/g, ''));
}

test('a worker records visits and a case note offline; they sync once; a conflict is shown', async (t) => {
  const password = strongPassword();
  const adminName = uniqueName('hq_admin');
  const workerName = uniqueName('fieldw');
  await server.addUser({ username: adminName, role: 'civil_affairs_admin', region: COUNTY, password, permanent: true });
  await server.addUser({ username: workerName, role: 'social_worker', region: TOWN, password, permanent: true, name: '外勤社工' });

  const office = await openSession(browser, server);
  const worker = await openSession(browser, server);
  await worker.page.setViewportSize(PHONE);
  let page = office.page;
  const step = await steps(t, 'offline-app', () => page);

  const ids = {};
  let workerId;
  let before;
  let lost = 0;

  await step('the office puts four residents and an open case on the worker', async () => {
    await signIn(office.page, adminName, password);
    page = worker.page;
    await signIn(worker.page, workerName, password);
    const s = await pageFetch(worker.page, '/api/v1/app/session');
    assert.equal(s.status, 200, s.text);
    workerId = s.json.user_id;
    page = office.page;
    await visit(office.page, '/residents');
    const names = { a: '离线甲', b: '离线乙', c: '离线丙', d: '离线丁' };
    for (const [k, name] of Object.entries(names)) {
      const res = await postJson(office.page, '/api/v1/residents', {
        name, birth_date: '1946-05-0' + (Object.keys(ids).length + 1), region: TOWN, risk_tier: 'general',
        legal_basis: 'statutory_duty', worker_user_id: workerId, confirm_duplicates: true,
      });
      assert.equal(res.status, 201, res.text);
      ids[k] = res.json.id;
    }
    const res = await postJson(office.page, '/api/v1/cases', { resident_id: ids.c, problem: '独居，需要陪伴', worker_user_id: workerId });
    assert.equal(res.status, 201, res.text);
    ids.case = res.json.id;
  });

  page = worker.page;
  await step('the dashboard counter before; 我的工作台 links to the app', async () => {
    before = await recordsCounter(office.page);
    await visit(worker.page, '/my');
    await worker.page.locator('#offline-app-link a[href="/app"]').waitFor();
  });

  page = worker.page;
  await step('the app caches her files and case (manifest, service worker, encrypted store)', async () => {
    await visit(worker.page, '/app');
    await worker.page.locator('#oa-residents li[data-id]').nth(3).waitFor();
    assert.equal(await worker.page.locator('#oa-residents li[data-id]').count(), 4);
    assert.equal(await worker.page.locator('#oa-cases li[data-id]').count(), 1);
    const manifest = await worker.page.locator('link[rel="manifest"]').getAttribute('href');
    assert.equal(manifest, '/app.webmanifest');
    await eventually(async () => {
      const controlled = await worker.page.evaluate(() => navigator.serviceWorker.ready.then(() => !!navigator.serviceWorker.controller));
      assert.ok(controlled, 'the service worker controls /app');
    }, 20_000);
    const cached = await worker.page.evaluate(async () => {
      const names = await caches.keys();
      const shell = await caches.match('/app');
      return { names, shell: !!shell };
    });
    assert.ok(cached.names.some((n) => n.startsWith('shegong-shell-')), JSON.stringify(cached));
    assert.ok(cached.shell, 'the shell is cached');
    // At rest the files are ciphertext: no name in IndexedDB.
    const plain = await worker.page.evaluate(() => new Promise((resolve) => {
      const r = indexedDB.open('shegong-offline');
      r.onsuccess = () => {
        const tx = r.result.transaction('cache');
        const g = tx.objectStore('cache').get('bundle');
        g.onsuccess = () => {
          const v = g.result;
          resolve({ hasIv: !!(v && v.iv), keys: v ? Object.keys(v) : [], text: JSON.stringify(v || {}) });
          r.result.close();
        };
      };
    }));
    assert.ok(plain.hasIv, JSON.stringify(plain.keys));
    assert.ok(!plain.text.includes('离线甲'));
    assert.deepEqual(await overflow(worker.page), []);
  });

  await step('offline: the app reloads from the cache and still shows her files', async () => {
    await worker.context.setOffline(true);
    await worker.page.reload({ waitUntil: 'load' });
    await worker.page.locator('#oa-residents li[data-id]').nth(3).waitFor();
    await eventually(async () => {
      assert.equal(await worker.page.locator('#oa-net').getAttribute('data-state'), 'offline');
    });
  });

  const recordVisit = async (id, notes) => {
    await worker.page.locator(`#oa-residents li[data-id="${id}"] .oa-visit`).click();
    await worker.page.locator('#oa-duration').fill('40');
    await worker.page.locator('#oa-notes').fill(notes);
    await worker.page.locator('#oa-save').click();
    await worker.page.locator('#oa-form-card').waitFor({ state: 'hidden' });
  };

  await step('offline: three visits and a case note are queued on the device', async () => {
    await recordVisit(ids.a, '精神好，已送米面油');
    await recordVisit(ids.b, '电话不通，入户看望');
    await worker.page.locator(`#oa-cases li[data-id="${ids.case}"] .oa-note`).click();
    await worker.page.locator('#oa-note').fill('离线个案记录：已联系其女儿');
    await worker.page.locator('#oa-save').click();
    await worker.page.locator('#oa-form-card').waitFor({ state: 'hidden' });
    await recordVisit(ids.d, '门锁着，邻居说搬走了');
    await eventually(async () => {
      assert.equal(await worker.page.locator('#oa-sync-status').getAttribute('data-pending'), '4');
    });
    assert.equal(await worker.page.locator('#oa-queue li[data-state="pending"]').count(), 4);
    assert.deepEqual(await overflow(worker.page), []);
  });

  page = office.page;
  await step('meanwhile the office marks one resident as moved out; nothing has reached the server', async () => {
    const res = await postJson(office.page, `/api/v1/residents/${ids.d}/status`, { status: 'moved_out' });
    assert.equal(res.status, 200, res.text);
    for (const k of ['a', 'b', 'd']) {
      const r = await pageFetch(office.page, `/api/v1/services?resident=${ids[k]}&kind=visit`);
      assert.equal(r.json.total, 0, r.text);
    }
  });

  page = worker.page;
  await step('back online: the queue drains by itself, a lost answer is sent again with its key', async () => {
    // The first visit's answer is lost: the server saves it, the app sees a network error.
    await worker.context.route('**/api/v1/services', async (route) => {
      if (route.request().method() === 'POST' && lost === 0) {
        lost += 1;
        await route.fetch();
        await route.abort('connectionreset');
        return;
      }
      await route.continue();
    });
    await worker.context.setOffline(false);
    await eventually(async () => {
      assert.equal(lost, 1, 'the first POST went through the network');
      assert.equal(await worker.page.locator('#oa-sync-status').getAttribute('data-syncing'), '0');
    }, 20_000);
    // The retry (on the next round: the button, as the app's own next start would).
    await eventually(async () => {
      const pending = await worker.page.locator('#oa-sync-status').getAttribute('data-pending');
      if (pending !== '0') await worker.page.locator('#oa-sync-now').click();
      assert.equal(await worker.page.locator('#oa-sync-status').getAttribute('data-pending'), '0');
      assert.equal(await worker.page.locator('#oa-sync-status').getAttribute('data-conflicts'), '1');
    }, 30_000);
    await worker.context.unroute('**/api/v1/services');
  });

  page = office.page;
  await step('the server holds each visit and the note exactly once', async () => {
    for (const k of ['a', 'b']) {
      const r = await pageFetch(office.page, `/api/v1/services?resident=${ids[k]}&kind=visit`);
      assert.equal(r.json.total, 1, `${k}: ${r.text}`);
    }
    const d = await pageFetch(office.page, `/api/v1/services?resident=${ids.d}&kind=visit`);
    assert.equal(d.json.total, 0, d.text);
    await visit(office.page, `/cases/${ids.case}`);
    const html = await office.page.content();
    assert.equal(html.split('离线个案记录：已联系其女儿').length - 1, 1, 'the note once in the history');
  });

  page = worker.page;
  await step('the conflict is shown with what changed, and discarded by the worker', async () => {
    const item = worker.page.locator('#oa-queue li[data-state="conflict"]');
    await item.waitFor();
    const text = await item.textContent();
    assert.match(text, /离线丁/);
    assert.match(text, /档案状态/);
    assert.match(text, /迁出/);
    await item.locator('.oa-anyway').waitFor();
    worker.page.once('dialog', (d) => d.accept());
    await item.locator('.oa-discard').click();
    await worker.page.locator('#oa-queue li[data-state]').first().waitFor({ state: 'detached' });
    const d = await pageFetch(worker.page, `/api/v1/services?resident=${ids.d}&kind=visit`);
    assert.equal(d.json.total, 0, d.text);
  });

  page = office.page;
  await step('the dashboard counts the two visits, once each', async () => {
    assert.equal(await recordsCounter(office.page), before + 2);
  });

  page = worker.page;
  await step('signing out erases the device\'s data', async () => {
    await visit(worker.page, '/app');
    await worker.page.locator('#oa-residents li[data-id]').first().waitFor();
    await Promise.all([worker.page.waitForURL(/\/login/), worker.page.locator('#oa-logout button').click()]);
    const left = await worker.page.evaluate(async () => ({
      dbs: (await indexedDB.databases()).map((d) => d.name),
      caches: await caches.keys(),
    }));
    assert.ok(!left.dbs.includes('shegong-offline'), JSON.stringify(left));
    assert.deepEqual(left.caches.filter((n) => n.startsWith('shegong-')), []);
    const s = await pageFetch(worker.page, '/api/v1/app/session');
    assert.equal(s.status, 401);
  });

  assert.deepEqual(worker.problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_RESET|Failed to fetch/.test(p)), []);
  await office.context.close();
  await worker.context.close();
});

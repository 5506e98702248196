// Inspections (督查) and their rectifications (整改): a county office records an inspection with
// a rectification (JSON API); the station's worker opens the rectification page, uploads the
// evidence (整改佐证材料) and reports it done; the office sees the file listed with the uploader's
// name, downloads it and verifies the rectification (the verifier shown by name). The page at
// 390 px does not scroll sideways.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  clickAndWait,
  launchBrowser,
  openSession,
  pageFetch,
  signIn,
  steps,
  strongPassword,
  textOf,
  uniqueName,
  visit,
} from './helpers.mjs';

const COUNTY = '430203';
const STATION = '贺家土街道社会工作服务站';
const WORKER_NAME = '李站长';
const OFFICE_NAME = '王督导';
// The smallest PNG: one transparent pixel.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

let server;
let browser;

before(async () => {
  server = await Server.start('inspections');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function csrfToken(page) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  assert.ok(token, 'the page carries its CSRF token');
  return token;
}

function apiPost(page, url, body, token) {
  return pageFetch(page, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify(body),
  });
}

async function rows(page, selector) {
  await page.locator(selector).first().waitFor({ state: 'attached' });
  return page.locator(`${selector} tbody tr`).evaluateAll((trs) =>
    trs.map((r) => Array.from(r.cells).map((c) => c.textContent.replace(/\s+/g, ' ').trim())),
  );
}

test('a rectification gets its evidence from the station and is verified by the office', async (t) => {
  const office = await openSession(browser, server);
  const worker = await openSession(browser, server);
  let page = office.page;
  const step = await steps(t, 'a-evidence', () => page);
  const officeUser = uniqueName('county');
  const workerUser = uniqueName('worker');
  const password = strongPassword();
  let rect = '';

  await step('accounts: the county office and the station worker (CLI)', async () => {
    await server.addUser({ username: officeUser, role: 'civil_affairs_admin', region: COUNTY, password, permanent: true, name: OFFICE_NAME });
    await server.addUser({ username: workerUser, role: 'social_worker', region: COUNTY, password, permanent: true, name: WORKER_NAME });
  }, { shot: false });

  await step('the office records an inspection with a rectification (API)', async () => {
    assertStatus(await signIn(page, officeUser, password), 200, 'sign-in');
    const token = await csrfToken(page);
    const st = await apiPost(page, '/api/v1/stations', {
      tier: 'township_station', mode: 'direct', status: 'operating', status_since: '2024-01-01',
      region_code: '430203001', name: STATION,
    }, token);
    assert.equal(st.status, 201, st.text);
    const v = await apiPost(page, '/api/v1/inspections/visits', {
      station: st.json.id, visited_on: '2025-03-10', inspector: OFFICE_NAME, findings: '台账不全',
      rectifications: [{ description: '补齐服务台账', owner: '站长', deadline: '2025-04-10' }],
    }, token);
    assert.equal(v.status, 201, v.text);
    rect = v.json.rectifications[0].id;
  }, { shot: false });

  // The step's screenshot is of the page current when it starts.
  page = worker.page;
  await step('the worker uploads a photo on the rectification page (390 px)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    assertStatus(await signIn(page, workerUser, password), 200, 'sign-in');
    assertStatus(await visit(page, `/inspections/rectifications/${rect}`), 200, 'rectification page');
    await page.locator('#evidence-file').setInputFiles({ name: '整改后.png', mimeType: 'image/png', buffer: PNG });
    const res = await clickAndWait(page, page.locator('#evidence-form button'));
    assertStatus(res, 200, 'upload');
    assertPath(page, `/inspections/rectifications/${rect}`);
    const listed = await rows(page, '#rect-evidence');
    assert.equal(listed.length, 1, JSON.stringify(listed));
    assert.equal(listed[0][0], '整改后.png');
    assert.equal(listed[0][1], WORKER_NAME, 'the uploader by name');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 391, `no sideways scroll at 390 px (scrollWidth ${wide})`);
  });

  await step('the worker reports it done', async () => {
    await page.locator('#response').fill('已补齐服务台账，照片见佐证材料。');
    await clickAndWait(page, page.locator('form:has(#response) button'));
    assert.equal(await textOf(page, '#rect-status'), '已提交待核验');
  });

  page = office.page;
  await step('the office sees the file, downloads it and verifies', async () => {
    assertStatus(await visit(page, `/inspections/rectifications/${rect}`), 200, 'rectification page');
    const href = await page.locator('#rect-evidence a').first().getAttribute('href');
    const file = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
    }, href);
    assert.deepEqual(file, { status: 200, type: 'image/png', size: PNG.length });
    await clickAndWait(page, page.locator('form:has(input[name="to"][value="verified"]) button'));
    assert.equal(await textOf(page, '#rect-status'), '已核验');
    assert.equal(await textOf(page, '#rect-verifier'), OFFICE_NAME);
  });

  assert.deepEqual([...office.problems, ...worker.problems], [], 'no script errors');
  await office.context.close();
  await worker.context.close();
});

// A call to the station's line end to end (issue 16 acceptance) as a county's civil-affairs
// administrator: take the call on the form (each missing field named), the caller's identity
// number proposes the resident on file, the match is confirmed, and a case is opened from the
// ticket and linked to it.
//
// Fixtures that are not the point (the station and the resident) come from the JSON API; every
// step of the scenario uses the pages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertStatus,
  clickAndWait,
  launchBrowser,
  openSession,
  pageFetch,
  signIn,
  steps,
  strongPassword,
  uniqueName,
  visit,
} from './helpers.mjs';

const COUNTY = '430202';
const TOWNSHIP = '430202001';

let server;
let browser;

before(async () => {
  server = await Server.start('hotline');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** An identity number with its check character (GB 11643). */
function idNumber(body17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body17].reduce((a, c, i) => a + Number(c) * w[i], 0);
  return body17 + '10X98765432'[sum % 11];
}

async function postJson(page, url, body) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  const r = await pageFetch(page, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 201, `POST ${url}: ${r.text}`);
  return r.json;
}

test('a call is matched to a resident on file and opens a case', { timeout: 300_000 }, async (t) => {
  const { context, page } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'hotline', () => page);
  const admin = uniqueName('zz_hot');
  const password = strongPassword();
  const fx = { id: idNumber('43020219450312002') };

  await step('sign in; a station and a resident on file (through the API)', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: COUNTY, password, permanent: true });
    assertStatus(await signIn(page, admin, password), 200, 'sign-in');
    fx.station = (await postJson(page, '/api/v1/stations', {
      tier: 'township_station', region_code: TOWNSHIP, name: '月塘街道社工站', address: '月塘街道办事处一楼',
      mode: 'direct', status: 'operating', status_since: '2024-01-01',
    })).id;
    fx.resident = (await postJson(page, '/api/v1/residents', {
      name: '张桂英', birth_date: '1945-03-12', region: TOWNSHIP, id_type: 'resident_id', id_number: fx.id,
      risk_tier: 'key', legal_basis: 'statutory_duty', confirm_duplicates: true,
    })).id;
  }, { shot: false });

  await step('take a call: the empty form names what is missing; then the call is recorded', async () => {
    assertStatus(await visit(page, '/tickets/new'), 200, 'the form');
    const form = page.locator('#ticket-form');
    assertStatus(await clickAndWait(page, form.locator('#save')), 422, 'the empty form');
    assert.ok(await page.locator('#content-error').count(), 'the content is asked for');
    await page.locator('#ticket-form select[name="station_id"]').selectOption(fx.station);
    await page.locator('#ticket-form select[name="channel"]').selectOption('phone');
    await page.locator('#ticket-form select[name="category"]').selectOption('help');
    await page.locator('#ticket-form select[name="urgency"]').selectOption('urgent');
    await page.locator('#ticket-form input[name="caller_name"]').fill('张桂英');
    await page.locator('#ticket-form input[name="caller_id_number"]').fill(fx.id);
    await page.locator('#ticket-form textarea[name="content"]').fill('独居老人来电：腿脚不便，近日无人买菜做饭，希望社工上门帮助');
    assertStatus(await clickAndWait(page, page.locator('#ticket-form #save')), 200, 'recording the call');
    fx.ticket = new URL(page.url()).pathname;
    assert.match(fx.ticket, /^\/tickets\/[0-9a-f-]+$/);
  });

  await step('the caller\'s identity number proposes the resident on file: confirmed', async () => {
    const confirm = page.locator(`#confirm-${fx.resident}`);
    assert.equal(await confirm.count(), 1, 'proposed as a candidate');
    assertStatus(await clickAndWait(page, confirm), 200, 'confirming the match');
    const api = await pageFetch(page, `/api/v1${fx.ticket}`, { headers: { Accept: 'application/json' } });
    assert.equal(api.status, 200, api.text);
    assert.equal(api.json.resident_id ?? api.json.ticket?.resident_id, fx.resident, 'linked to the file');
  });

  await step('a case is opened from the ticket and linked to it', async () => {
    await page.locator('#outcome-form select[name="outcome"]').selectOption('case_opened');
    assertStatus(await clickAndWait(page, page.locator('#outcome-form #save-outcome')), 200, 'opening the case');
    const link = page.locator('#outcome a[href^="/cases/"]');
    assert.equal(await link.count(), 1, 'the case is linked');
    assertStatus(await clickAndWait(page, link), 200, 'the case');
    assert.match(norm(await page.locator('main, body').first().textContent()), /张桂英/);
  });
});

// Volunteering end to end (issue 15 acceptance) as a county's civil-affairs administrator: publish
// an activity at a station, sign a volunteer up, in and out from the activity page, confirm and
// record the hours (the server runs with no notice period), credit them to the volunteer's
// time-bank account and see the balance, and issue the certificate from the volunteer's page.
//
// Fixtures that are not the point (the station, the volunteer, the time-bank scheme and the
// volunteer's account) come from the JSON API; every step of the scenario uses the pages.

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
  server = await Server.start('volunteers', { config: '[volunteers]\nhours_publicity_days = 0' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** China Standard Time `YYYY-MM-DDTHH:MM`, `m` minutes from now (a datetime-local value). */
function cst(m) {
  return new Date(Date.now() + 8 * 3_600_000 + m * 60_000).toISOString().slice(0, 16);
}

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

test('an activity\'s hours reach the time bank and the certificate', { timeout: 300_000 }, async (t) => {
  const { context, page } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'volunteers', () => page);
  const admin = uniqueName('zz_vol');
  const password = strongPassword();
  const fx = {};

  await step('sign in; a station, a volunteer, a time-bank scheme and the volunteer\'s account', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: COUNTY, password, permanent: true });
    assertStatus(await signIn(page, admin, password), 200, 'sign-in');
    fx.station = (await postJson(page, '/api/v1/stations', {
      tier: 'township_station', region_code: TOWNSHIP, name: '月塘街道社工站', address: '月塘街道办事处一楼',
      mode: 'direct', status: 'operating', status_since: '2024-01-01',
    })).id;
    const v = await postJson(page, '/api/v1/volunteers', {
      name: '刘思雨', id_number: idNumber('43020219900307002'), region: TOWNSHIP, mobile: '13873312345',
      station_id: fx.station, skills: ['养老照护'],
    });
    fx.volunteer = v.id;
    fx.volunteerNo = v.volunteer_no;
    fx.scheme = (await postJson(page, '/api/v1/timebank/schemes', {
      region_code: TOWNSHIP, name: '月塘街道时间银行', operator: '月塘街道社工站',
      rules: { unit_minutes: 30, daily_earn_cap: null, balance_cap: 1500, cap_overflow: 'refuse', redeem_min_earned: 0,
        transfer_to: 'family', min_balance: 0, eligible_kinds: ['visit'], partners: [] },
    })).id;
    fx.account = (await postJson(page, '/api/v1/timebank/accounts', {
      scheme_id: fx.scheme, account_kind: 'person', holder_kind: 'volunteer', holder_id: fx.volunteer,
    })).id;
  }, { shot: false });

  await step('publish an activity at the station; its QR code is shown', async () => {
    assertStatus(await visit(page, '/volunteer-activities'), 200, 'GET /volunteer-activities');
    const form = page.locator('#activity-form');
    await form.locator('#station').selectOption(fx.station);
    await form.locator('#name').fill('重阳节探访独居老人');
    await form.locator('#starts_at').fill(cst(-60));
    await form.locator('#ends_at').fill(cst(120));
    await form.locator('#address').fill('月塘街道社工站活动室');
    await form.locator('#quota').fill('10');
    await form.locator('#content').fill('上门陪伴、代购');
    assertStatus(await clickAndWait(page, form.locator('button[type="submit"]')), 200, 'saving the activity');
    assert.match(new URL(page.url()).pathname, /^\/volunteer-activities\/[^/]+$/);
    assert.equal(norm(await page.locator('#status').textContent()), '草稿');
    assertStatus(await clickAndWait(page, page.locator('#open')), 200, 'publishing');
    assert.equal(norm(await page.locator('#status').textContent()), '报名中');
    const qr = await page.locator('#qr').evaluate((img) => img.complete && img.naturalWidth > 0);
    assert.ok(qr, 'the QR code image loads');
  });

  await step('sign the volunteer up, in (30 minutes ago) and out (now)', async () => {
    await page.locator('#volunteer_id').fill(fx.volunteerNo);
    assertStatus(await clickAndWait(page, page.locator('#sign-up')), 200, 'signing up');
    assert.match(norm(await page.locator('#sign-ups').textContent()), new RegExp(fx.volunteerNo));
    const row = page.locator('#sign-ups tbody tr').filter({ hasText: fx.volunteerNo });
    await row.locator('input[name="at"]').fill(cst(-30));
    assertStatus(await clickAndWait(page, row.locator('button.sign-in')), 200, 'signing in');
    const out = page.locator('#sign-ups tbody tr').filter({ hasText: fx.volunteerNo });
    await out.locator('input[name="at"]').fill(cst(0));
    assertStatus(await clickAndWait(page, out.locator('button.sign-out')), 200, 'signing out');
    const minutes = Number(norm(await page.locator('#attendance tbody tr td').nth(4).textContent()));
    assert.ok(minutes >= 29 && minutes <= 31, `about 30 minutes served, got ${minutes}`);
    assert.match(norm(await page.locator('#activity-hours').textContent()), /待确认/);
  });

  await step('/volunteer-hours: confirm, then record (no notice period here)', async () => {
    assertStatus(await visit(page, '/volunteer-hours'), 200, 'GET /volunteer-hours');
    assertStatus(await clickAndWait(page, page.locator('#hours button.confirm').first()), 200, 'confirming');
    assert.match(norm(await page.locator('#hours').textContent()), /公示中/);
    assertStatus(await clickAndWait(page, page.locator('#hours button.record').first()), 200, 'recording');
    assert.match(norm(await page.locator('#hours').textContent()), /已记录/);
  });

  await step('credit the recorded hours to the time bank: the passbook shows the balance', async () => {
    await clickAndWait(page, page.locator('#hours tbody tr a').filter({ hasText: '刘思雨' }).first());
    assert.equal(norm(await page.locator('#state').textContent()), '已记录');
    await page.locator('#account_id').selectOption(fx.account);
    assertStatus(await clickAndWait(page, page.locator('#earn')), 200, 'crediting');
    assert.equal(new URL(page.url()).pathname, `/timebank/accounts/${fx.account}`);
    assert.equal(norm(await page.locator('#balance').textContent()), '1', 'thirty minutes make one credit of 30');
    assert.ok(await page.locator('#not-money').isVisible(), 'time credits are not money');
  });

  await step('issue the certificate from the volunteer\'s page: number, issuer and hours', async () => {
    assertStatus(await visit(page, `/volunteers/${fx.volunteer}`), 200, 'the volunteer');
    assert.equal(norm(await page.locator('#recorded-hours').textContent()), '0.5');
    const form = page.locator('#certificate-form');
    await form.locator('#c-station').selectOption(fx.station);
    await form.locator('#c-pic').fill('张站长');
    await form.locator('#c-handler').fill('李社工');
    assertStatus(await clickAndWait(page, page.locator('#issue')), 200, 'issuing');
    assert.match(norm(await page.locator('#cert-no').textContent()), /^ZM430202001\d{8}$/);
    assert.equal(norm(await page.locator('#cert-issuer').textContent()), '月塘街道社工站');
    assert.match(norm(await page.locator('#cert-hours').textContent()), /^0\.5/);
    assert.doesNotMatch(norm(await page.locator('#cert-id').textContent()), /43020219900307002/, 'masked by default');
  });
});

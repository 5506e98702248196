// 供需对接 end to end (issue 16 acceptance) as a township's social worker: a resident on file and
// a volunteer whose skill fits; from the resident's file a need is registered on the form, the
// matcher proposes the volunteer and says why, the match is proposed, confirmed, executed (a
// service record) and completed; a second need of the same kind that day is not proposed again.
// Also at phone width (390 px) the need's page does not scroll sideways.

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

const TOWN = '430202001';

let server;
let browser;

before(async () => {
  server = await Server.start('matching');
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

test('a need is matched to a volunteer, the match completed, and the same day not proposed again', { timeout: 300_000 }, async (t) => {
  const { context, page } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'matching', () => page);
  const worker = uniqueName('zz_match');
  const password = strongPassword();
  const fx = {};

  await step('sign in; a resident on file and a volunteer who can help (through the API)', async () => {
    await server.addUser({ username: worker, role: 'social_worker', region: TOWN, password, permanent: true });
    assertStatus(await signIn(page, worker, password), 200, 'sign-in');
    fx.resident = (await postJson(page, '/api/v1/residents', {
      name: '王秀兰', birth_date: '1941-06-02', region: TOWN, id_type: 'resident_id',
      id_number: idNumber('43020219410602002'), risk_tier: 'key', legal_basis: 'statutory_duty',
      confirm_duplicates: true,
    })).id;
    fx.volunteer = (await postJson(page, '/api/v1/volunteers', {
      name: '刘思雨', id_number: idNumber('43020219900307002'), region: TOWN, mobile: '13873312345',
      skills: ['养老照护'], intentions: ['助老'],
    })).id;
  }, { shot: false });

  await step('from the file, a need is registered: the empty title is named, then it is saved', async () => {
    assertStatus(await visit(page, `/residents/${fx.resident}`), 200, 'the file');
    assertStatus(await clickAndWait(page, page.locator('#register-need')), 200, 'the form, pre-filled');
    const form = page.locator('#need-form');
    assert.equal(await form.locator('input[name="resident_id"]').inputValue(), fx.resident);
    await form.locator('select[name="help_kind"]').selectOption('bathing');
    assertStatus(await clickAndWait(page, form.locator('#save')), 422, 'no title');
    assert.ok(await page.locator('#title-error').count(), 'the title is named');
    await form.locator('input[name="title"]').fill('行动不便，需要上门助浴');
    assertStatus(await clickAndWait(page, form.locator('#save')), 200, 'saving');
    fx.need = new URL(page.url()).pathname;
    assert.match(fx.need, /^\/matching\/needs\/[0-9a-f-]+$/);
  });

  await step('the matcher proposes the volunteer and says why', async () => {
    const row = page.locator('#candidates tbody tr').filter({ hasText: '刘思雨' });
    assert.equal(await row.count(), 1, 'proposed');
    const why = norm(await row.locator('.why').textContent());
    assert.match(why, /技能「养老照护」对口/);
    assert.match(why, /同一社区/);
    assert.ok(Number(norm(await row.locator('.score').textContent())) > 50, 'a score out of 100');
    assertStatus(await clickAndWait(page, row.locator('button.propose')), 200, 'proposing');
    const m = page.locator('#matches tbody tr').first();
    assert.match(norm(await m.locator('.match-state').textContent()), /建议/);
    const again = page.locator('#candidates tbody tr').filter({ hasText: '刘思雨' });
    assert.equal(await again.locator('button.propose').count(), 0, 'not offered for proposal twice');
    assert.match(norm(await again.textContent()), /已建议/);
  });

  await step('confirmed, executed into a service record, completed', async () => {
    assertStatus(await clickAndWait(page, page.locator('#matches button.confirm')), 200, 'confirming');
    const exec = page.locator('#matches form.execute-form');
    await exec.locator('input[name="duration_minutes"]').fill('60');
    await exec.locator('input[name="workers"]').fill('李社工');
    assertStatus(await clickAndWait(page, exec.locator('button.execute')), 200, 'executing');
    assert.equal(await page.locator('#matches a[href^="/services/"]').count(), 1, 'the service record is linked');
    assertStatus(await clickAndWait(page, page.locator('#matches button.complete')), 200, 'completing');
    assert.match(norm(await page.locator('#need-state').textContent()), /已满足/);
    assert.match(norm(await page.locator('#matches .match-state').first().textContent()), /已完成/);
  });

  await step('a second bathing need that day: nothing is proposed, and the page says why', async () => {
    const again = await postJson(page, '/api/v1/needs', {
      subject: 'person', resident_id: fx.resident, help_kind: 'bathing', title: '再次助浴',
    });
    assertStatus(await visit(page, `/matching/needs/${again.id}`), 200, 'the second need');
    assert.equal(await page.locator('#throttled').count(), 1, 'throttled');
    assert.equal(await page.locator('#candidates button.propose').count(), 0, 'nothing to propose');
  });

  await step('at phone width the need page does not scroll sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    assertStatus(await visit(page, fx.need), 200, 'the need');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 392, `page width ${wide}`);
  });
});

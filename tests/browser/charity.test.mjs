// Community charity end to end (issue 15 acceptance) as a county's civil-affairs administrator:
// a donation to a community fund, a 微心愿 posted and claimed, a disbursement to it approved by
// the committee's decision and paid, the wish fulfilled, and the fund's public disclosure on the
// portal showing the wish and the payment without the person helped.
//
// Fixtures that are not the point (the fund and its committee) come from the JSON API; every
// step of the scenario uses the pages, and the portal is read signed out.

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
const SECRET = '王小明，三年级，父母务工';

let server;
let browser;

before(async () => {
  server = await Server.start('charity');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

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

test('a fund disburses to a small wish and discloses it on the portal', { timeout: 300_000 }, async (t) => {
  const { context, page } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'charity', () => page);
  const admin = uniqueName('zz_char');
  const password = strongPassword();
  let fund = '';

  await step('sign in; a community fund with its committee (5 deciding members and a supervisor)', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: COUNTY, password, permanent: true });
    assertStatus(await signIn(page, admin, password), 200, 'sign-in');
    fund = (await postJson(page, '/api/v1/funds', {
      region_code: '430202001', name: '株洲市慈善总会月塘街道社区慈善基金', host_name: '株洲市慈善总会',
      host_uscc: '91350100M000100Y43', host_public_fundraising: true, initiator: '月塘街道办事处',
      purpose: '困难群众帮扶、微心愿', residual_rule: '终止后剩余财产转入株洲市慈善总会同类公益项目',
      starts_on: '2026-01-01',
    })).id;
    const members = [['周建国', 'chair'], ['李梅', 'member'], ['张强', 'member'], ['刘芳', 'member'], ['陈刚', 'member'], ['赵敏', 'supervisor']];
    for (const [name, role] of members) {
      await postJson(page, `/api/v1/funds/${fund}/committee`, { name, role, affiliation: '社区居委会', unpaid: true });
    }
  }, { shot: false });

  await step('record a donation of 1,000 yuan (receipt waived) on the fund page', async () => {
    assertStatus(await visit(page, `/charity/funds/${fund}`), 200, 'the fund');
    const form = page.locator('#donation-form');
    await form.locator('select[name="kind"]').selectOption('money');
    await form.locator('input[name="amount"]').fill('1000');
    await form.locator('input[name="donor_name"]').fill('刘女士');
    await form.locator('select[name="receipt"]').selectOption('waived');
    assertStatus(await clickAndWait(page, form.locator('button')), 200, 'recording the donation');
    assert.match(norm(await page.locator('#donation-rows').textContent()), /刘女士/);
  });

  await step('post a 微心愿 for a child (the note stays internal) and have it claimed', async () => {
    const form = page.locator('#wish-form');
    await form.locator('input[name="title"]').fill('想要一个新书包');
    await form.locator('input[name="category"]').fill('学习用品');
    await form.locator('input[name="value"]').fill('150');
    await form.locator('input[name="beneficiary_note"]').fill(SECRET);
    assertStatus(await clickAndWait(page, form.locator('button')), 200, 'posting the wish');
    const row = page.locator('#wish-rows tbody tr').filter({ hasText: '想要一个新书包' });
    await row.locator('input[name="claimant"]').fill('荷塘区青年志愿者协会');
    assertStatus(await clickAndWait(page, row.locator('button')), 200, 'claiming');
    assert.match(norm(await page.locator('#wish-rows').textContent()), /荷塘区青年志愿者协会/);
  });

  await step('disburse 150 yuan to the wish: proposed, approved by the committee\'s decision, paid', async () => {
    const form = page.locator('#disbursement-form');
    await form.locator('select[name="target_kind"]').selectOption('wish');
    await form.locator('select[name="wish_id"]').selectOption({ label: '想要一个新书包' });
    await form.locator('input[name="purpose"]').fill('购买书包一个');
    await form.locator('input[name="amount"]').fill('150');
    assertStatus(await clickAndWait(page, form.locator('button')), 200, 'proposing');
    const decision = page.locator('#disbursement-rows form.decision-form').first();
    await decision.locator('input[name="resolution_ref"]').fill('管委会2026年第1次会议决议');
    await decision.locator('select[name="decision"]').selectOption('approve');
    assertStatus(await clickAndWait(page, decision.locator('button')), 200, 'approving');
    const pay = page.locator('#disbursement-rows form.payment-form').first();
    await pay.locator('input[name="voucher_no"]').fill('付字2026-001');
    assertStatus(await clickAndWait(page, pay.locator('button')), 200, 'paying');
    assert.match(norm(await page.locator('#disbursement-rows').textContent()), /管委会2026年第1次会议决议/);
  });

  await step('the wish is fulfilled', async () => {
    const row = page.locator('#wish-rows tbody tr').filter({ hasText: '想要一个新书包' });
    assertStatus(await clickAndWait(page, row.locator('button')), 200, 'fulfilling');
    const state = norm(await page.locator('#wish-rows tbody tr').filter({ hasText: '想要一个新书包' }).locator('.wish-state').textContent());
    assert.equal(state, '已兑现', 'the wish is fulfilled');
  });

  await step('signed out, the portal discloses the fund: the wish and the payment, not the child', async () => {
    const { context: anon, page: pub } = await openSession(browser, server);
    try {
      assertStatus(await visit(pub, `/public/charity?region=${COUNTY}`), 200, 'the funds on the portal');
      await clickAndWait(pub, pub.locator('a').filter({ hasText: '株洲市慈善总会月塘街道社区慈善基金' }).first());
      assert.match(new URL(pub.url()).pathname, new RegExp(`^/public/charity/${fund}$`));
      assert.match(norm(await pub.locator('#public-wishes').textContent()), /想要一个新书包.*已兑现/);
      assert.match(norm(await pub.locator('#public-disbursements').textContent()), /150/);
      const body = await pub.locator('body').textContent();
      assert.ok(!body.includes('王小明') && !body.includes(SECRET), 'nothing of the child on the portal');
      await pub.screenshot({ path: 'target/browser-screenshots/charity-portal.png', fullPage: true });
    } finally {
      await anon.close();
    }
  });
});

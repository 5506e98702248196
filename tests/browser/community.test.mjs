// 急难愁盼 end to end (issue 16 acceptance) as a township's social worker: raise a red issue on
// the form, see it go overdue on the ledger (this server's policy gives red matters one minute),
// then verify, assign, handle and answer it with feedback, have it rated and see it turn green.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertStatus,
  clickAndWait,
  launchBrowser,
  openSession,
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
  server = await Server.start('community', {
    config: '[community.issue_due.default]\nred = { minutes = 1 }\nyellow = { working_days = 5 }\nblue = { hours = 8 }',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

test('a red issue goes overdue and is answered with feedback', { timeout: 300_000 }, async (t) => {
  const { context, page } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'community', () => page);
  const worker = uniqueName('zz_comm');
  const password = strongPassword();
  let issueUrl = '';

  await step('sign in as the township\'s social worker', async () => {
    await server.addUser({ username: worker, role: 'social_worker', region: TOWN, password, permanent: true });
    assertStatus(await signIn(page, worker, password), 200, 'sign-in');
  }, { shot: false });

  await step('a form with missing fields names each of them; then a red issue is raised', async () => {
    assertStatus(await visit(page, '/community-issues/new'), 200, 'the form');
    const form = page.locator('#issue-form');
    assertStatus(await clickAndWait(page, form.locator('#save')), 422, 'the empty form');
    for (const f of ['subject', 'origin', 'category', 'title', 'colour']) {
      assert.ok(await page.locator(`#${f}-error`).count(), `${f} named`);
    }
    await form.locator('select[name="subject"]').selectOption('community');
    await form.locator('input[name="region"]').fill(TOWN);
    await form.locator('select[name="origin"]').selectOption('resident_meeting');
    await form.locator('select[name="category"]').selectOption('utilities');
    await form.locator('select[name="colour"]').selectOption('red');
    await form.locator('input[name="title"]').fill('三单元楼道灯不亮');
    await form.locator('textarea[name="description"]').fill('老人夜间出行不便');
    assertStatus(await clickAndWait(page, form.locator('#save')), 200, 'raising it');
    issueUrl = new URL(page.url()).pathname;
    assert.match(issueUrl, /^\/community-issues\/[0-9a-f-]+$/);
    assert.equal(norm(await page.locator('#issue-colour').textContent()), '红色·紧急');
  });

  await step('past its one-minute due time, the ledger shows it overdue', async () => {
    await new Promise((r) => setTimeout(r, 62_000));
    assertStatus(await visit(page, '/community-issues?overdue=1'), 200, 'the overdue filter');
    const row = page.locator('#issues tbody tr').filter({ hasText: '三单元楼道灯不亮' });
    assert.equal(await row.count(), 1, 'listed as overdue');
    assert.match(norm(await row.textContent()), /超期/);
  });

  await step('verified, assigned to the community, handled and answered with feedback', async () => {
    assertStatus(await visit(page, issueUrl), 200, 'the issue');
    for (const [code, extra] of [['verify', null], ['assign', '月塘社区居委会'], ['handle', null]]) {
      const form = page.locator('#step-form');
      await form.locator('select[name="step"]').selectOption(code);
      if (extra) {
        await form.locator('select[name="responsibility"]').selectOption('community');
        await form.locator('input[name="handler"]').fill(extra);
      }
      assertStatus(await clickAndWait(page, form.locator('#step')), 200, code);
    }
    const form = page.locator('#step-form');
    await form.locator('select[name="step"]').selectOption('answer');
    assertStatus(await clickAndWait(page, form.locator('#step')), 422, 'an answer without its text');
    assert.ok(await page.locator('#step-error').count(), 'the note is asked for');
    await page.locator('#step-form select[name="step"]').selectOption('answer');
    await page.locator('#step-form input[name="note"]').fill('已联系物业更换灯泡，当晚恢复照明');
    assertStatus(await clickAndWait(page, page.locator('#step-form #step')), 200, 'answering');
    assert.match(norm(await page.locator('#issue-answer').textContent()), /更换灯泡/);
  });

  await step('rated satisfied by the resident: green on the ledger', async () => {
    await page.locator('#step-form select[name="step"]').selectOption('rate_satisfied');
    assertStatus(await clickAndWait(page, page.locator('#step-form #step')), 200, 'rating');
    assert.equal(norm(await page.locator('#issue-colour').textContent()), '绿色·已办结');
    assert.equal(await page.locator('#issue-steps tbody tr').count(), 6);
    assertStatus(await visit(page, '/community-issues/tally?period=month'), 200, 'the month\'s tally');
    assert.match(norm(await page.locator('#tally').textContent()), /月塘/);
  });

  await step('390 px: the ledger, the issue and the tally fit a phone (tables scroll in their own box)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const url of ['/community-issues', issueUrl, '/community-issues/tally', '/community-issues/new']) {
      assertStatus(await visit(page, url), 200, url);
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
      assert.ok(scroll <= width + 1, `${url} does not overflow at 390 px (scrollWidth ${scroll})`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

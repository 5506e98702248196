// 待办 (issue 17 item 1): a worker's plan waits in the supervisor's queue and bell; the supervisor
// opens it from the queue and returns it; at the worker's next sign-in the home page flags the
// returned plan and the bell counts it. The queue page holds at phone width.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  clickAndWait,
  eventually,
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
  server = await Server.start('todo');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** POST a form from inside the page (its session and CSRF token); the redirect's final URL. */
async function postForm(page, url, fields) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  const body = new URLSearchParams([['_csrf', token], ...fields]).toString();
  const r = await pageFetch(page, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  assert.ok(r.redirected && r.status === 200, `POST ${url}: ${r.status} ${r.text.slice(0, 400)}`);
  return new URL(r.url).pathname;
}

/** The option of a <select> whose label names this account. */
async function optionFor(page, select, username) {
  return page.locator(`${select} option`).evaluateAll(
    (opts, u) => opts.find((o) => o.textContent.includes(u))?.value ?? '',
    username,
  );
}

/** The bell's count once the page has asked the API for it. */
async function bellCount(page) {
  let n = 0;
  await eventually(async () => {
    const badge = page.locator('#todo-bell .bell-count');
    assert.equal(await badge.isHidden(), false, 'the bell shows a count');
    n = Number(await badge.textContent());
    assert.ok(n >= 1);
  });
  return n;
}

test('a returned plan moves from the supervisor\'s queue to the worker\'s, flagged at sign-in', { timeout: 300_000 }, async (t) => {
  const worker = uniqueName('zz_todo_w');
  const sup = uniqueName('zz_todo_s');
  const password = strongPassword();
  await server.addUser({ username: worker, role: 'social_worker', region: TOWN, password, permanent: true, name: '王芳' });
  await server.addUser({ username: sup, role: 'supervisor', region: '430202', password, permanent: true, name: '李督导' });
  const fx = {};

  {
    const { context, page } = await openSession(browser, server);
    const step = await steps(t, 'todo-worker', () => page);
    await step('the worker registers a resident, opens a case naming the supervisor, submits a plan', async () => {
      assertStatus(await signIn(page, worker, password), 200, 'sign-in');
      await visit(page, '/residents/new');
      const resident = await postForm(page, '/residents', [
        ['name', '赵桂兰'], ['birth_date', '1944-09-12'], ['region', TOWN],
        ['risk_tier', 'general'], ['legal_basis', 'statutory_duty'],
      ]);
      await visit(page, resident);
      const me = await optionFor(page, '#c-worker', worker);
      const supervisor = await optionFor(page, '#c-supervisor', sup);
      assert.ok(me && supervisor, 'both accounts are offered');
      fx.case = await postForm(page, `${resident}/cases`, [['problem', '独居，行动不便'], ['worker', me], ['supervisor', supervisor]]);
      assert.match(fx.case, /^\/cases\//);
      await visit(page, fx.case);
      const scores = ['daily_living', 'economic', 'health', 'psychological', 'social_support', 'safety'].map((d) => [`score_${d}`, '2']);
      await postForm(page, `${fx.case}/assess`, [...scores, ['risk', 'high']]);
      await visit(page, fx.case);
      await postForm(page, `${fx.case}/plan`, [['goals', '每周探访一次'], ['service_kind', 'visit'], ['per_month', '4']]);
    });
    await context.close();
  }

  {
    const { context, page } = await openSession(browser, server);
    const step = await steps(t, 'todo-supervisor', () => page);
    await step('the supervisor sees the plan in the bell and on the home page, opens it and returns it', async () => {
      assertStatus(await signIn(page, sup, password), 200, 'sign-in');
      assertPath(page, '/');
      await bellCount(page);
      const link = page.locator(`.todo-group[data-kind="plan_approval"] a[href="${fx.case}"]`);
      await clickAndWait(page, link);
      assertPath(page, fx.case);
      await page.fill('#comment', '目标不够具体，请补充探访安排');
      await clickAndWait(page, page.locator('button[name="decision"][value="return"]'));
      await visit(page, '/todo');
      assert.equal(await page.locator(`.todo-group[data-kind="plan_approval"] a[href="${fx.case}"]`).count(), 0, 'gone once returned');
    });
    await context.close();
  }

  {
    const { context, page } = await openSession(browser, server);
    const step = await steps(t, 'todo-returned', () => page);
    await step('at sign-in the worker lands on a home page that flags the returned plan; the bell counts it', async () => {
      assertStatus(await signIn(page, worker, password), 200, 'sign-in');
      assertPath(page, '/');
      const flagged = page.locator(`.todo-group[data-kind="plan_returned"] a[href="${fx.case}"]`);
      assert.equal(await flagged.count(), 1, 'the returned plan is on the home page');
      assert.equal((await flagged.textContent()).trim(), '赵桂兰');
      await bellCount(page);
    });
    await step('the queue page at phone width: no sideways scrolling', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await visit(page, '/todo');
      assert.equal(await page.locator(`.todo-group[data-kind="plan_returned"] a[href="${fx.case}"]`).count(), 1);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    });
    await context.close();
  }
});

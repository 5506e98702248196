// Creating an account through the form, with the region picker (cascading selects and search,
// crates/web/assets/app.js) choosing its scope.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  assertText,
  assertVisible,
  clickAndWait,
  eventually,
  launchBrowser,
  openSession,
  screenshot,
  signIn,
  steps,
  strongPassword,
  textOf,
  uniqueName,
  visit,
} from './helpers.mjs';

const HEJIATU_PATH = '湖南省 / 株洲市 / 芦淞区 / 贺家土街道';

let server;
let browser;

before(async () => {
  server = await Server.start('users');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** The picker's state: hidden value, and per select its accessible name and chosen label. */
async function pickerState(page) {
  return page.locator('.region-picker').first().evaluate((root) => ({
    busy: root.getAttribute('aria-busy'),
    value: root.querySelector('input[type="hidden"]').value,
    selects: Array.from(root.querySelectorAll('.region-selects select')).map((s) => ({
      label: s.getAttribute('aria-label'),
      chosen: s.value ? s.options[s.selectedIndex].text : '',
      options: s.options.length,
    })),
    resultsOpen: !root.querySelector('.region-results').hidden,
    error: root.querySelector('.region-error')?.hidden === false,
  }));
}

/** Wait until the picker is idle with `value` and the selects showing `chosen` (then a last, empty one if `more`). */
async function expectPicker(page, value, chosen, { more = false } = {}) {
  let state;
  try {
    await eventually(async () => {
      state = await pickerState(page);
      assert.equal(state.busy, 'false');
      assert.equal(state.value, value);
      const want = more ? [...chosen, ''] : chosen;
      assert.deepEqual(state.selects.map((s) => s.chosen), want);
      assert.equal(state.error, false);
    });
  } catch {
    assert.fail(
      `region picker: expected value ${value} and selects [${chosen.join(', ')}${more ? ', (choose)' : ''}], ` +
        `got ${JSON.stringify(state)}`,
    );
  }
  return state;
}

test('a city administrator creates a social worker, choosing the scope with the region picker', { timeout: 180_000 }, async (t) => {
  const admin = uniqueName('city');
  const adminPassword = strongPassword();
  const username = uniqueName('new_sw');
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'users-d-region-picker', () => page);
  let temporary = '';

  await step('create a civil-affairs administrator of 株洲市 (4302) (CLI)', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: '4302', password: adminPassword, permanent: true });
  }, { shot: false });

  await step('sign in', async () => {
    const res = await signIn(page, admin, adminPassword);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
    await assertText(page, '#home-scope', '湖南省 / 株洲市');
  });

  await step('the new-user form opens with the picker at 株洲市', async () => {
    const res = await visit(page, '/admin/users/new');
    assertStatus(res, 200, 'GET /admin/users/new');
    await assertText(page, 'main h1', '新建用户');
    // The administrator's own region, one select per level from the top of their scope, and a
    // select for the next level down (nothing chosen yet).
    const state = await expectPicker(page, '4302', ['株洲市'], { more: true });
    assert.deepEqual(state.selects.map((s) => s.label), ['市', '县（区）'], 'accessible names of the selects');
    assert.equal(state.selects[0].options, 2, 'the top select holds just 株洲市 (and 请选择)');
    await assertVisible(page, '#region-search');
  });

  await step('fill in username, name and role 社工站社工', async () => {
    await page.locator('#username').fill(username);
    await page.locator('#display_name').fill('贺小社');
    await page.locator('#role').selectOption({ label: '社工站社工' });
    assert.equal(await page.locator('#role').inputValue(), 'social_worker', 'role value');
  });

  const selects = page.locator('.region-picker .region-selects select');

  await step('choose 芦淞区, then 贺家土街道 in the cascading selects', async () => {
    await selects.nth(1).selectOption({ label: '芦淞区' });
    const state = await expectPicker(page, '430203', ['株洲市', '芦淞区'], { more: true });
    assert.equal(state.selects[2].label, '乡镇（街道）', 'accessible name of the township select');
    await selects.nth(2).selectOption({ label: '贺家土街道' });
    // Villages are not loaded, so the township is the last level.
    await expectPicker(page, '430203001', ['株洲市', '芦淞区', '贺家土街道']);
  });

  await step('choosing another county (石峰区) drops the township', async () => {
    await selects.nth(1).selectOption({ label: '石峰区' });
    await expectPicker(page, '430204', ['株洲市', '石峰区'], { more: true });
  });

  await step('the search box finds 贺家土 and lists 贺家土街道', async () => {
    await page.locator('#region-search').fill('贺家土');
    const option = page.locator('.region-picker .region-results li[role="option"]', { hasText: '贺家土街道' });
    await option.first().waitFor({ state: 'visible' });
    assert.equal(await option.first().textContent(), HEJIATU_PATH, 'the result shows the full path');
    assert.equal(await page.locator('#region-search').getAttribute('aria-expanded'), 'true', 'combobox expanded');
  });

  await step('picking the result sets 株洲市 / 芦淞区 / 贺家土街道', async () => {
    await page.locator('.region-picker .region-results li[role="option"]', { hasText: '贺家土街道' }).first().click();
    const state = await expectPicker(page, '430203001', ['株洲市', '芦淞区', '贺家土街道']);
    assert.equal(state.resultsOpen, false, 'the result list closes');
    assert.equal(await page.locator('#region-search').inputValue(), '', 'the search box is cleared');
  });

  await step('submit: the temporary password is shown once, with the notice 用户已创建。', async () => {
    const res = await clickAndWait(page, page.locator('main form.form button[type="submit"]'));
    assertStatus(res, 200, 'POST /admin/users');
    await assertText(page, '.alert-success', '用户已创建。');
    await assertVisible(page, '#temp-password');
    temporary = await textOf(page, '#temp-password');
    assert.ok(temporary.length >= 10, `a temporary password is shown, got "${temporary}"`);
    await assertText(page, 'main h1', username);
    assert.equal(await page.locator('#region').inputValue(), '430203001', 'the saved scope');
  });

  await step('the user list shows the new account with its scope', async () => {
    const res = await visit(page, '/admin/users');
    assertStatus(res, 200, 'GET /admin/users');
    const row = page.locator('#users tbody tr', { has: page.locator('td:first-child a', { hasText: username }) });
    assert.equal(await row.count(), 1, `the list should show ${username}`);
    const cells = (await row.locator('td').allTextContents()).map((s) => s.trim());
    assert.equal(cells[1], '贺小社', 'name');
    assert.equal(cells[2], '社工站社工', 'role');
    assert.equal(cells[3], HEJIATU_PATH, 'scope');
    assert.equal(cells[5], '待修改密码', 'status: must change the temporary password');
  });

  await step('the new user can sign in with the temporary password (and must change it)', async () => {
    const other = await openSession(browser, server);
    try {
      const res = await signIn(other.page, username, temporary);
      assertStatus(res, 200, 'sign-in of the new user');
      assertPath(other.page, '/account/password');
      await assertVisible(other.page, '#forced-change');
      await screenshot(other.page, 'users-d-region-picker-12-new-user-first-sign-in');
      assert.deepEqual(other.problems, []);
    } finally {
      await other.context.close();
    }
  }, { shot: false });

  await step('no script errors or CSP violations on the way', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

// Signing in: a new user's first login with a temporary password (forced change, field errors,
// the home page in Chinese and English), and the lockout after repeated wrong passwords.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  assertText,
  assertVisible,
  clickAndWait,
  launchBrowser,
  menuLinks,
  openSession,
  signIn,
  steps,
  strongPassword,
  textOf,
  uniqueName,
  visit,
} from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await Server.start('login');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a new user signs in, must change the temporary password, and finds the home page in both languages', { timeout: 180_000 }, async (t) => {
  const username = uniqueName('sw');
  const temporary = strongPassword();
  const chosen = strongPassword();
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'login-a-first-login', () => page);

  await step('create a social worker of 贺家土街道 with a temporary password (CLI)', async () => {
    const out = await server.addUser({ username, role: 'social_worker', region: '430203001', password: temporary });
    assert.match(out, /must be changed at first sign-in/, 'the CLI should say the password is temporary');
  }, { shot: false });

  await step('opening / leads to the Chinese login page', async () => {
    const res = await visit(page, '/');
    assertStatus(res, 200, 'GET / without a session');
    assertPath(page, '/login');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/', 'the login page should know where to go back to');
    assert.match(await page.title(), /社工站信息平台/, 'page title');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'page language');
    await assertText(page, 'h1.login-title', '社工站信息平台');
    await assertText(page, 'form[action="/login"] button[type="submit"]', '登录');
  });

  await step('signing in with the temporary password leads to the forced password change', async () => {
    const res = await signIn(page, username, temporary);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/account/password');
    await assertVisible(page, '#forced-change');
    assert.match(await textOf(page, '#forced-change'), /临时密码/, 'the forced-change notice');
    assert.deepEqual(await menuLinks(page), [], 'no menu while the password must be changed');
  });

  await step('other pages stay out of reach until the password is changed', async () => {
    const res = await visit(page, '/regions');
    assertStatus(res, 200, 'GET /regions');
    assertPath(page, '/account/password');
    await assertVisible(page, '#forced-change');
  });

  await step('a too-short new password is refused with the error beside the field', async () => {
    await page.locator('#current').fill(temporary);
    await page.locator('#new').fill('Ab1!xy');
    await page.locator('#confirm').fill('Ab1!xy');
    const res = await clickAndWait(page, page.locator('form[action="/account/password"] button[type="submit"]'));
    assertStatus(res, 422, 'submitting a too-short password');
    assertPath(page, '/account/password');
    await assertText(page, '#new-error', '密码太短。');
    // Beside the field: in the same form row, and tied to the input for screen readers.
    const row = page.locator('.form-row.has-error', { has: page.locator('#new') });
    assert.equal(await row.locator('#new-error').count(), 1, '#new-error should sit in the form row of #new');
    assert.equal(await page.locator('#new').getAttribute('aria-invalid'), 'true', '#new aria-invalid');
    assert.equal(await page.locator('#new').getAttribute('aria-describedby'), 'new-error', '#new aria-describedby');
    assert.equal(await page.locator('#current-error').count(), 0, 'the current password was right: no error there');
    await assertVisible(page, '#forced-change');
  });

  await step('a proper new password leads to the Chinese home page', async () => {
    await page.locator('#current').fill(temporary);
    await page.locator('#new').fill(chosen);
    await page.locator('#confirm').fill(chosen);
    const res = await clickAndWait(page, page.locator('form[action="/account/password"] button[type="submit"]'));
    assertStatus(res, 200, 'changing the password');
    assertPath(page, '/');
    await assertText(page, '#home-title', '首页');
    await assertText(page, '.alert-success', '密码已修改。');
    await assertText(page, '#home-scope', '湖南省 / 株洲市 / 芦淞区 / 贺家土街道');
    const menu = await menuLinks(page);
    assert.ok(menu.includes('行政区划'), `the menu should offer 行政区划, has: ${menu.join(', ')}`);
  });

  await step('the top bar link "English" switches to English', async () => {
    const link = page.locator('header.topbar .lang-switch a', { hasText: 'English' });
    const res = await clickAndWait(page, link);
    assertStatus(res, 200, 'switching to English');
    assertPath(page, '/');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'page language');
    await assertText(page, '#home-title', 'Home');
    const menu = await menuLinks(page);
    assert.ok(menu.includes('Regions'), `the menu should offer Regions, has: ${menu.join(', ')}`);
    assert.ok(!menu.includes('行政区划'), 'no Chinese menu entries left');
  });

  await step('the top bar link "中文" switches back to Chinese', async () => {
    const res = await clickAndWait(page, page.locator('header.topbar .lang-switch a', { hasText: '中文' }));
    assertStatus(res, 200, 'switching to Chinese');
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'page language');
    await assertText(page, '#home-title', '首页');
    assert.ok((await menuLinks(page)).includes('行政区划'), 'the menu should offer 行政区划 again');
  });

  await step('signing out and in again with the new password goes straight home', async () => {
    let res = await clickAndWait(page, page.locator('form[action="/logout"] button[type="submit"]'));
    assertStatus(res, 200, 'signing out');
    assertPath(page, '/login');
    res = await signIn(page, username, chosen);
    assertStatus(res, 200, 'signing in with the new password');
    assertPath(page, '/');
    await assertText(page, '#home-title', '首页');
    assert.equal(await page.locator('#forced-change').count(), 0, 'no forced change any more');
  });

  await step('no script errors or CSP violations on the way', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

test('five wrong passwords lock the account; then even the right one is refused', { timeout: 180_000 }, async (t) => {
  const username = uniqueName('lock');
  const password = strongPassword();
  const wrong = strongPassword();
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'login-b-lockout', () => page);

  await step('create a user with a permanent password (CLI)', async () => {
    await server.addUser({ username, role: 'social_worker', region: '430203', password, permanent: true });
  }, { shot: false });

  await step('four wrong passwords: "wrong username or password" each time', async () => {
    for (let i = 1; i <= 4; i++) {
      const res = await signIn(page, username, wrong);
      assertStatus(res, 401, `wrong password #${i}`);
      assertPath(page, '/login');
      await assertText(page, '#login-error', '用户名或密码错误。');
      assert.equal(await page.locator('#username').inputValue(), username, 'the username is kept in the form');
    }
  });

  await step('the fifth wrong password locks the account for 15 minutes', async () => {
    const res = await signIn(page, username, wrong);
    assertStatus(res, 401, 'wrong password #5');
    const msg = await textOf(page, '#login-error');
    assert.match(msg, /已锁定/, 'the lockout message');
    assert.match(msg, /15/, 'the lockout message names 15 minutes');
  });

  await step('the right password is refused with the lockout message', async () => {
    const res = await signIn(page, username, password);
    assertStatus(res, 401, 'right password while locked');
    assertPath(page, '/login');
    const msg = await textOf(page, '#login-error');
    assert.match(msg, /已锁定/, 'the lockout message');
    // Minutes left: rounded up, so 15 unless this test is very slow; never more.
    const minutes = Number(msg.match(/(\d+)\s*分钟/)?.[1]);
    assert.ok(minutes >= 1 && minutes <= 15, `minutes left should be 1–15, message: ${msg}`);
    const cookies = await page.context().cookies();
    assert.ok(!cookies.some((c) => c.name === 'sg_session' && c.value), 'no session cookie was set');
  });

  await step('still not signed in: / leads to the login page', async () => {
    await visit(page, '/');
    assertPath(page, '/login');
  });

  await step('no script errors or CSP violations on the way', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

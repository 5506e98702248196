// Data scope and CSRF as a browser sees them: a county user who types in another county's URL
// gets "not found" (page and API alike); a POST without the CSRF token is refused while the
// forms, which carry it, just work.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  assertText,
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

const NOT_FOUND = '页面不存在，或不在您的数据范围内。';

let server;
let browser;

before(async () => {
  server = await Server.start('scope');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a county user gets "not found" for another county, on the page and in the API', { timeout: 180_000 }, async (t) => {
  const username = uniqueName('county');
  const password = strongPassword();
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'scope-c-other-county', () => page);

  await step('create a civil-affairs administrator of 芦淞区 (430203) (CLI)', async () => {
    await server.addUser({ username, role: 'civil_affairs_admin', region: '430203', password, permanent: true });
  }, { shot: false });

  await step('sign in', async () => {
    const res = await signIn(page, username, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
    await assertText(page, '#home-title', '首页');
    await assertText(page, '#home-scope', '湖南省 / 株洲市 / 芦淞区');
  });

  await step('/regions/430203 shows 芦淞区 and its townships', async () => {
    const res = await visit(page, '/regions/430203');
    assertStatus(res, 200, 'GET /regions/430203');
    await assertText(page, 'main h1', '芦淞区');
    const children = page.locator('#region-children tbody tr');
    assert.ok((await children.count()) > 1, '芦淞区 has several townships');
    const row = children.filter({ hasText: '贺家土街道' });
    assert.equal(await row.count(), 1, 'the children include 贺家土街道');
    assert.equal(await row.locator('a').first().getAttribute('href'), '/regions/430203001', 'link to 贺家土街道');
  });

  await step('/regions/430204 (石峰区, another county) is "not found"', async () => {
    const res = await visit(page, '/regions/430204');
    assertStatus(res, 404, 'GET /regions/430204');
    await assertText(page, '.error-code', '404');
    await assertText(page, '.error-page p', NOT_FOUND);
    const body = await textOf(page, 'main');
    assert.ok(!body.includes('石峰区'), 'the page must not reveal the name of the other county');
  });

  await step('the API answers 404 for 430204 in the same session (and 200 for 430203)', async () => {
    const own = await pageFetch(page, '/api/v1/regions/430203', { headers: { Accept: 'application/json' } });
    assert.equal(own.status, 200, `GET /api/v1/regions/430203: ${own.text}`);
    assert.equal(own.json?.name, '芦淞区', 'own county by API');
    const other = await pageFetch(page, '/api/v1/regions/430204', { headers: { Accept: 'application/json' } });
    assert.equal(other.status, 404, `GET /api/v1/regions/430204: ${other.text}`);
    assert.equal(other.json?.code, 'not_found', 'problem code');
    assert.ok(!other.text.includes('石峰区'), 'the API must not reveal the name of the other county');
  }, { shot: false });

  await step('no script errors or CSP violations on the way', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

test('a POST without the CSRF token is refused; the forms carry it transparently', { timeout: 180_000 }, async (t) => {
  const username = uniqueName('csrf');
  const password = strongPassword();
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'scope-e-csrf', () => page);

  await step('create a social worker of 株洲市 (CLI)', async () => {
    await server.addUser({ username, role: 'social_worker', region: '4302', password, permanent: true });
  }, { shot: false });

  await step('sign in through the login form (it carries the token)', async () => {
    const res = await signIn(page, username, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
    await assertText(page, '#home-title', '首页');
  });

  await step("fetch('/logout', {method: 'POST'}) without the token gets 403", async () => {
    const r = await pageFetch(page, '/logout', { method: 'POST' });
    assert.equal(r.status, 403, 'POST /logout without a token');
    assert.equal(r.redirected, false, 'no redirect to the login page');
  }, { shot: false });

  await step('a wrong token in the X-CSRF-Token header also gets 403', async () => {
    const r = await pageFetch(page, '/logout', { method: 'POST', headers: { 'X-CSRF-Token': 'not-the-token' } });
    assert.equal(r.status, 403, 'POST /logout with a wrong token');
  }, { shot: false });

  await step('so the user is still signed in', async () => {
    const res = await visit(page, '/');
    assertStatus(res, 200, 'GET /');
    assertPath(page, '/');
    await assertText(page, '#home-title', '首页');
  });

  await step("the page's own token (as a script sends it) is accepted: signed out", async () => {
    const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
    assert.ok(token, 'the page carries its CSRF token for scripts');
    const r = await pageFetch(page, '/logout', { method: 'POST', headers: { 'X-CSRF-Token': token } });
    assert.equal(r.status, 200, 'POST /logout with the token, after its redirect');
    assert.equal(new URL(r.url).pathname, '/login', 'redirected to the login page');
    await visit(page, '/');
    assertPath(page, '/login');
  });

  await step('no script errors or CSP violations on the way', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

// Indicator trees (issue 14 item 5: "configurable indicator trees per region and version") as a
// city's civil-affairs administrator edits one in the browser: the list shows the national
// default, the editor opens pre-filled from it (core delivery measuring the core lines, its
// bands written out), a weight that breaks its sum is refused in the sum's row with what was
// typed kept, the corrected tree is saved as the city's first version with its own grade
// thresholds, and the tree page and the editor fit a 390 px screen (the node table scrolls in
// its own box).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
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

const CITY = '4302';
const NAME = '株洲市社工站服务评估指标';

let server;
let browser;

before(async () => {
  server = await Server.start('trees');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** The editor's row holding node `code`. */
function row(page, code) {
  return page.locator('#node-rows tbody tr').filter({ has: page.locator(`input[name$="_id"][value="${code}"]`) });
}

/** Whether the page is wider than its viewport. */
async function overflows(page) {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
}

test('a city edits its indicator tree as a new version', { timeout: 300_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'indicator-trees', () => page);
  const admin = uniqueName('zz_tree');
  const password = strongPassword();
  let treePath = '';

  await step('sign in as a civil-affairs administrator of 株洲市', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: CITY, password, permanent: true });
    const res = await signIn(page, admin, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
  });

  await step('/evaluations/trees lists the national default; the editor opens pre-filled from it', async () => {
    let res = await visit(page, '/evaluations/trees');
    assertStatus(res, 200, 'GET /evaluations/trees');
    assert.match(norm(await page.locator('#trees').textContent()), /全国默认/);
    res = await clickAndWait(page, page.locator('#new-tree'));
    assertStatus(res, 200, 'the editor');
    assert.equal(await page.locator('#t-region').inputValue(), CITY, 'the region defaults to the city');
    const core = row(page, 'core_delivery');
    assert.equal(await core.locator('select[name$="_measures"]').inputValue(), 'core');
    assert.equal(await core.locator('input[name$="_steps"]').inputValue(), '≥100%=100%；≥80%=2/3；≥60%=1/3');
  });

  await step('core delivery 160 points: refused in 核心项目\'s row, what was typed kept', async () => {
    await page.locator('#t-name').fill(NAME);
    await row(page, 'core_delivery').locator('input[name$="_max"]').fill('160');
    const res = await clickAndWait(page, page.locator('#save-tree'));
    assertStatus(res, 422, 'the unbalanced tree');
    const bad = row(page, 'core');
    assert.equal(await bad.getAttribute('class'), 'has-error');
    assert.match(norm(await bad.locator('.field-error').textContent()), /指标/);
    assert.equal(await row(page, 'core_delivery').locator('input[name$="_max"]').inputValue(), '160');
    assert.equal(await page.locator('#t-name').inputValue(), NAME);
  });

  await step('core quality 90 and 优秀 from 85: saved as 株洲市\'s v1', async () => {
    await row(page, 'core_quality').locator('input[name$="_max"]').fill('90');
    await page.locator('input[name="excellent_percent"]').fill('85');
    const res = await clickAndWait(page, page.locator('#save-tree'));
    assertStatus(res, 200, 'saving');
    treePath = new URL(page.url()).pathname;
    assert.match(treePath, /^\/evaluations\/trees\/[^/]+$/);
    assert.match(norm(await page.locator('h1').textContent()), new RegExp(`${NAME} v1`));
    assert.match(norm(await page.locator('#tree-grades').textContent()), /≥ 85%/);
    await visit(page, '/evaluations/trees');
    assert.match(norm(await page.locator('#trees').textContent()), /现行版本/);
  });

  await step('390 px: the tree page and the editor do not overflow (the node table scrolls in its box)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const p of ['/evaluations/trees', treePath, `/evaluations/trees/new?from=${treePath.split('/').pop()}`]) {
      const res = await visit(page, p);
      assertStatus(res, 200, `GET ${p}`);
      assert.equal(await overflows(page), false, `${p} overflows at 390 px`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(problems, [], 'no script errors');
  });
});

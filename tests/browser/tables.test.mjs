// Table tools and print layouts (issue 18, items 4 and 5) as a county civil-affairs office uses
// them on the resident list: sorting by a column header, the page size, selecting rows to export
// or to assign a responsible worker, the region tree beside the list, filters remembered per
// list (and reset), and the A4 print pages (no menu when printed), all without the page
// overflowing a 390 px phone.
//
// The residents come from the JSON API (fixtures, not the point); every step uses the pages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
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

const COUNTY = '430202';
const TOWN = '430202001';

let server;
let browser;

before(async () => {
  server = await Server.start('tables');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

async function postJson(page, url, body, expected = 201) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  const r = await pageFetch(page, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, expected, `POST ${url}: ${r.text}`);
  return r.json;
}

/** The birth dates shown in the resident list, in order. */
async function births(page) {
  return page.locator('#residents tbody tr td:nth-child(5)').allTextContents();
}

async function fitsPhone(page, url) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width + 1, `${url} does not overflow at 390 px (scrollWidth ${scroll})`);
}

test('the resident list sorts, pages, selects, filters by the region tree, remembers filters and prints', { timeout: 300_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'tables', () => page);
  const admin = uniqueName('zz_tab');
  const worker = uniqueName('zz_tabw');
  const workerName = `批量社工${worker.slice(-4)}`;
  const password = strongPassword();
  const ids = [];

  await step('sign in as the county office; twelve residents on file', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: COUNTY, password, permanent: true });
    await server.addUser({ username: worker, role: 'social_worker', region: TOWN, password, permanent: true, name: workerName });
    assertStatus(await signIn(page, admin, password), 200, 'sign-in');
    for (let i = 0; i < 12; i += 1) {
      const body = await postJson(page, '/api/v1/residents', {
        name: `表格${String.fromCharCode(0x4e00 + i * 7)}`,
        birth_date: `19${40 + i}-0${1 + (i % 9)}-15`,
        region: TOWN,
        risk_tier: 'general',
        legal_basis: 'statutory_duty',
        phone: '13812345678',
        confirm_duplicates: true,
      });
      ids.push(body.id);
    }
  }, { shot: false });

  await step('a column header sorts (ascending, then descending on a second click)', async () => {
    assertStatus(await visit(page, '/residents?per_page=50'), 200, 'the list');
    assertStatus(await clickAndWait(page, page.locator('#residents th[data-sort="birth_date"] a')), 200, 'sorted');
    assert.match(page.url(), /sort=birth_date/);
    assert.equal(await page.locator('#residents th[data-sort="birth_date"]').getAttribute('aria-sort'), 'ascending');
    let b = await births(page);
    assert.deepEqual(b, [...b].sort());
    assert.equal(b[0].slice(0, 4), '1940');
    assertStatus(await clickAndWait(page, page.locator('#residents th[data-sort="birth_date"] a')), 200, 'reversed');
    assert.equal(await page.locator('#residents th[data-sort="birth_date"]').getAttribute('aria-sort'), 'descending');
    b = await births(page);
    assert.equal(b[0].slice(0, 4), '1951');
  });

  await step('the page size: 10 a page, the order kept, page 2 holds the rest', async () => {
    await Promise.all([page.waitForURL(/per_page=10/), page.locator('#per-page').selectOption('10')]);
    assert.match(page.url(), /sort=-birth_date/);
    assert.equal(await page.locator('#residents tbody tr').count(), 10);
    assertStatus(await clickAndWait(page, page.locator('.pager a[rel="next"]')), 200, 'page 2');
    assert.equal(await page.locator('#residents tbody tr').count(), 2);
    assert.match(page.url(), /per_page=10/);
  });

  await step('select two rows: export them, and assign them a responsible worker', async () => {
    assertStatus(await visit(page, '/residents?sort=birth_date&per_page=20'), 200, 'the list');
    const bar = page.locator('form.batch-bar');
    assert.equal(norm(await bar.locator('.batch-count').textContent()), '未选择');
    assert.equal(await page.locator('#assign-selected').isDisabled(), true);
    const boxes = page.locator('#residents tbody input[data-row]');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    assert.equal(norm(await bar.locator('.batch-count').textContent()), '已选 2 条');
    const href = await page.locator('#export-selected').getAttribute('href');
    const chosen = [await boxes.nth(0).getAttribute('value'), await boxes.nth(1).getAttribute('value')];
    assert.equal(decodeURIComponent(href.split('ids=')[1]), chosen.join(','));
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export-selected').click()]);
    assert.match(download.suggestedFilename(), /\.xlsx$/);
    const file = await pageFetch(page, href);
    assert.equal(file.status, 200);
    // Select all on the page, then back to two.
    await page.locator('#residents thead input[data-all]').check();
    assert.equal(norm(await bar.locator('.batch-count').textContent()), '已选 12 条');
    await page.locator('#residents thead input[data-all]').uncheck();
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    const option = page.locator('#batch-worker option', { hasText: workerName });
    await page.locator('#batch-worker').selectOption(await option.first().getAttribute('value'));
    assertStatus(await clickAndWait(page, page.locator('#assign-selected')), 200, 'assigned');
    assert.match(page.url(), /notice=notice\.saved/);
    assertStatus(await visit(page, '/residents?sort=birth_date&per_page=20'), 200, 'the list again');
    const workers = await page.locator('#residents tbody tr td:nth-child(9)').allTextContents();
    assert.equal(workers.filter((w) => norm(w) === workerName).length, 2, workers.join('|'));
  });

  await step('the region tree beside the list: expand the county lazily and filter by a township', async () => {
    assertStatus(await visit(page, '/residents?status=active'), 200, 'the list');
    const tree = page.locator('aside.region-tree');
    await eventually(async () => assert.ok(await tree.locator('.tree-root > li[data-code]').count() >= 1));
    const top = tree.locator('.tree-root > li[data-code]').first();
    await top.locator('button.twisty').click();
    const town = tree.locator(`li[data-code="${TOWN}"] > a.tree-label`);
    await eventually(async () => assert.equal(await town.count(), 1));
    await Promise.all([page.waitForURL(new RegExp(`region=${TOWN}`)), town.click()]);
    assert.match(page.url(), /status=active/);
    assert.equal(await page.locator('#residents tbody tr').count(), 12);
    // The chosen region is marked once the tree has loaded again.
    await eventually(async () => assert.ok(await page.locator('aside.region-tree a.current').count() >= 1));
  });

  await step('filters are remembered per list and restored without a query; reset forgets them', async () => {
    assertStatus(await visit(page, '/residents?tier=general&sort=-birth_date'), 200, 'filtered');
    await page.goto('/cases');
    await page.goto('/residents');
    await page.waitForURL(/tier=general/);
    assert.match(page.url(), /sort=-birth_date/);
    await page.locator('#f-tier').waitFor();
    assert.equal(await page.locator('#f-tier').inputValue(), 'general');
    await Promise.all([page.waitForURL((u) => u.pathname === '/residents' && u.search === ''), page.locator('a[data-reset]').click()]);
    await page.goto('/residents');
    await page.waitForLoadState('load');
    assert.equal(new URL(page.url()).search, '');
  });

  await step('print: the registration form is A4, masked, and prints without the menu or toolbar', async () => {
    assertStatus(await visit(page, `/residents/${ids[0]}`), 200, 'the file');
    assert.equal(await page.locator('#print-link').getAttribute('href'), `/residents/${ids[0]}/print`);
    assertStatus(await visit(page, `/residents/${ids[0]}/print`), 200, 'the form');
    assert.equal(norm(await page.locator('#sheet-title').textContent()), '服务对象登记表');
    assert.equal(norm(await page.locator('#p-phone').textContent()), '138****5678');
    assert.equal(await page.locator('#signatures .sign-box').count(), 3);
    assert.equal(await page.locator('.sidebar').count(), 0);
    assert.equal(await page.locator('.print-toolbar').isVisible(), true);
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('.print-toolbar').isVisible(), false);
    assert.equal(await page.locator('#sheet').isVisible(), true);
    const pageRule = await page.evaluate(() => [...document.styleSheets].some((s) => {
      try {
        return [...s.cssRules].some((r) => r.type === CSSRule.PAGE_RULE && /A4/i.test(r.style.getPropertyValue('size') || r.cssText));
      } catch {
        return false;
      }
    }));
    assert.ok(pageRule, 'an @page rule sizes the sheet A4');
    // A list printed: no menu, no tree, no selection column.
    assertStatus(await visit(page, '/residents?status=active'), 200, 'the list');
    for (const sel of ['.sidebar', 'aside.region-tree', 'form.batch-bar', '#residents th.pick']) {
      assert.equal(await page.locator(sel).first().isVisible(), false, `${sel} hidden in print`);
    }
    await page.emulateMedia({ media: 'screen' });
    assert.equal(await page.locator('.sidebar').isVisible(), true);
    // Revealing in full takes a reason (audited, as on the file).
    assertStatus(await visit(page, `/residents/${ids[0]}/print`), 200, 'the form');
    await page.locator('#reason').fill('入户核对');
    assertStatus(await clickAndWait(page, page.locator('#reveal')), 200, 'revealed');
    assert.match(norm(await page.locator('#p-phone').textContent()), /13812345678$/);
  });

  await step('390 px: the list, with its tree and batch bar, and the print page fit a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const url of ['/residents?status=active', `/residents/${ids[0]}/print`, '/services', '/cases', '/inspections']) {
      assertStatus(await visit(page, url), 200, url);
      await fitsPhone(page, url);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  assert.deepEqual(problems, []);
});

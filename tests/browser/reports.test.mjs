// Hierarchical reporting end to end (issue 17 acceptance): a township submits its monthly report
// (opened with the period picker, a manual line typed, signed off), the county returns it with a
// reason, the township fixes the line and resubmits, the county approves, sums up and submits its
// own report, the city approves it and sees the sum in its report. Pages fit a 390 px phone.

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
const COUNTY = '430202';
const CITY = '4302';
const PERIOD = '2026-04';

let server;
let browser;

before(async () => {
  server = await Server.start('reports');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** A signed-in page for a new civil-affairs administrator of `region`. */
async function session(t, region) {
  const { context, page } = await openSession(browser, server);
  t.after(() => context.close());
  const username = uniqueName(`zz_rep${region}`);
  const password = strongPassword();
  await server.addUser({ username, role: 'civil_affairs_admin', region, password, permanent: true, name: `负责人${region}` });
  assertStatus(await signIn(page, username, password), 200, `sign-in of ${region}`);
  return page;
}

/** Open (or start) the unit's report for the period with the picker on /reports. */
async function openReport(page, region) {
  assertStatus(await visit(page, '/reports'), 200, 'the reports list');
  const form = page.locator('#open-form');
  await form.locator('select[name="template"]').selectOption('station_monthly');
  await form.locator('input[name="region"]').fill(region);
  await form.locator('input[name="period"]').fill(PERIOD);
  assertStatus(await clickAndWait(page, form.locator('#open')), 200, 'opening the report');
  assert.match(new URL(page.url()).pathname, /^\/reports\/[0-9a-f-]+$/);
}

async function act(page, action, reason) {
  const form = page.locator(`#act-${action}`);
  if (reason !== undefined) {
    await form.locator('input[name="reason"]').fill(reason);
  }
  assertStatus(await clickAndWait(page, form.locator(`#do-${action}`)), 200, action);
}

const stateOf = async (page) => norm(await page.locator('#report-state').textContent());
// The line's figure (for a level with units below: its own typed figure plus theirs).
const dibao = async (page) => norm(await page.locator('#line-affairs_dibao_changes .line-value').textContent());

test('a monthly report is returned, fixed, approved and summed up to the city', { timeout: 300_000 }, async (t) => {
  let current = null;
  const step = await steps(t, 'reports', () => current);
  let town;
  let county;
  let city;
  let townUrl = '';

  await step('the township opens April with the period picker, types a manual line and submits', async () => {
    town = current = await session(t, TOWN);
    await openReport(town, TOWN);
    townUrl = new URL(town.url()).pathname;
    assert.equal(await stateOf(town), '草稿');
    assert.match(norm(await town.locator('#line-visits').textContent()), /台账统计/, 'computed lines say their source');
    await town.locator('#v-affairs_dibao_changes').fill('2');
    assertStatus(await clickAndWait(town, town.locator('#save-values')), 200, 'saving');
    await act(town, 'submit');
    assert.equal(await stateOf(town), '已提交');
    assert.match(norm(await town.locator('#signed').textContent()), new RegExp(`负责人${TOWN}`));
  });

  await step('the county finds it and returns it with a reason', async () => {
    county = current = await session(t, COUNTY);
    assertStatus(await visit(county, `/reports?period=${PERIOD}&state=submitted`), 200, 'the filtered list');
    const row = county.locator('#reports tbody tr').filter({ hasText: PERIOD });
    assert.equal(await row.count(), 1);
    assertStatus(await clickAndWait(county, row.locator('a').first()), 200, 'the report');
    assert.equal(await county.locator('#act-submit').count(), 0, 'the county does not submit for the township');
    await act(county, 'return', '低保变动数应为 3 户');
    assert.equal(await stateOf(county), '退回');
  });

  await step('the township sees the reason, fixes the line and resubmits', async () => {
    current = town;
    assertStatus(await visit(town, townUrl), 200, 'the report');
    assert.equal(await stateOf(town), '退回');
    assert.equal(norm(await town.locator('#return-reason').textContent()), '低保变动数应为 3 户');
    await town.locator('#v-affairs_dibao_changes').fill('3');
    assertStatus(await clickAndWait(town, town.locator('#save-values')), 200, 'saving');
    await act(town, 'submit');
    assert.equal(await stateOf(town), '已提交');
  });

  await step('the county approves, opens its own report (the sum) and submits it', async () => {
    current = county;
    assertStatus(await visit(county, townUrl), 200, 'the report');
    await act(county, 'approve');
    assert.equal(await stateOf(county), '已通过');
    await openReport(county, COUNTY);
    assert.equal(await dibao(county), '3');
    assert.equal(await county.locator('#v-affairs_dibao_changes').inputValue(), '0', 'the county types only its own');
    const row = county.locator('#report-children tbody tr').filter({ hasText: '月塘街道' });
    assert.match(norm(await row.textContent()), /已通过/);
    await act(county, 'submit');
    assert.equal(await stateOf(county), '已提交');
  });

  await step('the city approves the county and sees the sum in its own report', async () => {
    city = current = await session(t, CITY);
    assertStatus(await visit(city, `/reports?period=${PERIOD}&state=submitted`), 200, 'the list');
    const row = city.locator('#reports tbody tr').filter({ hasText: '荷塘区' });
    assertStatus(await clickAndWait(city, row.locator('a').first()), 200, 'the county report');
    await act(city, 'approve');
    assert.equal(await stateOf(city), '已通过');
    await openReport(city, CITY);
    assert.equal(await dibao(city), '3', 'the city sees the sum');
    assert.equal(await stateOf(city), '草稿');
  });

  await step('the township report is locked now; its print page carries title, unit and period', async () => {
    current = town;
    assertStatus(await visit(town, townUrl), 200, 'the report');
    assert.equal(await stateOf(town), '已锁定');
    assertStatus(await visit(town, `${townUrl}/print`), 200, 'print');
    assert.equal(norm(await town.locator('#sheet-title').textContent()), '社会工作站月报');
    assert.equal(norm(await town.locator('#sheet-period').textContent()), PERIOD);
  });

  await step('390 px: the list and the report fit a phone (tables scroll in their own box)', async () => {
    await town.setViewportSize({ width: 390, height: 844 });
    for (const url of ['/reports', townUrl]) {
      assertStatus(await visit(town, url), 200, url);
      const [scroll, width] = await town.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(scroll <= width + 1, `${url} does not overflow at 390 px (scrollWidth ${scroll})`);
    }
  });
});

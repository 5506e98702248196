// The import meets the sheet (issue 13): a list with a title line, a column the template does
// not know and no status or operating-mode column is uploaded; the preview lists every column
// with its field, the user maps the unknown column and gives one value for all rows of each
// missing field, previews again, commits; the same sheet uploaded again comes with the mapping
// remembered and nothing to import twice.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  assertVisible,
  clickAndWait,
  launchBrowser,
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
let tmp;

before(async () => {
  server = await Server.start('import');
  browser = await launchBrowser();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'shegong-import-'));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) {
    await rm(tmp, { recursive: true, force: true });
  }
});

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** The sheet column → chosen field of the mapping table, as { header: field key }. */
async function mapping(page) {
  return page.locator('#mapping tbody tr').evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [r.cells[1].textContent.trim(), r.querySelector('select').value])),
  );
}

async function counts(page) {
  return (await page.locator('#import-counts .tag').allTextContents()).map(norm);
}

test('an office sheet is mapped, given defaults, committed and recognised the next time', { timeout: 180_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'import-mapping', () => page);
  const username = uniqueName('zz_import');
  const password = strongPassword();
  let file;

  await step('a civil-affairs administrator of 株洲市 signs in', async () => {
    await server.addUser({ username, role: 'civil_affairs_admin', region: '4302', password, permanent: true });
    const res = await signIn(page, username, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
  }, { shot: false });

  await step('write the office sheet: a title line, 所在乡镇（街道）, 站点名称, 门牌位置 and 负责人; no status or mode', async () => {
    const lines = [
      '芦淞区社工站建设情况表',
      '所在乡镇（街道）,站点名称,门牌位置,负责人',
      '芦淞区建宁街道,建宁街道社工站,建宁路8号,张三',
      '芦淞区枫溪街道,枫溪街道社工站,枫溪大道1号,李四',
    ];
    file = path.join(tmp, '芦淞区.csv');
    await writeFile(file, `\uFEFF${lines.join('\r\n')}\r\n`, 'utf8');
  }, { shot: false });

  await step('upload it: every column with its field, the missing fields named, every row previewed', async () => {
    await visit(page, '/stations/import');
    await page.locator('#file').setInputFiles(file);
    const res = await clickAndWait(page, page.locator('#upload'));
    assertStatus(res, 200, 'upload');
    const m = await mapping(page);
    // Headers show as read (full-width brackets become half-width).
    assert.equal(m['所在乡镇(街道)'], 'township');
    assert.equal(m['站点名称'], 'name');
    assert.equal(m['门牌位置'], '', '门牌位置 matches no field by itself');
    assert.equal(m['负责人'], '');
    await assertVisible(page, '#import-missing');
    const missing = await textOf(page, '#import-missing');
    assert.ok(missing.includes('建设状态') && missing.includes('运营方式'), missing);
    assert.deepEqual(await counts(page), ['新增 0', '更新 0', '无变化 0', '有误 2']);
  });

  await step('map 门牌位置 to 详细地址, give 运营中 and 乡镇直接聘用 for all rows, preview again', async () => {
    const row = page.locator('#mapping tbody tr', { hasText: '门牌位置' });
    await row.locator('select').selectOption('address');
    await page.locator('select[name="default.status"]').selectOption('operating');
    await page.locator('select[name="default.mode"]').selectOption('direct');
    const res = await clickAndWait(page, page.locator('#apply-mapping'));
    assertStatus(res, 200, 'preview with the mapping');
    assert.equal((await mapping(page))['门牌位置'], 'address');
    assert.equal(await page.locator('#import-missing').count(), 0, 'nothing required is missing now');
    assert.deepEqual(await counts(page), ['新增 2', '更新 0', '无变化 0', '有误 0']);
  });

  await step('commit: two stations, with the address from 门牌位置', async () => {
    const res = await clickAndWait(page, page.locator('#commit-valid'));
    assertStatus(res, 200, 'commit');
    assertPath(page, '/stations');
    assert.equal(await textOf(page, '#import-summary'), '导入完成：新增 2，更新 0，未变 0，跳过有误的 0 行。');
    const api = await page.evaluate(async () => (await fetch('/api/v1/stations?sort=name')).json());
    assert.equal(api.total, 2);
    assert.deepEqual(api.items.map((s) => [s.name, s.status, s.mode, s.address]).sort(), [
      ['建宁街道社工站', 'operating', 'direct', '建宁路8号'],
      ['枫溪街道社工站', 'operating', 'direct', '枫溪大道1号'],
    ]);
  });

  await step('the same sheet again: the mapping is remembered, nothing is imported twice', async () => {
    await visit(page, '/stations/import');
    await page.locator('#file').setInputFiles(file);
    const res = await clickAndWait(page, page.locator('#upload'));
    assertStatus(res, 200, 'upload again');
    assert.equal((await mapping(page))['门牌位置'], 'address');
    assert.equal(await page.locator('#import-missing').count(), 0);
    assert.deepEqual(await counts(page), ['新增 0', '更新 0', '无变化 2', '有误 0']);
  });

  assert.deepEqual(problems, [], 'no console errors or failed requests');
});

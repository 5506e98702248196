// A social worker as a city office registers one: the staff form (an ID number with a wrong
// check character refused beside its field, the valid one masked afterwards, sex and birth date
// taken from it, the work region chosen with the region picker), a certificate with its
// registration period and continuing-education status, revealing the full ID number and mobile
// for a stated reason, the list and the find-by-ID form (a POST: the number never enters a URL),
// and the reveal as the auditor finds it in the audit log (with its reason, without the number).

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
  signIn,
  steps,
  strongPassword,
  textOf,
  uniqueName,
  visit,
} from './helpers.mjs';

const NAME = '王丽';
/** GB 11643's own example: a woman born 1949-12-31 in 北京市朝阳区. */
const ID_NUMBER = '11010519491231002X';
const ID_MASKED = '1101**********002X';
/** The right check character would be X, not 3. */
const WRONG_ID = '340524198001010013';
const MOBILE_TYPED = '138 1234 5678';
const MOBILE = '13812345678';
const MOBILE_MASKED = '138****5678';
const HEJIATU_PATH = '湖南省 / 株洲市 / 芦淞区 / 贺家土街道';
const CERT_LEVEL = '助理社会工作师';
const CERT_NUMBER = 'ZS2025430203017';
const REASON = '核对社保参保信息';
/** The full values as they could appear anywhere (an x typed in lower case, the +86 form). */
const SECRETS = [ID_NUMBER, ID_NUMBER.toLowerCase(), WRONG_ID, MOBILE];

let server;
let browser;

before(async () => {
  server = await Server.start('staff');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// ---------------------------------------------------------------------------
// Dates (the server's "today" is China Standard Time)
// ---------------------------------------------------------------------------

const pad = (n) => String(n).padStart(2, '0');
const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const daysIn = (y, m) => [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];

function todayInChina() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

/** The same day `months` earlier (clamped to the month's end, never 29 February). */
function monthsBefore(iso, months) {
  let [y, m, d] = iso.split('-').map(Number);
  m -= months;
  while (m < 1) {
    m += 12;
    y -= 1;
  }
  d = Math.min(d, daysIn(y, m), m === 2 ? 28 : 31);
  return `${y}-${pad(m)}-${pad(d)}`;
}

/** The same day `years` later; 29 February becomes 28 February in common years (as the server does). */
function yearsAfter(iso, years) {
  const [y, m, d] = iso.split('-').map(Number);
  const day = m === 2 && d === 29 && !isLeap(y + years) ? 28 : d;
  return `${y + years}-${pad(m)}-${pad(day)}`;
}

// ---------------------------------------------------------------------------
// Page helpers
// ---------------------------------------------------------------------------

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** The picker's state: hidden value, and per select its accessible name and chosen label. */
async function pickerState(page) {
  return page.locator('.region-picker').first().evaluate((root) => ({
    busy: root.getAttribute('aria-busy'),
    value: root.querySelector('input[type="hidden"]').value,
    selects: Array.from(root.querySelectorAll('.region-selects select')).map((s) => ({
      label: s.getAttribute('aria-label'),
      chosen: s.value ? s.options[s.selectedIndex].text : '',
    })),
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

/** The label of the chosen option of a <select>. */
async function chosenLabel(page, selector) {
  return page.locator(selector).evaluate((s) => (s.selectedIndex >= 0 ? s.options[s.selectedIndex].text.trim() : ''));
}

/** Ids of the fields shown with an error on the form (`.has-error` rows). */
async function fieldsWithErrors(page) {
  return page.locator('main form.form .has-error').evaluateAll((rows) =>
    rows.map((r) => r.querySelector('[id$="-error"]')?.id ?? r.querySelector('.field-error')?.textContent.trim()),
  );
}

/** The cells of every body row of `selector` (whitespace-normalised text). */
async function tableRows(page, selector) {
  await page.locator(selector).first().waitFor({ state: 'attached' });
  return page.locator(`${selector} tbody tr`).evaluateAll((rows) =>
    rows.map((r) => Array.from(r.cells).filter((c) => !c.classList.contains('pick')).map((c) => c.textContent.replace(/\s+/g, ' ').trim())),
  );
}

/** The value beside `label` in the person's details (dl.kv). */
function detail(page, label) {
  return textOf(page, `dl.kv dt:text-is("${label}") + dd`);
}

/** Which of the full identity values `text` contains. */
function secretsIn(text) {
  return SECRETS.filter((s) => text.includes(s));
}

/**
 * Every URL the page asked for (method and URL), so a step can check that no identity number
 * ever entered one: navigations, redirects, assets and fetches alike.
 */
function recordRequests(page) {
  const requests = [];
  page.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
  return requests;
}

function assertNoSecretInUrls(page, requests) {
  assert.deepEqual(secretsIn(decodeURIComponent(page.url())), [], `the address bar shows ${page.url()}`);
  const leaking = requests.filter((r) => secretsIn(decodeURIComponent(r)).length > 0);
  assert.deepEqual(leaking, [], 'no request URL may contain an identity number or the full mobile');
}

/** Log in the submitted form's refusal (a 422 on a form that should have been accepted). */
async function failWithFormErrors(page, what) {
  const errors = await page.locator('main form.form .field-error:visible').allTextContents();
  assert.fail(`${what} was refused (422): ${(await fieldsWithErrors(page)).join(', ')}: ${errors.map(norm).join(' | ')}`);
}

// ---------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------

test('a city administrator registers a certified social worker, reveals the ID with a reason; the auditor finds the reveal', { timeout: 240_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const requests = recordRequests(page);
  const step = await steps(t, 'staff-a-register-reveal-audit', () => page);
  const selects = page.locator('.region-picker .region-selects select');

  const admin = uniqueName('zz_admin');
  const adminPassword = strongPassword();
  const auditor = uniqueName('zz_audit');
  const auditorPassword = strongPassword();
  const today = todayInChina();
  const obtained = monthsBefore(today, 6);
  const until = yearsAfter(obtained, 3);
  let personPath = '';

  await step('create a civil-affairs administrator and an auditor of 株洲市 (4302) (CLI)', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: '4302', password: adminPassword, permanent: true });
    await server.addUser({ username: auditor, role: 'auditor', region: '4302', password: auditorPassword, permanent: true });
  }, { shot: false });

  await step('sign in as the administrator', async () => {
    const res = await signIn(page, admin, adminPassword);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
    await assertText(page, '#home-scope', '湖南省 / 株洲市');
  });

  await step('/staff: 登记人员 opens the form (居民身份证, 一线社工, 项目购买 by default; picker at 株洲市)', async () => {
    let res = await visit(page, '/staff');
    assertStatus(res, 200, 'GET /staff');
    res = await clickAndWait(page, page.locator('#new-staff'));
    assertStatus(res, 200, 'GET /staff/new');
    assertPath(page, '/staff/new');
    await assertText(page, 'main h1', '登记人员');
    assert.equal(await chosenLabel(page, '#id_type'), '居民身份证', 'default 证件类型');
    assert.equal(await chosenLabel(page, '#role'), '一线社工', 'default 岗位');
    assert.equal(await chosenLabel(page, '#employment_mode'), '项目购买', 'default 用工方式');
    assert.equal(await chosenLabel(page, '#station'), '（无）', 'no station to choose yet');
    assert.equal(await page.locator('#joined_on').inputValue(), today, '入职日期 defaults to today');
    await expectPicker(page, '4302', ['株洲市'], { more: true });
  });

  await step(`save ${NAME} with a wrong check character: 422, the error beside the ID field, the name kept`, async () => {
    await page.locator('#name').fill(NAME);
    await page.locator('#id_number').fill(WRONG_ID);
    const res = await clickAndWait(page, page.locator('#save-staff'));
    assertStatus(res, 422, 'POST /staff with a wrong check character');
    assertPath(page, '/staff');
    await assertVisible(page, '.alert-error');
    await assertVisible(page, '#id_number-error');
    const error = await textOf(page, '#id_number-error');
    assert.ok(error.includes('校验'), `#id_number-error should mention 校验, got "${error}"`);
    assert.equal(await page.locator('#id_number').getAttribute('aria-invalid'), 'true', '#id_number is marked invalid');
    assert.equal(await page.locator('#id_number').getAttribute('aria-describedby'), 'id_number-error', '#id_number points at its error');
    assert.equal(
      await page.locator('.form-row.has-error', { has: page.locator('#id_number') }).locator('#id_number-error').count(),
      1,
      'the error sits in the row of the ID field',
    );
    assert.deepEqual(await fieldsWithErrors(page), ['id_number-error'], 'only the ID field has an error');
    assert.equal(await page.locator('#name').inputValue(), NAME, 'the name is kept');
    // The refused number is not echoed back into the page (it has to be typed again).
    assert.equal(await page.locator('#id_number').inputValue(), '', 'the ID field is emptied');
    assert.deepEqual(secretsIn(await page.content()), [], 'the page source holds no identity number');
    await expectPicker(page, '4302', ['株洲市'], { more: true });
  });

  await step(`enter ${ID_NUMBER}, mobile "${MOBILE_TYPED}", 一线社工, 项目购买; region 芦淞区 → 贺家土街道`, async () => {
    await page.locator('#id_number').fill(ID_NUMBER);
    await page.locator('#mobile').fill(MOBILE_TYPED);
    await page.locator('#role').selectOption({ label: '一线社工' });
    await page.locator('#employment_mode').selectOption({ label: '项目购买' });
    await selects.nth(1).selectOption({ label: '芦淞区' });
    await expectPicker(page, '430203', ['株洲市', '芦淞区'], { more: true });
    await selects.nth(2).selectOption({ label: '贺家土街道' });
    await expectPicker(page, '430203001', ['株洲市', '芦淞区', '贺家土街道']);
    assert.equal(await page.locator('#role').inputValue(), 'frontline', 'role value');
    assert.equal(await page.locator('#employment_mode').inputValue(), 'project_purchase', 'employment value');
    assert.equal(await page.locator('#sex').inputValue(), '', '性别 left to the number');
    assert.equal(await page.locator('#birth_date').inputValue(), '', '出生日期 left to the number');
  });

  await step('save: the person\'s page, ID and mobile masked, 女 and 1949-12-31 taken from the number', async () => {
    const res = await clickAndWait(page, page.locator('#save-staff'));
    if (res?.status() === 422) {
      await failWithFormErrors(page, 'the staff form');
    }
    assertStatus(res, 200, 'POST /staff');
    personPath = new URL(page.url()).pathname;
    assert.match(personPath, /^\/staff\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, `should land on the person's page, not ${page.url()}`);
    await assertText(page, '.alert-success', '已保存。');
    const h1 = await textOf(page, 'main h1');
    assert.ok(h1.startsWith(NAME) && h1.includes('在岗'), `h1 should be ${NAME} 在岗, got "${h1}"`);
    await assertText(page, '#id-number', ID_MASKED);
    await assertText(page, '#mobile', MOBILE_MASKED);
    assert.equal(await detail(page, '证件类型'), '居民身份证', '证件类型');
    assert.equal(await detail(page, '性别'), '女', '性别 (from the 17th digit)');
    assert.equal(await detail(page, '出生日期'), '1949-12-31', '出生日期 (from the number)');
    assert.equal(await detail(page, '岗位'), '一线社工', '岗位');
    assert.equal(await detail(page, '用工方式'), '项目购买 · 民政', '用工方式 · 所属领域');
    assert.equal(await detail(page, '所在社工站'), '—', 'no station');
    assert.equal(await detail(page, '工作地区'), HEJIATU_PATH, '工作地区 is the region chosen with the picker');
    assert.equal(await detail(page, '入职日期'), today, '入职日期');
    assert.deepEqual(await tableRows(page, '#certificates'), [['未持证']], 'no certificate yet');
    assert.equal(await page.locator('#ce-status').count(), 0, 'no continuing-education status without a certificate');
    assert.deepEqual(secretsIn(await page.content()), [], 'the page source holds no full identity value');
  });

  await step(`add a certificate ${CERT_LEVEL} obtained ${obtained}: registered until ${until}, 继续教育 0 / 72`, async () => {
    await page.locator('#c-level').selectOption({ label: CERT_LEVEL });
    await page.locator('#c-number').fill(CERT_NUMBER);
    await page.locator('#c-obtained').fill(obtained);
    assert.equal(await page.locator('#c-until').inputValue(), '', '登记有效期至 left empty (3 years by default)');
    const res = await clickAndWait(page, page.locator('#add-certificate'));
    if (res?.status() === 422) {
      assert.fail(`the certificate was refused (422): ${await textOf(page, '#staff-error')}`);
    }
    assertStatus(res, 200, 'POST certificates');
    assertPath(page, personPath);
    await assertText(page, '.alert-success', '已保存。');
    assert.deepEqual(
      await tableRows(page, '#certificates'),
      [[CERT_LEVEL, CERT_NUMBER, obtained, until]],
      '#certificates (等级, 编号, 取得日期, 登记有效期至)',
    );
    assert.equal(await page.locator('#certificates .tag-bad').count(), 0, 'not marked 即将到期');
    await assertText(page, '#ce-status', `本登记周期：${obtained} — ${until} · 继续教育学时 0 / 72 h 未达标`);
  });

  await step('a one-character reason is refused: the number stays masked', async () => {
    await page.locator('#reason').fill('查');
    const res = await clickAndWait(page, page.locator('#reveal'));
    assertStatus(res, 422, 'POST reveal with a one-character reason');
    await assertText(page, '#staff-error', '查看原因：请填写查看原因（2–200 个字）。');
    await assertText(page, '#id-number', ID_MASKED);
    await assertText(page, '#mobile', MOBILE_MASKED);
    assert.deepEqual(secretsIn(await page.content()), [], 'the page source holds no full identity value');
  });

  await step(`reveal with the reason ${REASON}: the full ID number and mobile, not in the URL`, async () => {
    await page.locator('#reason').fill(REASON);
    const res = await clickAndWait(page, page.locator('#reveal'));
    assertStatus(res, 200, 'POST reveal');
    assertPath(page, `${personPath}/reveal`);
    assert.equal(res.headers()['cache-control'], 'no-store', 'the page with the full values must not be cached');
    await assertText(page, '#id-number strong', ID_NUMBER);
    await assertText(page, '#id-number .tag', '已显示完整信息，本次查看已记录');
    await assertText(page, '#mobile', MOBILE);
    assert.equal(await page.locator('#reveal-form').count(), 0, 'no second reveal form while the values are shown');
    assertNoSecretInUrls(page, requests);
  });

  await step('/staff lists the person with the masked number and mobile only', async () => {
    const res = await visit(page, '/staff');
    assertStatus(res, 200, 'GET /staff');
    const rows = await tableRows(page, '#staff');
    const row = rows.find((r) => r[0] === NAME);
    assert.ok(row, `#staff should list ${NAME}, got ${JSON.stringify(rows)}`);
    const [, id, mobile, role, station, region, cert, , status] = row;
    assert.deepEqual(
      { id, mobile, role, station, region, cert, status },
      { id: ID_MASKED, mobile: MOBILE_MASKED, role: '一线社工', station: '', region: HEJIATU_PATH, cert: CERT_LEVEL, status: '在岗' },
      `the row of ${NAME}`,
    );
    assert.deepEqual(secretsIn(await page.content()), [], 'the list page source holds no full identity value');
  });

  await step('按证件号码查找 with the full number: a POST that lands on /staff/<id> without the number', async () => {
    await page.locator('#find-id').fill(ID_NUMBER);
    const [request] = await Promise.all([
      page.waitForRequest((r) => new URL(r.url()).pathname === '/staff/find'),
      clickAndWait(page, page.locator('form[action="/staff/find"] button')),
    ]);
    assert.equal(request.method(), 'POST', 'the search is sent as a POST');
    assertPath(page, personPath);
    assert.equal(new URL(page.url()).search, '', `no query string on ${page.url()}`);
    await assertText(page, '#id-number', ID_MASKED);
    assertNoSecretInUrls(page, requests);
  });

  await step('sign out, sign in as the auditor', async () => {
    let res = await clickAndWait(page, page.locator('form[action="/logout"] button[type="submit"]'));
    assertStatus(res, 200, 'signing out');
    assertPath(page, '/login');
    res = await signIn(page, auditor, auditorPassword);
    assertStatus(res, 200, 'auditor sign-in');
    assertPath(page, '/');
    await assertText(page, '#home-scope', '湖南省 / 株洲市');
  });

  await step(`/audit filtered by the administrator: one 查看敏感信息 entry with the reason ${REASON}`, async () => {
    let res = await visit(page, '/audit');
    assertStatus(res, 200, 'GET /audit');
    await page.locator('#f-actor').fill(admin);
    res = await clickAndWait(page, page.locator('form[action="/audit"] button[type="submit"]'));
    assertStatus(res, 200, 'GET /audit?actor=…');
    assert.equal(new URL(page.url()).searchParams.get('actor'), admin, 'the actor filter is in the URL');
    assert.equal(await page.locator('#f-actor').inputValue(), admin, 'the filter keeps the actor');
    const rows = (await tableRows(page, '#audit')).map(([seq, at, actor, action, entity, region, outcome, changes, ip]) => ({
      seq, at, actor, action, entity, region, outcome, changes, ip,
    }));
    const others = rows.filter((r) => r.actor !== admin);
    assert.deepEqual(others, [], `only ${admin}'s entries are listed`);
    const reveals = rows.filter((r) => r.action === '查看敏感信息');
    assert.equal(reveals.length, 1, `one reveal (the refused one is not an entry), got ${JSON.stringify(rows)}`);
    const [reveal] = reveals;
    const personId = personPath.split('/').pop();
    assert.ok(reveal.entity.includes(personId), `the reveal names the person ${personId}, got "${reveal.entity}"`);
    assert.equal(reveal.region, HEJIATU_PATH, 'the reveal is filed under the person\'s region');
    assert.equal(reveal.outcome, '成功', 'outcome');
    assert.ok(reveal.changes.includes(REASON), `变更内容 should give the reason ${REASON}, got "${reveal.changes}"`);
    assert.ok(reveal.changes.includes('id_number') && reveal.changes.includes('mobile'), `变更内容 names the revealed fields, got "${reveal.changes}"`);
    const created = rows.find((r) => r.action === '新建' && r.entity.includes(personId));
    assert.ok(created, `the creation of ${NAME} is listed, got ${JSON.stringify(rows)}`);
    assert.ok(created.changes.includes('证件号码: *** → ***'), `the creation records only that a number was set, got "${created.changes}"`);
  });

  await step('no cell (nor anything else) on the audit page holds the full ID number or mobile', async () => {
    const cells = await page.locator('#audit td').allTextContents();
    assert.ok(cells.length > 9, 'the table has entries');
    const leaking = cells.map(norm).filter((c) => secretsIn(c).length > 0);
    assert.deepEqual(leaking, [], 'audit cells holding a full identity value');
    assert.deepEqual(secretsIn(await page.content()), [], 'the audit page source holds no full identity value');
    assertNoSecretInUrls(page, requests);
  });

  await step('no script errors or CSP violations on the way', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

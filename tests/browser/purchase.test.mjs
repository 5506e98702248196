// Government purchase of services (issue 14) as a civil-affairs administrator does it in the
// browser: a contract with two lines (community activities counted one by one, groups counted
// when they reach their sessions and person-times) and a 40/40/20 payment plan (the second and
// third instalments paid after the mid-term and final evaluations), services recorded at the
// contract's station with the delivered quantities moving on the contract page, a mid-term
// evaluation planned and scored — the core delivery indicator pre-filled from the core lines, a
// different ratio without a reason refused beside the indicator — to a final grade, and the
// mid-term instalment reduced by the contract's rule. The contract's execution: an expense written
// in words ("三百元左右") refused beside the expense form with what was typed kept, a valid one
// moving the budget line's spent cell and the execution rate, a post added (岗位购买, 2 places) and
// filled by a social worker the provider employs (registered on the staff form: employer the
// provider, at the contract's station), the post showing 1 of 2 filled and its holder, also at
// 390 px; 购买服务概况 of the city (KPIs, drill-down to a district and its townships); the
// provider's organisation links page refusing a USCC no organisation has (the test's
// organisations have no USCC, so no link is added). Published, the grade and the contract notice
// are on the public portal (/public/purchase). Then the purchase pages and the portal's at 390 px:
// no horizontal page overflow (wide tables scroll in their own box).
//
// Fixtures that are not the point (the two organisations' ids, the station) come from the
// organisation page and the stations API; every step of the scenario itself uses the pages.

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
  openSession,
  pageFetch,
  signIn,
  steps,
  strongPassword,
  textOf,
  uniqueName,
  visit,
} from './helpers.mjs';

const CITY = '4302';
const TOWNSHIP = '430202001';
const PROVIDER = '阳光社会工作服务中心';
const EVALUATOR = '明鉴社会工作评估中心';
const STATION = '月塘街道社会工作服务站';
const NUMBER = 'ZZ-GM-2025-001';
const TITLE = '月塘街道社工站服务项目';
const GROUP_TITLE = '亲子成长小组';
const COUNTY = '430202';
const EXPENSE = '七月驻站社工工资';
const POST = '驻站社工';
/** The provider's social worker who fills the post; a valid GB 11643 number (check digit 3). */
const WORKER = '李娜';
const WORKER_ID = '430202199203154523';
// Well formed, registered by no organisation of this test.
const UNKNOWN_USCC = '52430200MJ0000001X';

let server;
let browser;

before(async () => {
  server = await Server.start('purchase');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function todayInChina() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** Script and console errors, each kind once per page path (CSP reports repeat per element). */
function distinct(problems) {
  const seen = new Set();
  for (const p of problems) {
    const m = /^(.*? on )(\S+?): (.*)$/s.exec(p);
    const key = m ? `${m[1]}${new URL(m[2]).pathname}: ${m[3].replace(/'sha256-[^']*'/g, "'sha256-…'").slice(0, 160)}` : p;
    seen.add(key);
  }
  return [...seen];
}

async function csrfToken(page) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  assert.ok(token, 'the page carries its CSRF token');
  return token;
}

/** A form refused with 422: its messages, for the failure report. */
async function formErrors(page) {
  const errors = await page.locator('main .field-error, main .alert-error').allTextContents();
  return errors.map(norm).join(' | ');
}

/** Submit with `locator` and expect to land (after the redirect) on a page matching `path`. */
async function submit(page, locator, path, what) {
  const res = await clickAndWait(page, locator);
  if (res?.status() === 422) {
    assert.fail(`${what} was refused (422): ${await formErrors(page)}`);
  }
  assertStatus(res, 200, what);
  assert.match(new URL(page.url()).pathname, path, `${what}: landed on ${page.url()}`);
}

/** The row of the contract page's deliverables table for line `seq`: delivered and percent. */
async function deliverable(page, seq) {
  return {
    target: await textOf(page, `#deliverable-${seq} .target`),
    delivered: await textOf(page, `#deliverable-${seq} .delivered`),
    percent: await textOf(page, `#deliverable-${seq} .percent`),
  };
}

/** Pages wider than the viewport: [path, scrollWidth] for each that overflows. */
async function overflowing(page, paths) {
  const out = [];
  for (const p of paths) {
    const res = await visit(page, p);
    assertStatus(res, 200, `GET ${p}`);
    const { scroll, width } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
    }));
    if (scroll > width + 1) {
      // What sticks out: the widest elements not inside a scrolling box.
      const culprits = await page.evaluate((w) => {
        const found = [];
        for (const el of document.querySelectorAll('main *')) {
          const r = el.getBoundingClientRect();
          if (r.right <= w + 1) continue;
          let inside = false;
          for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            const o = getComputedStyle(a).overflowX;
            if (o === 'auto' || o === 'scroll' || o === 'hidden') {
              inside = true;
              break;
            }
          }
          if (!inside) found.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} (right ${Math.round(r.right)})`);
        }
        return found.slice(0, 5);
      }, width);
      out.push(`${p}: scrollWidth ${scroll} > ${width}: ${culprits.join(', ')}`);
    }
  }
  return out;
}

test('a civil-affairs administrator buys services: contract, deliverables, evaluation, reduced instalment', { timeout: 600_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'purchase-a-contract-evaluation', () => page);

  const admin = uniqueName('zz_ca');
  const password = strongPassword();
  const today = todayInChina();
  const termStart = addDays(today, -30);
  const termEnd = addDays(termStart, 364);
  let token = '';
  let providerId = '';
  let evaluatorId = '';
  let stationId = '';
  let contractPath = '';
  let evaluationPath = '';
  let workerId = '';

  await step('create a civil-affairs administrator of 株洲市 (CLI) and sign in', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: CITY, password, permanent: true });
    const res = await signIn(page, admin, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
    token = await csrfToken(page);
  });

  await step(`fixtures: the provider ${PROVIDER} and the evaluator ${EVALUATOR} (organisation page), ${STATION} run by the provider (API)`, async () => {
    for (const name of [PROVIDER, EVALUATOR]) {
      const res = await visit(page, '/orgs/new');
      assertStatus(res, 200, 'GET /orgs/new');
      await page.locator('#name').fill(name);
      await submit(page, page.locator('main form .form-actions [type="submit"], main form .form-actions button').first(), /^\/orgs\/[^/]+$/, `the organisation ${name}`);
      const id = new URL(page.url()).pathname.split('/').pop();
      if (name === PROVIDER) providerId = id;
      else evaluatorId = id;
    }
    const r = await pageFetch(page, '/api/v1/stations', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
      body: JSON.stringify({
        tier: 'township_station',
        region_code: TOWNSHIP,
        name: STATION,
        address: '月塘街道办事处一楼',
        mode: 'purchase',
        operator_org_id: providerId,
        status: 'operating',
        status_since: termStart,
      }),
    });
    assert.equal(r.status, 201, `POST /api/v1/stations: ${r.text}`);
    stationId = r.json.id;
    assert.ok(stationId, 'the station has an id');
  }, { shot: false });

  await step('/contracts/new: two lines, 40/40/20 (date, mid-term, final evaluation), reduction rule by score', async () => {
    const res = await visit(page, '/contracts/new');
    assertStatus(res, 200, 'GET /contracts/new');
    assert.equal(await page.locator('#plan').inputValue(), '40/40/20', 'the plan defaults to 40/40/20');
    await page.locator('#contract_number').fill(NUMBER);
    await page.locator('#title').fill(TITLE);
    await page.locator('#amount').fill('300000');
    await page.locator('#term_start').fill(termStart);
    await page.locator('#term_end').fill(termEnd);
    await page.locator('#reduction_rule').fill('90=100; 60=80; 0=0');
    await page.locator('#provider_org_id').selectOption({ label: PROVIDER });
    await page.locator(`input[name="stations"][value="${stationId}"]`).check();
    // Both lines are core lines (核心项目): the core delivery indicator measures them, the basic one
    // has no basic line to measure and is entered by the evaluator.
    await page.locator('select[name="line_tier_0"]').selectOption('core');
    await page.locator('select[name="line_tier_1"]').selectOption('core');
    // Line 1: community activities, each record counts, 4 of them.
    await page.locator('select[name="line_kind_0"]').selectOption('community');
    await page.locator('input[name="line_content_0"]').fill('社区主题活动');
    await page.locator('input[name="line_unit_0"]').fill('次');
    await page.locator('input[name="line_price_0"]').fill('5000');
    await page.locator('input[name="line_quantity_0"]').fill('4');
    await page.locator('select[name="line_rule_0"]').selectOption('each');
    // Line 2: groups, each counted once it has ≥ 2 sessions and ≥ 10 person-times, 2 of them.
    await page.locator('select[name="line_kind_1"]').selectOption('group');
    await page.locator('input[name="line_content_1"]').fill('小组工作');
    await page.locator('input[name="line_unit_1"]').fill('个');
    await page.locator('input[name="line_price_1"]').fill('20000');
    await page.locator('input[name="line_quantity_1"]').fill('2');
    await page.locator('select[name="line_rule_1"]').selectOption('group');
    await page.locator('input[name="line_a_1"]').fill('2');
    await page.locator('input[name="line_b_1"]').fill('10');
    await page.locator('select[name="budget_category_0"]').selectOption('personnel');
    await page.locator('input[name="budget_amount_0"]').fill('300000');
    await page.locator('select[name="inst_trigger_0"]').selectOption('date');
    await page.locator('input[name="inst_on_0"]').fill(termStart);
    await page.locator('select[name="inst_trigger_1"]').selectOption('evaluation');
    await page.locator('select[name="inst_kind_1"]').selectOption('mid_term');
    await page.locator('select[name="inst_trigger_2"]').selectOption('evaluation');
    await page.locator('select[name="inst_kind_2"]').selectOption('final');
    await submit(page, page.locator('#contract-form button[type="submit"]'), /^\/contracts\/[^/]+$/, 'the contract form');
    contractPath = new URL(page.url()).pathname;
    await assertText(page, '#contract-amount', '300,000.00');
    const instalments = await page.locator('#instalments tbody tr').evaluateAll((rows) =>
      rows.map((r) => Array.from(r.cells).slice(0, 3).map((c) => c.textContent.replace(/\s+/g, ' ').trim())),
    );
    assert.equal(instalments.length, 3, 'three instalments');
    assert.deepEqual(instalments.map((r) => r[2]), ['120,000.00', '120,000.00', '60,000.00'], 'amounts 40/40/20');
    const [line1, line2] = [await deliverable(page, 1), await deliverable(page, 2)];
    assert.deepEqual([line1.target, line1.delivered], ['4 次', '0'], 'line 1: nothing delivered yet');
    assert.deepEqual([line2.target, line2.delivered], ['2 个', '0'], 'line 2: nothing delivered yet');
  });

  await step('开始履行: the contract is in force', async () => {
    const move = page.locator('#moves button[data-to="in_force"]');
    if (await move.count()) {
      await submit(page, move, /^\/contracts\/[^/]+$/, 'starting the contract');
    }
    await assertText(page, '#contract-state', '履行中');
  });

  /** Record one service at the station through /services/new. */
  async function recordService({ kind, title, personTimes }) {
    const res = await visit(page, '/services/new');
    assertStatus(res, 200, 'GET /services/new');
    await page.locator('#kind').selectOption(kind);
    await page.locator('#served_on').fill(today);
    await page.locator('#duration_minutes').fill('90');
    await page.locator('#person_times').fill(String(personTimes));
    await page.locator('#workers').fill('王芳');
    await page.locator('#title').fill(title);
    await page.locator('#station').selectOption(stationId);
    await submit(page, page.locator('#save-service'), /^\/services/, `the service ${title}`);
  }

  await step('record a community activity at the station: the contract page shows line 1 at 1 of 4', async () => {
    await recordService({ kind: 'community', title: '邻里节活动', personTimes: 35 });
    await visit(page, contractPath);
    const line1 = await deliverable(page, 1);
    assert.equal(line1.delivered, '1');
    assert.match(line1.percent, /^25(\.0+)?%$/);
    assert.equal((await deliverable(page, 2)).delivered, '0');
  });

  await step('two more activities and one group session: 3 of 4 activities, no group yet (1 session)', async () => {
    await recordService({ kind: 'community', title: '政策宣讲', personTimes: 20 });
    await recordService({ kind: 'community', title: '长者健康讲座', personTimes: 25 });
    await recordService({ kind: 'group', title: GROUP_TITLE, personTimes: 6 });
    await visit(page, contractPath);
    const line1 = await deliverable(page, 1);
    assert.equal(line1.delivered, '3');
    assert.match(line1.percent, /^75(\.0+)?%$/);
    assert.equal((await deliverable(page, 2)).delivered, '0', 'one session of 6 person-times is not a group yet');
  });

  await step('a second session of the group: it qualifies (2 sessions, 12 person-times), 1 of 2 groups', async () => {
    await recordService({ kind: 'group', title: GROUP_TITLE, personTimes: 6 });
    await visit(page, contractPath);
    const line2 = await deliverable(page, 2);
    assert.equal(line2.delivered, '1');
    assert.match(line2.percent, /^50(\.0+)?%$/);
  });

  await step('/evaluations: plan a mid-term evaluation of the contract by the evaluator', async () => {
    const res = await visit(page, '/evaluations');
    assertStatus(res, 200, 'GET /evaluations');
    const contract = await page.locator('#n-contract option', { hasText: NUMBER }).first().getAttribute('value');
    await page.locator('#n-contract').selectOption(contract);
    await page.locator('#n-kind').selectOption('mid_term');
    await page.locator('#n-evaluator').selectOption(evaluatorId);
    await page.locator('#n-planned').fill(today);
    await submit(page, page.locator('#create-evaluation'), /^\/evaluations\/[^/]+$/, 'planning the evaluation');
    evaluationPath = new URL(page.url()).pathname;
    await assertText(page, '#evaluation-state', '计划');
  });

  await step('the core delivery indicator shows the ratio measured from the core lines (62.5 %: one-third of its points); the basic one, without basic lines, is left to the evaluator', async () => {
    // Mean of the core lines' delivered shares: (75 % + 50 %) / 2.
    assert.equal(await page.locator('input[name="v_core_delivery"]').inputValue(), '62.5', 'core_delivery pre-filled');
    const row = norm(await page.locator('#node-core_delivery').textContent());
    assert.match(row, /按服务记录测算 62\.5%/, `core_delivery says it is measured: ${row}`);
    assert.equal(await textOf(page, '#node-core_delivery .points'), '50 (62.5%)', 'core_delivery points');
    assert.equal(await page.locator('input[name="v_basic_delivery"]').inputValue(), '', 'basic_delivery is not measured');
    assert.doesNotMatch(norm(await page.locator('#node-basic_delivery').textContent()), /按服务记录测算/);
  });

  await step('a different ratio without a reason is refused beside the indicator; nothing saved', async () => {
    await page.locator('input[name="v_core_delivery"]').fill('100');
    await page.locator('input[name="e_core_delivery"]').fill('服务台账');
    const res = await clickAndWait(page, page.locator('#save-scores'));
    assertStatus(res, 422, 'saving a ratio different from the measured one without a reason');
    const error = await textOf(page, '#error-core_delivery');
    assert.ok(error.length > 0, 'the refusal is shown beside 核心项目完成情况');
    await visit(page, evaluationPath);
    assert.equal(await page.locator('input[name="v_core_delivery"]').inputValue(), '62.5', 'still the measured ratio');
  });

  await step('score every other indicator (优, financial veto passed) with its evidence: 833.33 of 1000', async () => {
    const rows = await page.locator('#sheet tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.node));
    for (const node of rows) {
      const value = page.locator(`[name="v_${node}"]`);
      if (!(await value.count())) continue;
      const tag = await value.evaluate((el) => el.tagName.toLowerCase());
      if (tag === 'select') {
        const options = await value.locator('option').evaluateAll((os) => os.map((o) => o.value));
        await value.selectOption(options.includes('优') ? '优' : 'pass');
      } else if (node === 'basic_delivery') {
        // The evaluator's own ratio for the basic part (no basic line counts it): one-third.
        await value.fill('62.5');
      }
      await page.locator(`[name="e_${node}"]`).fill('服务台账与现场核查记录');
    }
    await submit(page, page.locator('#save-scores'), /^\/evaluations\/[^/]+$/, 'saving the scores');
    const total = await textOf(page, '#evaluation-total');
    assert.match(total, /^833\.33 \/ 1000/, `the sheet's total: ${total}`);
    assert.doesNotMatch(total, /未完成|incomplete/i);
  });

  await step('move the evaluation through its stages to 终评: grade 良好', async () => {
    for (const to of ['self_assessment', 'document_review', 'preliminary', 'feedback', 'final']) {
      await submit(page, page.locator(`#moves button[data-to="${to}"]`), /^\/evaluations\/[^/]+$/, `moving to ${to}`);
    }
    await assertText(page, '#evaluation-state', '终评');
    await assertText(page, '#evaluation-grade', '良好');
    assert.match(await textOf(page, '#evaluation-result'), /833\.33/);
  });

  await step('the contract page: the mid-term instalment assessed and reduced to 80 % (96,000.00 of 120,000.00)', async () => {
    await visit(page, contractPath);
    await assertText(page, '#instalment-2 .state', '考核完成');
    const row = norm(await page.locator('#instalment-2').textContent());
    assert.match(row, /扣减/, `the outcome is 扣减: ${row}`);
    await assertText(page, '#instalment-2 .payable', '96,000.00');
    // The final evaluation's instalment still waits.
    assert.notEqual(await textOf(page, '#instalment-3 .state'), '考核完成');
  });

  await step('a later activity completes line 1 (4 of 4) but does not move the closed sheet (its measured ratio was frozen)', async () => {
    await recordService({ kind: 'community', title: '端午邻里节', personTimes: 40 });
    await visit(page, contractPath);
    assert.equal((await deliverable(page, 1)).delivered, '4');
    await visit(page, evaluationPath);
    const row = norm(await page.locator('#node-core_delivery').textContent());
    assert.match(row, /按服务记录测算 62\.5%/, `core_delivery still shows the ratio it was scored on: ${row}`);
    assert.match(await textOf(page, '#evaluation-total'), /^833\.33 \/ 1000/);
    await assertText(page, '#evaluation-grade', '良好');
  });

  await step('an expense of "三百元左右" is refused beside the expense form; what was typed stays', async () => {
    await visit(page, contractPath);
    await assertText(page, '#budget-1 .spent', '0.00');
    await assertText(page, '#execution-rate', '0%');
    const form = page.locator('#expense-form');
    await form.locator('select[name="budget_seq"]').selectOption('1');
    await form.locator('input[name="spent_on"]').fill(today);
    await form.locator('input[name="amount"]').fill('三百元左右');
    await form.locator('input[name="description"]').fill(EXPENSE);
    await form.locator('input[name="voucher"]').fill('记-0701');
    const res = await clickAndWait(page, form.locator('button'));
    assertStatus(res, 422, 'an expense with an approximate amount');
    assert.match(await textOf(page, '#expense-error'), /确定数额/, 'the error says the amount must be exact');
    assert.equal(await form.locator('input[name="description"]').inputValue(), EXPENSE, 'the description is kept');
    assert.equal(await form.locator('input[name="amount"]').inputValue(), '三百元左右', 'the amount as typed is kept');
    assert.equal(await form.locator('input[name="voucher"]').inputValue(), '记-0701', 'the voucher is kept');
    await assertText(page, '#budget-1 .spent', '0.00');
    assert.equal(await page.locator('#expenses tbody tr[id^="expense-"]').count(), 0, 'nothing recorded');
  });

  await step('a valid expense of 30,000 on personnel: the line\'s spent cell and the execution rate (10%) move', async () => {
    const form = page.locator('#expense-form');
    await form.locator('input[name="amount"]').fill('30000');
    await submit(page, form.locator('button'), /^\/contracts\/[^/]+$/, 'the expense');
    await assertText(page, '#budget-1 .spent', '30,000.00');
    await assertText(page, '#budget-1 .rate', '10%');
    await assertText(page, '#execution-rate', '10%');
    const rows = await page.locator('#expenses tbody tr[id^="expense-"]').evaluateAll((trs) => trs.map((tr) => tr.textContent.replace(/\s+/g, ' ').trim()));
    assert.equal(rows.length, 1, 'one expense');
    assert.match(rows[0], new RegExp(`${today}.*30,000\\.00.*${EXPENSE}.*记-0701`), `the expense row: ${rows[0]}`);
  });

  await step('add a post (驻站社工 at the station, 2 places): listed with none filled yet', async () => {
    const form = page.locator('#position-form');
    await form.locator('input[name="title"]').fill(POST);
    await form.locator('select[name="station_id"]').selectOption(stationId);
    await form.locator('input[name="headcount"]').fill('2');
    await form.locator('input[name="monthly"]').fill('6000');
    await submit(page, form.locator('button'), /^\/contracts\/[^/]+$/, 'the post');
    const row = norm(await page.locator('#position-1').textContent());
    assert.match(row, new RegExp(`${POST}.*${STATION}`), `the post's row: ${row}`);
    await assertText(page, '#position-1 .filled', '0');
    assert.equal(await page.locator('#position-1 li.fill').count(), 0, 'no holders');
    // The provider has no staff yet: the fill form offers nobody.
    const offered = await page.locator('#position-1 .fill-form select[name="staff_id"] option').evaluateAll((os) => os.map((o) => o.value).filter((v) => v));
    assert.deepEqual(offered, [], 'no provider staff to choose');
  });

  await step(`/staff/new: register ${WORKER}, employed by ${PROVIDER} at ${STATION} (在岗)`, async () => {
    const res = await visit(page, '/staff/new');
    assertStatus(res, 200, 'GET /staff/new');
    await page.locator('#name').fill(WORKER);
    await page.locator('#id_number').fill(WORKER_ID);
    await page.locator('#employer').selectOption(providerId);
    await page.locator('#station').selectOption(stationId);
    await submit(page, page.locator('#save-staff'), /^\/staff\/[0-9a-f-]{36}$/, `the staff form for ${WORKER}`);
    workerId = new URL(page.url()).pathname.split('/').pop();
    const h1 = await textOf(page, 'main h1');
    assert.ok(h1.startsWith(WORKER) && h1.includes('在岗'), `${WORKER} is on duty: ${h1}`);
  });

  await step(`fill the post with ${WORKER} from today: 1 of 2 filled, the holder listed, one place still open`, async () => {
    await visit(page, contractPath);
    const form = page.locator('#position-1 .fill-form');
    const select = form.locator('select[name="staff_id"]');
    const offered = await select.locator('option').evaluateAll((os) => os.filter((o) => o.value).map((o) => [o.value, o.textContent.trim()]));
    assert.deepEqual(offered, [[workerId, WORKER]], 'the fill form offers the provider\'s active staff');
    await select.selectOption(workerId);
    assert.equal(await form.locator('input[name="from_date"]').inputValue(), today, 'from today by default');
    await submit(page, form.locator('button'), /^\/contracts\/[^/]+$/, 'filling the post');
    assert.equal(await page.locator('#fill-error').count(), 0, 'no refusal');
    await assertText(page, '#position-1 .filled', '1');
    const cells = await page.locator('#position-1 > td').evaluateAll((tds) => tds.map((td) => td.textContent.replace(/\s+/g, ' ').trim()));
    assert.equal(cells[3], '2', `headcount 2: ${cells}`);
    const holders = (await page.locator('#position-1 li.fill').allTextContents()).map(norm);
    assert.equal(holders.length, 1, `one holder: ${holders}`);
    assert.match(holders[0], new RegExp(`^${WORKER} ${today} ~`), `the holder from today: ${holders[0]}`);
    assert.equal(await page.locator('#position-1 .fill-form').count(), 1, 'a place is left: the fill form stays');
    // The API agrees: 1 of 2, held by the worker since today.
    const r = await pageFetch(page, `/api/v1${contractPath}/positions`, { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 200, `GET /api/v1${contractPath}/positions: ${r.text}`);
    assert.deepEqual(
      r.json.map((p) => [p.seq, p.headcount, p.filled, p.fills.map((f) => [f.staff_id, f.from_date, f.to_date])]),
      [[1, 2, 1, [[workerId, today, null]]]],
    );
  });

  await step(`390 px: the 购买岗位 card shows the post 1 of 2 with ${WORKER}; on a phone the table is a list of cards`, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await visit(page, contractPath);
    await assertVisible(page, '#positions h2');
    await assertText(page, '#position-1 .filled', '1');
    // Below 768 px a data table is shown as cards (issue 19): the holder is on screen without
    // scrolling sideways, in the post's own card.
    const cards = await page.locator('#positions table.data').evaluate((el) => el.classList.contains('cards'));
    assert.ok(cards, 'the posts table is shown as cards');
    const holder = page.locator('#position-1 li.fill').first();
    await holder.scrollIntoViewIfNeeded();
    assert.match(norm(await holder.textContent()), new RegExp(`^${WORKER}`));
    const box = await holder.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 391, `the holder is on screen: ${JSON.stringify(box)}`);
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    assert.ok(scroll <= width + 1, `the page does not overflow at 390 px (scrollWidth ${scroll})`);
  });

  await step('back to 1280 px', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
  }, { shot: false });

  await step('购买服务概况 of 株洲市: the KPIs count the contract and its amount; the execution rate is the expense\'s', async () => {
    const res = await visit(page, `/contracts/summary?region=${CITY}`);
    assertStatus(res, 200, 'GET /contracts/summary');
    await assertText(page, '#kpi-contracts', '1');
    await assertText(page, '#kpi-amount', '300,000.00');
    await assertText(page, '#kpi-rate', '10%');
    // The contract is filed at the city itself: its own row first, not a link.
    const own = page.locator(`#child-${CITY}`);
    assert.equal(await own.locator('a').count(), 0, 'the city\'s own row does not drill down');
    assert.equal(norm(await own.locator('td').nth(1).textContent()), '1');
  });

  await step('a sub-region row drills down: 荷塘区 → its summary, and its township rows still link', async () => {
    const link = page.locator(`#child-${COUNTY} a`);
    assert.equal(await link.getAttribute('href'), `/contracts/summary?region=${COUNTY}`);
    const res = await clickAndWait(page, link);
    assertStatus(res, 200, 'the drill-down');
    assert.equal(new URL(page.url()).searchParams.get('region'), COUNTY);
    assert.match(await textOf(page, 'h1.page-title'), /荷塘区/);
    await assertText(page, '#kpi-contracts', '0');
    const township = page.locator(`#child-${TOWNSHIP} a`);
    assert.equal(await township.getAttribute('href'), `/contracts/summary?region=${TOWNSHIP}`);
  });

  await step(`/orgs/{provider}/links: an unregistered USCC is refused beside the field (no organisation in this test has a USCC to link)`, async () => {
    const res = await visit(page, `/orgs/${providerId}/links`);
    assertStatus(res, 200, 'GET /orgs/{id}/links');
    assert.equal(await page.locator('#org-links tbody tr[id^="link-"]').count(), 0, 'no links yet');
    await page.locator('#linked_uscc').fill(UNKNOWN_USCC);
    await page.locator('#kind').selectOption('shared_management');
    await page.locator('#note').fill('理事交叉任职');
    const refused = await clickAndWait(page, page.locator('#link-form [type="submit"]'));
    assertStatus(refused, 422, 'a link to an unregistered USCC');
    assert.ok((await textOf(page, '#linked_uscc-error')).length > 0, 'the refusal is beside the USCC');
    assert.equal(await page.locator('#linked_uscc').inputValue(), UNKNOWN_USCC, 'the USCC as typed is kept');
    assert.equal(await page.locator('#org-links tbody tr[id^="link-"]').count(), 0, 'nothing linked');
  });

  await step('no script errors', async () => {
    assert.deepEqual(distinct(problems), [], 'no script errors or CSP violations');
  }, { shot: false });

  await step('publish the evaluation: the public portal of 株洲市 shows the contract notice and the grade', async () => {
    await visit(page, evaluationPath);
    await submit(page, page.locator('#moves button[data-to="published"]'), /^\/evaluations\/[^/]+$/, 'publishing');
    let res = await visit(page, `/public/purchase?region=${CITY}&tab=contracts`);
    assertStatus(res, 200, 'GET /public/purchase (contracts)');
    assert.ok((await page.locator('.notice-number').allTextContents()).map(norm).includes(NUMBER), 'the contract notice');
    res = await visit(page, `/public/purchase?region=${CITY}&tab=evaluations`);
    assertStatus(res, 200, 'GET /public/purchase (evaluations)');
    assert.deepEqual((await page.locator('.public-grade').allTextContents()).map(norm), ['良好']);
  });

  await step('390 px wide: the purchase pages do not overflow horizontally (tables become cards or scroll in their own box)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const portal = ['catalogue', 'notices', 'contracts', 'evaluations'].map((tab) => `/public/purchase?region=${CITY}&tab=${tab}`);
    const summaries = [`/contracts/summary?region=${CITY}`, `/contracts/summary?region=${COUNTY}`];
    const bad = await overflowing(page, ['/contracts', '/contracts/new', contractPath, '/contracts/delivery', ...summaries, '/evaluations', evaluationPath, `/orgs/${providerId}/links`, ...portal]);
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.deepEqual(bad, [], 'pages overflowing at 390 px');
    assert.deepEqual(distinct(problems), [], 'no script errors on the narrow pages');
  });
});

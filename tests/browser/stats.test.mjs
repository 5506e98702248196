// Statistics as a city office and the public see them: a civil-affairs administrator of 株洲市
// puts people and visits on file (JSON API, two categories through the resident's page), then
// reads the dashboard (KPIs, the four ECharts charts drawn as SVG, the sub-regions ranked by
// 服务记录 and by 在册服务对象), drills down 株洲市 → 荷塘区 → 月塘街道 and back by the
// breadcrumb, and opens the wall display (大屏). Without signing in: the public portal of 株洲市
// (station directory, sub-regions with small cells shown as "<10", people by category, no
// personal data), its CSV download, and the dashboard refused (sign-in page).
//
// Every page is watched for script errors and for CSP violations (`securitypolicyviolation`
// events: the directive, the source file and position), so a chart library that sets inline
// styles against `style-src 'self'` is named precisely.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
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
  pageFetch,
  signIn,
  steps,
  strongPassword,
  textOf,
  uniqueName,
  visit,
} from './helpers.mjs';

const CITY = '4302';
const HETANG = '430202';
const YUETANG = '430202001';
const CIGUTANG = '430202002';
const LUSONG = '430203';
const HEJIATU = '430203001';
const CITY_PATH = '湖南省 / 株洲市';
const YUETANG_PATH = '湖南省 / 株洲市 / 荷塘区 / 月塘街道';
const YUETANG_STATION = '月塘街道社会工作服务站';
const HEJIATU_STATION = '贺家土街道社会工作服务站';
const OPERATING = '运营中';
/** The portal's small-cell threshold (config `portal_min_cell`, default 10). */
const SUPPRESSED = '<10';

/**
 * The people on file: name, phone, township, risk tier, visits this year. 荷塘区 has fewer
 * people (4) but more visits (12 = 3 in 月塘街道 + 9 in 茨菇塘街道) than 芦淞区 (5 people, 1
 * visit), so the ranking flips between 服务记录 and 在册服务对象.
 */
const PEOPLE = [
  { name: '刘桂兰', phone: '13811110001', region: YUETANG, tier: 'high', visits: 1 },
  { name: '陈德明', phone: '13811110002', region: YUETANG, tier: 'general', visits: 1 },
  { name: '赵秀英', phone: '13811110003', region: YUETANG, tier: 'key', visits: 1 },
  { name: '孙福生', phone: '13811110004', region: CIGUTANG, tier: 'general', visits: 9 },
  { name: '周淑芬', phone: '13811110005', region: HEJIATU, tier: 'high', visits: 1 },
  { name: '吴国强', phone: '13811110006', region: HEJIATU, tier: 'general', visits: 0 },
  { name: '郑小梅', phone: '13811110007', region: HEJIATU, tier: 'general', visits: 0 },
  { name: '冯建华', phone: '13811110008', region: HEJIATU, tier: 'general', visits: 0 },
  { name: '何丽娟', phone: '13811110009', region: HEJIATU, tier: 'key', visits: 0 },
];
const VISIT_MINUTES = 30;
const peopleIn = (code) => PEOPLE.filter((p) => p.region.startsWith(code));
const visitsIn = (code) => peopleIn(code).reduce((n, p) => n + p.visits, 0);
const ALL_VISITS = visitsIn(CITY); // 13
/** Categories given through the resident's page (membership form). */
const CATEGORIES = [
  { name: '刘桂兰', category: '独居老人' },
  { name: '周淑芬', category: '特困' },
];
/** What must never reach the public: names and full phones of the people on file. */
const SECRETS = PEOPLE.flatMap((p) => [p.name, p.phone]);
const CHARTS = ['chart-months', 'chart-domains', 'chart-categories', 'chart-tiers'];

let server;
let browser;
/** Set once scenario a has put the data on file (scenario b counts on it). */
let dataReady = false;

before(async () => {
  server = await Server.start('stats');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function todayInChina() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

// ---------------------------------------------------------------------------
// Page helpers
// ---------------------------------------------------------------------------

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/**
 * Record every CSP violation of the context's pages in `violations` (the page, the directive,
 * what was blocked, and where: source file, line, column). The listener is added by CDP before
 * any page script, so the CSP itself does not stop it.
 */
async function watchCsp(context) {
  const violations = [];
  violations.during = '';
  await context.exposeBinding('__shegongCspViolation', ({ page }, v) => {
    violations.push({ page: page.url(), during: violations.during, ...v });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__shegongCspViolation({
        directive: e.violatedDirective,
        effective: e.effectiveDirective,
        blocked: e.blockedURI,
        source: e.sourceFile,
        line: e.lineNumber,
        column: e.columnNumber,
        sample: e.sample,
        disposition: e.disposition,
      });
    });
  });
  return violations;
}

/** Steps whose name `violations` records with each violation (the step it happened in). */
function tagSteps(step, violations) {
  return (name, fn, opts) =>
    step(name, async () => {
      violations.during = name;
      await fn();
    }, opts);
}

/** Identical lines counted: "N × line". */
function counted(lines) {
  const counts = new Map();
  for (const l of lines) {
    counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return [...counts].map(([l, n]) => `${n} × ${l}`);
}

/** The violations as readable lines: directive, what, where (source:line:column), page and step. */
function describeViolations(violations) {
  return counted(violations.map((v) => {
    const where = v.source ? `${v.source.replace(server.url, '')}:${v.line}:${v.column}` : '(no source)';
    return `${v.effective || v.directive} blocked "${v.blocked}" at ${where} on ${new URL(v.page).pathname} ` +
      `during "${v.during}"${v.sample ? ` sample "${v.sample}"` : ''}`;
  }));
}

/** The cells of every body row of `selector` (whitespace-normalised text). */
async function tableRows(page, selector) {
  await page.locator(selector).first().waitFor({ state: 'attached' });
  return page.locator(`${selector} tbody tr`).evaluateAll((rows) =>
    rows.map((r) => Array.from(r.cells).map((c) => c.textContent.replace(/\s+/g, ' ').trim())),
  );
}

/** Rows of `selector` keyed by the text of column `col`. */
async function rowsBy(page, selector, col) {
  return Object.fromEntries((await tableRows(page, selector)).map((r) => [r[col], r]));
}

/** The page's CSRF token (its `<meta name="csrf-token">`, for scripts). */
async function csrfToken(page) {
  const token = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  assert.ok(token, 'the page carries its CSRF token');
  return token;
}

/** POST JSON to the API with the page's session (and its CSRF token); the answer. */
async function apiPost(page, url, body, token) {
  return pageFetch(page, url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify(body),
  });
}

/** Wait until every [data-chart] element holds a drawn <svg> with some marks; their sizes. */
async function expectCharts(page) {
  let state;
  try {
    await eventually(async () => {
      state = await page.locator('[data-chart]').evaluateAll((els) =>
        els.map((el) => {
          const svg = el.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            id: el.getAttribute('data-chart'),
            svg: !!svg,
            width: Math.round(box?.width ?? 0),
            height: Math.round(box?.height ?? 0),
            marks: svg ? svg.querySelectorAll('path, rect, circle, text').length : 0,
          };
        }),
      );
      assert.deepEqual(state.map((c) => c.id), CHARTS);
      for (const c of state) {
        assert.ok(c.svg && c.width > 0 && c.height > 0 && c.marks > 0);
      }
    });
  } catch {
    assert.fail(`every [data-chart] should hold a drawn <svg> (ECharts, renderer svg), got ${JSON.stringify(state)}`);
  }
  // Let the entry animations finish (about a second), so the screenshot shows the charts.
  await eventually(async () => {
    const busy = await page.locator('[data-chart]').evaluateAll((els) =>
      els.filter((el) => {
        const animation = window.echarts?.getInstanceByDom(el)?.getZr?.().animation;
        return typeof animation?.isFinished === 'function' && !animation.isFinished();
      }).length,
    );
    assert.equal(busy, 0, 'charts still animating');
  }, 5_000).catch(() => {});
  return state;
}

/** The text inside the SVG of one chart (axis labels, legend, pie labels). */
async function chartText(page, id) {
  return norm(await page.locator(`[data-chart="${id}"] svg`).first().evaluate((svg) =>
    Array.from(svg.querySelectorAll('text')).map((t) => t.textContent).join(' '),
  ));
}

/** The links of the breadcrumb trail: [label, href]. */
async function crumbs(page) {
  return page.locator('ol.breadcrumbs li').evaluateAll((lis) =>
    lis.map((li) => {
      const a = li.querySelector('a');
      return [li.textContent.replace(/\s+/g, ' ').trim(), a ? a.getAttribute('href') : null];
    }),
  );
}

/** Which of the names and phones `text` contains. */
function secretsIn(text) {
  return SECRETS.filter((s) => text.includes(s));
}

// ---------------------------------------------------------------------------
// Scenario a: the dashboard
// ---------------------------------------------------------------------------

test('a city administrator puts visits on file, drills down the dashboard 株洲市 → 荷塘区 → 月塘街道, the wall display', { timeout: 300_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const csp = await watchCsp(context);
  const step = tagSteps(await steps(t, 'stats-a-dashboard', () => page), csp);

  const admin = uniqueName('zz_admin');
  const password = strongPassword();
  const today = todayInChina();
  const year = today.slice(0, 4);
  const ids = {};
  let token = '';

  await step('create a civil-affairs administrator of 株洲市 (4302) (CLI) and sign in', async () => {
    await server.addUser({ username: admin, role: 'civil_affairs_admin', region: CITY, password, permanent: true });
    const res = await signIn(page, admin, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/');
    await assertText(page, '#home-scope', CITY_PATH);
    token = await csrfToken(page);
  });

  await step(`two stations through the API: ${YUETANG_STATION} and ${HEJIATU_STATION} (运营中, with coordinates)`, async () => {
    const stations = [
      { region_code: YUETANG, name: YUETANG_STATION, address: '月塘街道办事处一楼', lng: 113.16, lat: 27.86, phone: '0731-22880001' },
      { region_code: HEJIATU, name: HEJIATU_STATION, address: '贺家土街道便民服务中心二楼', lng: 113.14, lat: 27.8, phone: '0731-22880002' },
    ];
    for (const s of stations) {
      const r = await apiPost(page, '/api/v1/stations', {
        tier: 'township_station',
        mode: 'direct',
        status: 'operating',
        status_since: `${year}-01-01`,
        open_hours: '周一至周五 8:30-17:30',
        ...s,
      }, token);
      assert.equal(r.status, 201, `POST /api/v1/stations (${s.name}): ${r.text}`);
    }
  }, { shot: false });

  await step(`${PEOPLE.length} residents through the API (${peopleIn(HETANG).length} in 荷塘区, ${peopleIn(LUSONG).length} in 芦淞区)`, async () => {
    for (const p of PEOPLE) {
      const r = await apiPost(page, '/api/v1/residents', {
        name: p.name,
        birth_date: '1950-03-01',
        region: p.region,
        phone: p.phone,
        risk_tier: p.tier,
        legal_basis: 'statutory_duty',
        confirm_duplicates: true,
      }, token);
      assert.equal(r.status, 201, `POST /api/v1/residents (${p.name}): ${r.text}`);
      assert.equal(r.json.region_code, p.region, `${p.name}'s region`);
      ids[p.name] = r.json.id;
    }
  }, { shot: false });

  await step(`${ALL_VISITS} home visits today through the API (月塘街道 ${visitsIn(YUETANG)}, 茨菇塘街道 ${visitsIn(CIGUTANG)}, 贺家土街道 ${visitsIn(HEJIATU)})`, async () => {
    for (const p of PEOPLE) {
      for (let i = 0; i < p.visits; i++) {
        const r = await apiPost(page, '/api/v1/services', {
          kind: 'visit',
          domain: 'elderly',
          resident_id: ids[p.name],
          served_on: today,
          duration_minutes: VISIT_MINUTES,
          method: 'home',
          workers: '王芳',
        }, token);
        assert.equal(r.status, 201, `POST /api/v1/services (visit ${i + 1} to ${p.name}): ${r.text}`);
      }
    }
    const r = await pageFetch(page, `/api/v1/stats/services?region=${CITY}&level=children`, { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 200, `GET /api/v1/stats/services: ${r.text}`);
    const byRegion = {};
    for (const row of r.json) {
      byRegion[row.region_code] = (byRegion[row.region_code] ?? 0) + row.count;
    }
    assert.deepEqual(byRegion, { [HETANG]: visitsIn(HETANG), [LUSONG]: visitsIn(LUSONG) }, 'the open-data API counts the visits per district');
  }, { shot: false });

  for (const { name, category } of CATEGORIES) {
    await step(`${name}'s file: add the category ${category} (membership form)`, async () => {
      const path = `/residents/${ids[name]}`;
      let res = await visit(page, path);
      assertStatus(res, 200, `GET ${path}`);
      await page.locator('#m-category').selectOption({ label: category });
      res = await clickAndWait(page, page.locator('#membership-form button'));
      assertStatus(res, 200, 'POST memberships');
      assertPath(page, path);
      const rows = await tableRows(page, '#categories');
      assert.ok(rows.some((r) => r[0].startsWith(category)), `#categories lists ${category}, got ${JSON.stringify(rows)}`);
    });
  }
  dataReady = true;

  await step('the menu\'s 统计驾驶舱: /stats redirects to /stats/4302, KPIs of 株洲市', async () => {
    await visit(page, '/');
    const res = await clickAndWait(page, page.locator('aside.sidebar nav a', { hasText: '统计驾驶舱' }));
    assertStatus(res, 200, 'GET /stats');
    assertPath(page, `/stats/${CITY}`);
    const title = await textOf(page, 'main h1.page-title');
    assert.ok(title.startsWith(`${CITY_PATH} · ${year}`), `the title names 株洲市 and ${year}, got "${title}"`);
    await assertText(page, '#kpi-records', String(ALL_VISITS));
    await assertText(page, '#kpi-person-times', String(ALL_VISITS));
    await assertText(page, '#kpi-people', String(PEOPLE.length));
    assert.equal(await page.locator('#year').inputValue(), year, 'the year select shows this year');
  });

  await step('the four charts are drawn as SVG (months, domains, categories, tiers)', async () => {
    await expectCharts(page);
    // The months chart has the visit series in its legend; the categories chart names both categories.
    assert.ok((await chartText(page, 'chart-months')).includes('探访'), 'chart-months: the 探访 series in the legend');
    const cats = await chartText(page, 'chart-categories');
    for (const { category } of CATEGORIES) {
      assert.ok(cats.includes(category), `chart-categories names ${category}, got "${cats}"`);
    }
  });

  await step('hover the months chart: the tooltip is drawn inside the chart (no HTML, so nothing for the CSP to refuse)', async () => {
    const chart = page.locator('[data-chart="chart-months"]');
    const texts = () => chart.evaluate((el) => el.querySelectorAll('svg text').length);
    const before = await texts();
    // The region map sits above the charts: bring the chart into the window first.
    await chart.scrollIntoViewIfNeeded();
    const box = await chart.boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2 + 5, box.y + box.height / 2 + 5);
    await eventually(async () => {
      assert.ok((await texts()) > before, 'the tooltip adds its text to the chart\'s SVG');
    });
    await page.mouse.move(0, 0);
  });

  await step('#subregions ranked by 服务记录 (the default): 荷塘区 first, 芦淞区 second', async () => {
    assert.equal(await page.locator('#sort').inputValue(), 'records', '#sort is 服务记录 by default');
    const rows = await tableRows(page, '#subregions');
    assert.equal(rows.length, 9, `株洲市 has 9 districts and counties, got ${rows.map((r) => r[1]).join(', ')}`);
    const [rank, name, records, personTimes, hours, , people] = rows[0];
    assert.deepEqual(
      { rank, name, records, personTimes, hours, people },
      { rank: '1', name: '荷塘区', records: String(visitsIn(HETANG)), personTimes: String(visitsIn(HETANG)), hours: String((visitsIn(HETANG) * VISIT_MINUTES / 60) | 0), people: String(peopleIn(HETANG).length) },
      'row 1',
    );
    assert.deepEqual([rows[1][0], rows[1][1], rows[1][2], rows[1][6]], ['2', '芦淞区', String(visitsIn(LUSONG)), String(peopleIn(LUSONG).length)], 'row 2');
    for (const r of rows.slice(2)) {
      assert.equal(r[2], '0', `${r[1]} has no service records`);
    }
    await assertVisible(page, '#spread');
  });

  await step('rank by 在册服务对象 (select #sort): 芦淞区 (5) above 荷塘区 (4)', async () => {
    const res = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator('#sort').selectOption({ label: '在册服务对象' }),
    ]).then(([r]) => r);
    assertStatus(res, 200, 'GET /stats/4302?sort=people');
    assert.equal(new URL(page.url()).searchParams.get('sort'), 'people', 'sort=people in the URL');
    const rows = await tableRows(page, '#subregions');
    assert.deepEqual(rows.slice(0, 2).map((r) => [r[0], r[1], r[6]]), [['1', '芦淞区', '5'], ['2', '荷塘区', '4']], 'the first two rows (#, 地区, 在册服务对象)');
    await expectCharts(page);
  });

  await step('back to 服务记录 (select #sort): 荷塘区 ranked above 芦淞区 again', async () => {
    const res = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator('#sort').selectOption({ label: '服务记录' }),
    ]).then(([r]) => r);
    assertStatus(res, 200, 'GET /stats/4302?sort=records');
    assert.equal(new URL(page.url()).searchParams.get('sort'), 'records', 'sort=records in the URL');
    const names = (await tableRows(page, '#subregions')).map((r) => r[1]);
    assert.ok(names.indexOf('荷塘区') < names.indexOf('芦淞区'), `荷塘区 before 芦淞区, got ${names.join(', ')}`);
    assert.equal(names[0], '荷塘区', '荷塘区 first');
    await expectCharts(page);
  });

  await step(`click 荷塘区 → /stats/${HETANG}: ${visitsIn(HETANG)} records, 茨菇塘街道 (9) above 月塘街道 (3)`, async () => {
    const res = await clickAndWait(page, page.locator('#subregions a', { hasText: '荷塘区' }));
    assertStatus(res, 200, `GET /stats/${HETANG}`);
    assertPath(page, `/stats/${HETANG}`);
    await assertText(page, '#kpi-records', String(visitsIn(HETANG)));
    await assertText(page, '#kpi-people', String(peopleIn(HETANG).length));
    const rows = await tableRows(page, '#subregions');
    assert.deepEqual(
      rows.slice(0, 2).map((r) => [r[0], r[1], r[2]]),
      [['1', '茨菇塘街道', String(visitsIn(CIGUTANG))], ['2', '月塘街道', String(visitsIn(YUETANG))]],
      'the first two townships (#, 地区, 服务记录)',
    );
    await expectCharts(page);
  });

  await step(`click 月塘街道 → /stats/${YUETANG}: #kpi-records ${visitsIn(YUETANG)}, the breadcrumb 统计驾驶舱 / 株洲市 / 荷塘区`, async () => {
    const res = await clickAndWait(page, page.locator('#subregions a', { hasText: '月塘街道' }));
    assertStatus(res, 200, `GET /stats/${YUETANG}`);
    assertPath(page, `/stats/${YUETANG}`);
    await assertText(page, '#kpi-records', String(visitsIn(YUETANG)));
    await assertText(page, '#kpi-people', String(peopleIn(YUETANG).length));
    assert.ok((await textOf(page, 'main h1.page-title')).startsWith(`${YUETANG_PATH} · ${year}`), 'the title names 月塘街道');
    assert.deepEqual(await crumbs(page), [
      ['首页', '/'],
      ['统计驾驶舱', '/stats'],
      ['株洲市', `/stats/${CITY}?year=${year}`],
      ['荷塘区', `/stats/${HETANG}?year=${year}`],
      [YUETANG_PATH, null],
    ], 'the breadcrumb trail');
    await expectCharts(page);
  });

  await step('the breadcrumb 株洲市 leads back to /stats/4302', async () => {
    const res = await clickAndWait(page, page.locator('ol.breadcrumbs a', { hasText: '株洲市' }));
    assertStatus(res, 200, `GET /stats/${CITY}`);
    assertPath(page, `/stats/${CITY}`);
    await assertText(page, '#kpi-records', String(ALL_VISITS));
    await expectCharts(page);
  });

  await step('大屏 (#wall-link): /stats/4302/wall fills the window with the map, the same figures and the ranking', async () => {
    const res = await clickAndWait(page, page.locator('#wall-link'));
    assertStatus(res, 200, `GET /stats/${CITY}/wall`);
    assertPath(page, `/stats/${CITY}/wall`);
    await assertVisible(page, '#wall.wall-screen');
    const box = await page.locator('#wall').boundingBox();
    const viewport = page.viewportSize();
    assert.deepEqual(
      [box.x, box.y, Math.round(box.width), Math.round(box.height)],
      [0, 0, viewport.width, viewport.height],
      'the wall display covers the whole window',
    );
    await assertText(page, '#kpi-records', String(ALL_VISITS));
    assert.equal(await page.locator('#wall-link').count(), 0, 'no 大屏 link on the wall display');
    await eventually(async () => assert.equal(await page.locator('#region-map').getAttribute('data-map-ready'), '1', 'the map is drawn'));
    const first = await page.locator('#wall-ranking li').first().innerText();
    assert.match(first, /荷塘区/, `荷塘区 ranks first by 服务记录: ${first}`);
  });

  await step('退出大屏 leads back to the dashboard', async () => {
    const res = await clickAndWait(page, page.locator('#wall a', { hasText: '退出大屏' }));
    assertStatus(res, 200, `GET /stats/${CITY}`);
    assertPath(page, `/stats/${CITY}`);
    assert.equal(await page.locator('#wall').count(), 0, 'not the wall display any more');
    await assertVisible(page, '#wall-link');
  });

  // ECharts' HTML tooltip would write style="" attributes, which `style-src 'self'` refuses;
  // charts.js asks for the tooltip drawn inside the chart instead.
  await step('no script errors or CSP violations on the way', async () => {
    // Violations are reported asynchronously: give the last page a moment.
    await page.waitForTimeout(300);
    assert.deepEqual({ problems: counted(problems), csp: describeViolations(csp) }, { problems: [], csp: [] });
  }, { shot: false });
});

// ---------------------------------------------------------------------------
// Scenario b: the public
// ---------------------------------------------------------------------------

test('without signing in: the public portal of 株洲市 (suppressed small cells, no personal data), its CSV; the dashboard refused', { timeout: 180_000 }, async (t) => {
  if (!dataReady) {
    t.skip('the first scenario did not put the data on file (see its failure)');
    return;
  }
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const csp = await watchCsp(context);
  const step = tagSteps(await steps(t, 'stats-b-public', () => page), csp);
  const year = todayInChina().slice(0, 4);

  await step('/public?region=4302: the portal of 株洲市, no menu, no sign-in needed', async () => {
    const res = await visit(page, `/public?region=${CITY}`);
    assertStatus(res, 200, 'GET /public?region=4302');
    assertPath(page, '/public');
    await assertText(page, 'main h1.page-title', `社工站信息公开 · ${CITY_PATH}`);
    assert.equal(await page.locator('aside.sidebar').count(), 0, 'no menu for a visitor');
    assert.equal(await page.locator('form[action="/logout"]').count(), 0, 'nobody is signed in');
  });

  await step('#public-stations: the directory lists both stations (address, hours, phone, 运营中); the map has both', async () => {
    const rows = await rowsBy(page, '#public-stations', 0);
    assert.deepEqual(Object.keys(rows).sort(), [HEJIATU_STATION, YUETANG_STATION].sort(), 'the stations listed');
    const [, region, address, hours, phone, status] = rows[YUETANG_STATION];
    assert.deepEqual(
      { region, address, hours, phone, status },
      { region: '湖南省 / 株洲市 / 荷塘区 / 月塘街道', address: '月塘街道办事处一楼', hours: '周一至周五 8:30-17:30', phone: '0731-22880001', status: OPERATING },
      `the row of ${YUETANG_STATION}`,
    );
    const map = JSON.parse(await page.locator('#region-map').getAttribute('data-map'));
    assert.deepEqual(map.stations.map((x) => x[2]).sort(), [HEJIATU_STATION, YUETANG_STATION].sort(), 'two stations on the map');
    await eventually(async () => assert.equal(await page.locator('#region-map').getAttribute('data-map-ready'), '1', 'the map is drawn'));
  });

  await step(`#public-regions: 芦淞区 "${SUPPRESSED}" (${visitsIn(LUSONG)} visit) and, so it cannot be had by subtraction, 荷塘区 "*"; the others 0`, async () => {
    const rows = await rowsBy(page, '#public-regions', 0);
    assert.equal(Object.keys(rows).length, 9, `9 districts and counties, got ${Object.keys(rows).join(', ')}`);
    assert.deepEqual(rows['荷塘区'], ['荷塘区', '*', '*'], '荷塘区 (地区, 服务记录, 服务人次): secondary suppression');
    assert.deepEqual(rows['芦淞区'], ['芦淞区', SUPPRESSED, SUPPRESSED], '芦淞区 (地区, 服务记录, 服务人次)');
    for (const [name, r] of Object.entries(rows)) {
      if (name !== '荷塘区' && name !== '芦淞区') {
        assert.deepEqual(r.slice(1), ['0', '0'], `${name}: zero is shown as 0, not suppressed`);
      }
    }
    await assertText(page, 'main .card p.hint', `为保护个人隐私，小于 10 的数字显示为“<10”。 同一组中只有一个小数字时，另一个数字也以“*”隐藏，防止相减推算。 下载开放数据（CSV）`);
  });

  await step(`#public-kinds: 探访 ${ALL_VISITS} in ${year}; #public-people: both categories as "${SUPPRESSED}"`, async () => {
    assert.deepEqual(await tableRows(page, '#public-kinds'), [['探访', String(ALL_VISITS), String(ALL_VISITS)]], '#public-kinds (类型, 服务记录, 服务人次)');
    const people = await rowsBy(page, '#public-people', 0);
    assert.deepEqual(
      Object.fromEntries(Object.entries(people).map(([k, r]) => [k, r[1]])),
      Object.fromEntries(CATEGORIES.map((c) => [c.category, SUPPRESSED])),
      '#public-people (类别, 在册服务对象)',
    );
  });

  await step('no personal data: none of the residents\' names or phones in the page source', async () => {
    assert.deepEqual(secretsIn(await page.content()), [], 'names and phones in the HTML of /public?region=4302');
  }, { shot: false });

  await step(`click 荷塘区 → /public?region=${HETANG}: 月塘街道 and 茨菇塘街道 both "${SUPPRESSED}"`, async () => {
    const res = await clickAndWait(page, page.locator('#public-regions a', { hasText: '荷塘区' }));
    assertStatus(res, 200, `GET /public?region=${HETANG}`);
    assert.equal(new URL(page.url()).searchParams.get('region'), HETANG, 'region in the URL');
    const rows = await rowsBy(page, '#public-regions', 0);
    assert.deepEqual(rows['月塘街道'], ['月塘街道', SUPPRESSED, SUPPRESSED], '月塘街道 (3 visits)');
    assert.deepEqual(rows['茨菇塘街道'], ['茨菇塘街道', SUPPRESSED, SUPPRESSED], '茨菇塘街道 (9 visits)');
    assert.deepEqual(Object.keys(await rowsBy(page, '#public-stations', 0)), [YUETANG_STATION], 'only the station of 荷塘区');
    assert.deepEqual(secretsIn(await page.content()), [], 'names and phones in the HTML of /public?region=430202');
  });

  await step('back to 株洲市: the CSV link downloads services.csv with a header line and suppressed cells', async () => {
    let res = await visit(page, `/public?region=${CITY}`);
    assertStatus(res, 200, 'GET /public?region=4302');
    const link = page.locator('main a', { hasText: '下载开放数据（CSV）' });
    assert.equal(await link.getAttribute('href'), `/public/services.csv?region=${CITY}`, 'the CSV link');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.equal(await download.failure(), null, 'the download should complete');
    assert.equal(download.suggestedFilename(), 'services.csv', 'file name');
    const text = await readFile(await download.path(), 'utf8');
    const lines = text.trim().split('\n');
    assert.equal(lines[0], 'region_code,month,kind,records,person_times', 'the header line');
    const month = todayInChina().slice(0, 7);
    assert.deepEqual(
      lines.slice(1).sort(),
      [`${HETANG},${month},visit,*,*`, `${LUSONG},${month},visit,${SUPPRESSED},${SUPPRESSED}`],
      'one line per district with visits, 芦淞区 suppressed and 荷塘区 with it',
    );
    assert.deepEqual(secretsIn(text), [], 'no names or phones in the CSV');
    res = await pageFetch(page, `/public/services.csv?region=${CITY}`);
    assert.equal(res.status, 200, 'GET /public/services.csv');
    assert.equal(res.text, text, 'the same CSV fetched directly');
  });

  await step('/stats/4302 without signing in: the sign-in page (next=/stats/4302), no dashboard', async () => {
    const res = await visit(page, `/stats/${CITY}`);
    assertStatus(res, 200, 'GET /stats/4302 (after the redirect)');
    assertPath(page, '/login');
    assert.equal(new URL(page.url()).searchParams.get('next'), `/stats/${CITY}`, 'next= names the dashboard');
    assert.equal(await page.locator('#kpi-records, [data-chart], #subregions').count(), 0, 'nothing of the dashboard');
    assert.deepEqual(secretsIn(await page.content()), [], 'no names or phones');
  });

  await step('/stats/4302/wall and the open-data API without signing in: refused too', async () => {
    const wall = await pageFetch(page, `/stats/${CITY}/wall`);
    assert.equal(new URL(wall.url).pathname, '/login', `/stats/4302/wall should end on the sign-in page, got ${wall.url} (${wall.status})`);
    const api = await pageFetch(page, `/api/v1/stats/services?region=${CITY}`, { headers: { Accept: 'application/json' } });
    assert.equal(api.status, 401, `GET /api/v1/stats/services without a session: ${api.text.slice(0, 200)}`);
  }, { shot: false });

  await step('no script errors or CSP violations on the way', async () => {
    await page.waitForTimeout(300);
    assert.deepEqual({ problems: counted(problems), csp: describeViolations(csp) }, { problems: [], csp: [] });
  }, { shot: false });
});

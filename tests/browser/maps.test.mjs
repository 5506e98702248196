// Maps, the dashboard's width and the wall display (大屏) on the demo data (湖南省株洲市):
// - the dashboard of 株洲市 at 1440×900 and 1920×1080: nothing wider than the window, no KPI
//   figure clipped, the map of its nine counties drawn (registered as `region-4302`), coloured by
//   the indicator picked, a click on 攸县 drilling down to /stats/430223 (its outline, its stations);
// - the province (湖南省, an account of 43): the map of its 14 cities, a click on 株洲市 → /stats/4302;
// - the wall display at 1920×1080 and 3840×2160: no scrolling, nothing clipped, the clock ticking,
//   the figures refreshed from /stats/4302/wall.json without a reload, a click drilling down;
// - the public portal at 390 px and 1440 px: no overflow, the map, the station directory searched
//   and paged.
// Every page is watched for script errors.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertPath,
  assertStatus,
  clickAndWait,
  clipped,
  eventually,
  launchBrowser,
  openSession,
  overflow,
  signIn,
  steps,
  strongPassword,
  visit,
} from './helpers.mjs';

const CITY = '4302';
const YOUXIAN = '430223';
/** A point well inside 攸县 (longitude, latitude). */
const YOUXIAN_POINT = [113.35, 27.0];
/** A point well inside 株洲市 on the province's map. */
const ZHUZHOU_POINT = [113.4, 27.2];
const DEMO_PASSWORD = 'Shegong#2026';

let server;
let browser;

before(async () => {
  server = await Server.start('maps', { config: 'demo = true', readyTimeoutMs: 300_000 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function mapReady(page) {
  await eventually(async () => assert.equal(await page.locator('#region-map').getAttribute('data-map-ready'), '1', 'the map is drawn'));
}

/** The window position of a point (longitude, latitude) on the drawn map. */
async function pixelOf(page, point) {
  await page.locator('#region-map').scrollIntoViewIfNeeded();
  return page.evaluate((p) => {
    const el = document.getElementById('region-map');
    const chart = window.echarts.getInstanceByDom(el);
    const [x, y] = chart.convertToPixel({ geoIndex: 0 }, p);
    const r = el.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  }, point);
}

async function mapInfo(page) {
  return page.evaluate(() => {
    const el = document.getElementById('region-map');
    const name = el.getAttribute('data-map-name');
    const geo = window.echarts.getMap(name);
    return {
      name,
      registered: !!geo,
      features: geo ? geo.geoJSON.features.length : 0,
      drawn: el.querySelectorAll('svg path').length,
    };
  });
}

test('the dashboard and its map at 1440×900 and 1920×1080: nothing overflows, the map drills down', { timeout: 300_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'maps-a-dashboard', () => page);

  await step('sign in as the city administrator of the demo (zz_admin)', async () => {
    await visit(page, '/login');
    await signIn(page, 'zz_admin', DEMO_PASSWORD);
  });

  for (const [width, height] of [[1440, 900], [1920, 1080]]) {
    await step(`/stats/4302 at ${width}×${height}: no overflow, no clipped KPI, the map of 9 counties`, async () => {
      await page.setViewportSize({ width, height });
      const res = await visit(page, `/stats/${CITY}`);
      assertStatus(res, 200, 'GET /stats/4302');
      await mapReady(page);
      assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
      assert.deepEqual(await clipped(page, '.stat-value'), [], 'KPI figures that do not fit');
      const info = await mapInfo(page);
      assert.deepEqual([info.name, info.registered, info.features], ['region-4302', true, 9], 'the registered map');
      assert.ok(info.drawn >= 9, `the counties drawn as SVG paths (${info.drawn})`);
      assert.match(await page.locator('#map-label').innerText(), /示意图/, 'the bundled map is labelled schematic');
    });
  }

  await step('the picker colours the map by 在册服务对象', async () => {
    await page.locator('#map-indicator').selectOption('people');
    const max = await page.evaluate(() => {
      const chart = window.echarts.getInstanceByDom(document.getElementById('region-map'));
      return chart.getOption().visualMap[0].text[0];
    });
    assert.equal(max, '在册服务对象', 'the legend names the indicator');
  });

  await step('click 攸县 on the map → /stats/430223, its outline and its stations', async () => {
    const at = await pixelOf(page, YOUXIAN_POINT);
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.mouse.click(at.x, at.y)]);
    assertStatus(res, 200, 'GET /stats/430223');
    assertPath(page, `/stats/${YOUXIAN}`);
    await mapReady(page);
    const info = await mapInfo(page);
    assert.deepEqual([info.name, info.features], [`region-${YOUXIAN}`, 1], 'the county alone');
    const stations = JSON.parse(await page.locator('#region-map').getAttribute('data-map')).stations;
    assert.ok(stations.length > 5, `攸县's stations plotted (${stations.length})`);
    assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
  });

  await step('no script errors', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

test('the province: the map of 湖南省\'s 14 cities, a click on 株洲市 drills down', { timeout: 180_000 }, async (t) => {
  const password = strongPassword();
  await server.addUser({ username: 'hn_admin', role: 'civil_affairs_admin', region: '43', password, permanent: true });
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'maps-b-province', () => page);
  await page.setViewportSize({ width: 1440, height: 900 });

  await step('/stats/43: 14 cities on the map', async () => {
    await visit(page, '/login');
    await signIn(page, 'hn_admin', password);
    const res = await visit(page, '/stats/43');
    assertStatus(res, 200, 'GET /stats/43');
    await mapReady(page);
    const info = await mapInfo(page);
    assert.deepEqual([info.name, info.features], ['region-43', 14]);
    assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
  });

  await step('click 株洲市 → /stats/4302', async () => {
    const at = await pixelOf(page, ZHUZHOU_POINT);
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.mouse.click(at.x, at.y)]);
    assertStatus(res, 200, 'GET /stats/4302');
    assertPath(page, `/stats/${CITY}`);
  });

  await step('no script errors', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

test('the wall display at 1920×1080 and 3840×2160: one screen, nothing clipped, live figures', { timeout: 300_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'maps-c-wall', () => page);

  await step('sign in as zz_admin', async () => {
    await visit(page, '/login');
    await signIn(page, 'zz_admin', DEMO_PASSWORD);
  });

  for (const [width, height] of [[1920, 1080], [3840, 2160]]) {
    await step(`/stats/4302/wall at ${width}×${height}: no scrolling, no clipped figure, the map and the ranking in view`, async () => {
      await page.setViewportSize({ width, height });
      const res = await visit(page, `/stats/${CITY}/wall`);
      assertStatus(res, 200, 'GET /stats/4302/wall');
      await mapReady(page);
      assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
      const scroll = await page.evaluate(() => [document.documentElement.scrollHeight, document.documentElement.clientHeight]);
      assert.ok(scroll[0] <= scroll[1], `the page does not scroll (${scroll[0]} > ${scroll[1]})`);
      assert.deepEqual(await clipped(page, '.kpi-value'), [], 'KPI figures that do not fit');
      const boxes = await page.evaluate(() => Array.from(document.querySelectorAll('#wall .kpi, #wall-ranking li, #region-map, .wall-head'))
        .map((e) => { const r = e.getBoundingClientRect(); return { what: e.textContent.slice(0, 20), bottom: r.bottom, right: r.right }; })
        .filter((b) => b.bottom > window.innerHeight + 1 || b.right > window.innerWidth + 1));
      assert.deepEqual(boxes, [], 'everything within the window');
      assert.ok(await page.locator('#wall-ranking li').count() >= 9, 'the nine counties ranked');
      const info = await mapInfo(page);
      assert.deepEqual([info.name, info.registered], ['region-4302', true]);
      // Light text on a dark background, never on white.
      const colours = await page.evaluate(() => {
        const li = document.querySelector('#wall-ranking li');
        return [getComputedStyle(li).color, getComputedStyle(document.getElementById('wall')).backgroundColor];
      });
      assert.deepEqual(colours, ['rgb(230, 238, 252)', 'rgb(11, 30, 59)'], 'ranking text and wall background');
    });
  }

  await step('the clock ticks and the figures refresh from /stats/4302/wall.json without a reload', async () => {
    await page.setViewportSize({ width: 1920, height: 1080 });
    await visit(page, `/stats/${CITY}/wall?refresh=10`);
    const clock = await page.locator('#wall-clock').innerText();
    await page.waitForTimeout(1200);
    assert.notEqual(await page.locator('#wall-clock').innerText(), clock, 'the clock moved');
    const navigations = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    const res = await page.waitForResponse((r) => r.url().includes(`/stats/${CITY}/wall.json`), { timeout: 20_000 });
    assert.equal(res.status(), 200);
    const j = await res.json();
    await eventually(async () => assert.ok(await page.locator('#wall').getAttribute('data-refreshed'), 'refreshed'));
    assert.equal(await page.locator('#kpi-records').innerText(), j.kpis.records, 'the figure from the JSON');
    assert.deepEqual(navigations, [], 'no reload');
  });

  await step('click 攸县 on the wall map → /stats/430223/wall', async () => {
    await mapReady(page);
    const at = await pixelOf(page, YOUXIAN_POINT);
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.mouse.click(at.x, at.y)]);
    assertStatus(res, 200, 'GET /stats/430223/wall');
    assertPath(page, `/stats/${YOUXIAN}/wall`);
    await mapReady(page);
    assert.deepEqual(await clipped(page, '.kpi-value'), [], 'KPI figures that do not fit');
  });

  await step('no script errors', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

test('the public portal at 390 px and 1440 px: no overflow, the map, the directory searched and paged', { timeout: 180_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'maps-d-portal', () => page);

  for (const width of [390, 1440]) {
    await step(`/public?region=4302 at ${width} px: no overflow, the map drawn, 20 stations a page`, async () => {
      await page.setViewportSize({ width, height: 900 });
      const res = await visit(page, `/public?region=${CITY}`);
      assertStatus(res, 200, 'GET /public?region=4302');
      await mapReady(page);
      assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
      assert.equal(await page.locator('#public-stations tbody tr').count(), 20, 'a page of the directory');
      const info = await mapInfo(page);
      assert.deepEqual([info.name, info.features], ['region-4302', 9]);
    });
  }

  await step('page 2 of the directory', async () => {
    const res = await clickAndWait(page, page.locator('.pager a[rel="next"]'));
    assertStatus(res, 200, 'GET /public?…page=2');
    assert.equal(new URL(page.url()).searchParams.get('page'), '2');
    assert.equal(await page.locator('#public-stations tbody tr').count(), 20, 'a second full page (112 stations)');
  });

  await step('search 攸县: only 攸县\'s stations, on one page at 390 px', async () => {
    await page.setViewportSize({ width: 390, height: 900 });
    await page.locator('#directory-q').fill('攸县');
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('#directory-search button').click()]);
    assertStatus(res, 200, 'GET /public?q=攸县');
    const rows = await page.locator('#public-stations tbody tr').allInnerTexts();
    assert.ok(rows.length > 5 && rows.length <= 20, `攸县's stations (${rows.length})`);
    for (const r of rows) {
      assert.match(r, /攸县/, r);
    }
    assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
  });

  await step('click 攸县 on the portal map → /public?region=430223', async () => {
    await visit(page, `/public?region=${CITY}`);
    await mapReady(page);
    const at = await pixelOf(page, YOUXIAN_POINT);
    const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.mouse.click(at.x, at.y)]);
    assertStatus(res, 200, 'GET /public?region=430223');
    assert.equal(new URL(page.url()).searchParams.get('region'), YOUXIAN);
    assert.deepEqual(await overflow(page), [], 'nothing wider than the window');
  });

  await step('no script errors', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

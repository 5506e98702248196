// A social worker's day on a phone (issue 19, items 1 and 2), at 390×844 on the demo: the menu
// folded behind a button in a compact header (closed on every page, opened and closed by the
// button), lists as cards, touch-sized controls (buttons, inputs, selects, row actions at least
// 44 px tall), no page scrolling sideways — on every page a worker uses: the workbench, 我的工作台,
// the residents and the visits-due lists, a resident's file, the cases and a case, the services
// and the new-service form, notifications, the account page, then every other page of the menu.
// On the worker's own resident's file the phone number is shown in full as a tap-to-call link.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  Server,
  assertStatus,
  launchBrowser,
  openSession,
  overflow,
  screenshot,
  signIn,
  steps,
  visit,
} from './helpers.mjs';

const DEMO_PASSWORD = 'Shegong#2026';
const WORKER = 'hjt_worker';
const PHONE = { width: 390, height: 844 };
const TOUCH = 44;

let server;
let browser;

before(async () => {
  server = await Server.start('phone', { config: 'demo = true', readyTimeoutMs: 300_000 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Controls on the page shorter than a fingertip: buttons, inputs, selects, row actions. */
function smallControls(page) {
  return page.evaluate((min) => {
    const selector = [
      'main .btn',
      'main button:not(.twisty)',
      'main input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"]):not([type="file"])',
      'main select',
      'main table.data td.actions a',
      '.topbar a',
      '.topbar button',
    ].join(', ');
    const out = [];
    for (const el of document.querySelectorAll(selector)) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue;
      if (r.height < min - 0.5) {
        const name = (el.textContent || el.getAttribute('name') || el.id || '').replace(/\s+/g, ' ').trim().slice(0, 30);
        out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className} "${name}" is ${Math.round(r.height)} px tall`);
      }
    }
    return out.slice(0, 10);
  }, TOUCH);
}

/** The page's own width against the window's (the document must not scroll sideways). */
function widths(page) {
  return page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  }));
}

/** The faults of the current page at phone size: sideways scrolling, an open menu, small controls. */
async function phoneFaults(page, href, { touch = true } = {}) {
  const faults = [];
  const { scroll, viewport } = await widths(page);
  if (scroll > viewport) faults.push(`${href}: the document is ${scroll} px wide in a ${viewport} px window`);
  for (const f of await overflow(page)) faults.push(`${href}: ${f}`);
  // Pages of their own (the API documentation) have no menu.
  if (await page.locator('header.topbar').count()) {
    if (await page.locator('aside.sidebar').isVisible()) faults.push(`${href}: the menu is open on arrival`);
    if (!(await page.locator('#menu-toggle').isVisible())) faults.push(`${href}: no menu button`);
  }
  if (touch) {
    for (const f of await smallControls(page)) faults.push(`${href}: ${f}`);
  }
  return faults;
}

test(`a social worker's pages at 390×844 (${WORKER})`, { timeout: 900_000 }, async (t) => {
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'phone', () => page);
  const faults = [];
  let resident = null;
  let kase = null;

  await step('sign in on a phone', async () => {
    await page.setViewportSize(PHONE);
    await visit(page, '/login');
    const res = await signIn(page, WORKER, DEMO_PASSWORD);
    assertStatus(res, 200, 'sign-in');
    assert.equal(new URL(page.url()).pathname, '/');
  });

  await step('the menu: folded behind a button in a compact header; the button opens and closes it', async () => {
    const toggle = page.locator('#menu-toggle');
    assert.ok(await toggle.isVisible(), 'the menu button is shown');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('aside.sidebar').isVisible(), false, 'the menu is closed');
    const header = await page.locator('header.topbar').boundingBox();
    assert.ok(header.height <= 60, `the header is compact (${header.height} px)`);
    const main = await page.locator('main').boundingBox();
    assert.ok(main.y <= 70, `the content starts under the header (${main.y} px)`);
    const box = await toggle.boundingBox();
    assert.ok(box.height >= TOUCH && box.width >= TOUCH, `the menu button is touch-sized (${box.width}×${box.height})`);

    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.ok(await page.locator('aside.sidebar').isVisible(), 'the menu opens');
    assert.ok(await page.locator('aside.sidebar nav a[href="/my"]').isVisible(), '我的工作台 is in the menu');
    assert.ok(await page.locator('header.topbar form[action="/logout"] button').isVisible(), 'sign-out shows with the menu');
    const link = await page.locator('aside.sidebar nav a[href="/residents"]').boundingBox();
    assert.ok(link.height >= TOUCH, `menu links are touch-sized (${link.height} px)`);
    const { scroll, viewport } = await widths(page);
    assert.ok(scroll <= viewport, `the open menu fits (${scroll} > ${viewport})`);
    await screenshot(page, 'phone-02a-menu-open');

    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('aside.sidebar').isVisible(), false, 'the menu closes');

    await toggle.click();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('aside.sidebar').isVisible(), false, 'Escape closes the menu');
  });

  await step('the workbench /', async () => {
    faults.push(...(await phoneFaults(page, '/')));
  });

  await step('我的工作台 /my: due visits as cards with a touch-sized 记录探访', async () => {
    assertStatus(await visit(page, '/my'), 200, '/my');
    faults.push(...(await phoneFaults(page, '/my')));
    const due = page.locator('table#due');
    assert.ok(await due.evaluate((e) => e.classList.contains('cards')), 'the due list is shown as cards');
    const record = page.locator('table#due a.btn', { hasText: '记录探访' }).first();
    if (await record.count()) {
      const box = await record.boundingBox();
      assert.ok(box.height >= TOUCH, `记录探访 is ${box.height} px tall`);
    }
  });

  await step('the residents list: cards, each with the name as its title', async () => {
    assertStatus(await visit(page, '/residents?mine=me'), 200, '/residents');
    faults.push(...(await phoneFaults(page, '/residents?mine=me')));
    const table = page.locator('table#residents');
    assert.ok(await table.evaluate((e) => e.classList.contains('cards')), 'the residents list is shown as cards');
    const first = table.locator('tbody tr').first();
    const title = first.locator('td.card-title a');
    assert.equal(await title.count(), 1, 'the card title is the name');
    resident = new URL(await title.getAttribute('href'), server.url).pathname;
    const card = await first.boundingBox();
    assert.ok(card.width <= PHONE.width, `a card fits the window (${card.width} px)`);
    assert.ok(await first.locator('td[data-label="风险等级"]').isVisible(), 'key facts are labelled');
  });

  await step('visits due (overdue, mine)', async () => {
    assertStatus(await visit(page, '/residents?due=overdue&mine=me'), 200, 'visits due');
    faults.push(...(await phoneFaults(page, '/residents?due=overdue&mine=me')));
  });

  await step("the worker's own resident: phone in full as a tap-to-call link", async () => {
    assert.ok(resident, 'a resident of the worker');
    // The first of the worker's residents with a phone on file (children have none).
    const list = await page.evaluate(() => Array.from(document.querySelectorAll('table#residents tbody td.card-title a'))
      .map((a) => a.getAttribute('href')).slice(0, 10));
    let called = null;
    for (const href of [resident, ...list]) {
      assertStatus(await visit(page, href), 200, href);
      if (await page.locator('#phone a[href^="tel:"]').count()) {
        called = href;
        break;
      }
    }
    assert.ok(called, 'one of the worker\'s residents has a tap-to-call phone');
    faults.push(...(await phoneFaults(page, called)));
    const link = page.locator('#phone a[href^="tel:"]');
    assert.match(await link.getAttribute('href'), /^tel:\+?\d{5,}$/);
    assert.match((await link.textContent()).trim(), /^\d[\d-]{4,}$/, 'the number is shown in full, not masked');
    assert.ok(await page.locator('#contact-basis').isVisible(), 'why it is shown in full');
    assert.equal(await page.locator('#reveal-form').count(), 0, 'no reason asked');
  });

  await step('the cases list and a case', async () => {
    assertStatus(await visit(page, '/cases'), 200, '/cases');
    faults.push(...(await phoneFaults(page, '/cases')));
    const a = page.locator('main table.data a[href^="/cases/"]').first();
    assert.equal(await a.count(), 1, 'the worker has a case');
    kase = await a.getAttribute('href');
    assertStatus(await visit(page, kase), 200, kase);
    faults.push(...(await phoneFaults(page, kase)));
  });

  await step('the services list and the new-service form', async () => {
    assertStatus(await visit(page, '/services'), 200, '/services');
    faults.push(...(await phoneFaults(page, '/services')));
    // The filters fold to the first field; a button opens the others.
    const filters = page.locator('form.filters[role="search"]');
    assert.ok(await filters.evaluate((f) => f.classList.contains('folded')), 'the filters are folded');
    const more = filters.locator('button.filters-toggle');
    assert.equal(await more.getAttribute('aria-expanded'), 'false');
    const hiddenSelect = filters.locator('select').first();
    assert.equal(await hiddenSelect.isVisible(), false, 'the other filters are hidden');
    await more.click();
    assert.ok(await hiddenSelect.isVisible(), 'the button opens them');
    const cards = page.locator('main table.data.cards tbody tr');
    assert.ok(await cards.count() > 0, 'the services are cards');
    assertStatus(await visit(page, '/services/new'), 200, '/services/new');
    faults.push(...(await phoneFaults(page, '/services/new')));
    // One column: every field's control starts at the same left edge as its label.
    const rows = await page.evaluate(() => Array.from(document.querySelectorAll('form.form .form-row'))
      .filter((r) => r.querySelector(':scope > label') && r.offsetParent)
      .map((r) => {
        const label = r.querySelector(':scope > label').getBoundingClientRect();
        const control = r.querySelector(':scope > :not(label)').getBoundingClientRect();
        return control.top >= label.bottom - 1;
      }));
    assert.ok(rows.length > 3 && rows.every(Boolean), 'labels above their controls');
    const save = page.locator('form.form .form-actions .btn-primary, form.form .form-actions button').first();
    const box = await save.boundingBox();
    assert.ok(box.height >= TOUCH, `the save button is ${box.height} px tall`);
  });

  await step('notifications and the account page', async () => {
    for (const href of ['/notifications', '/account']) {
      assertStatus(await visit(page, href), 200, href);
      faults.push(...(await phoneFaults(page, href)));
    }
  });

  await step('none of these pages scrolls sideways, opens with the menu, or has small controls', async () => {
    assert.deepEqual(faults, [], 'faults at 390×844');
  }, { shot: false });

  await step('every other page of the menu fits 390 px', async () => {
    const hrefs = await page.locator('aside.sidebar nav a').evaluateAll((links) => links
      .map((a) => new URL(a.href))
      .filter((u) => u.origin === window.location.origin)
      .map((u) => u.pathname + u.search));
    const wide = [];
    for (const href of [...new Set(hrefs)]) {
      const res = await visit(page, href);
      const status = res ? res.status() : 0;
      if (status >= 400 && status !== 422) {
        wide.push(`${href}: HTTP ${status}`);
        continue;
      }
      wide.push(...(await phoneFaults(page, href, { touch: false })));
    }
    assert.deepEqual(wide, [], 'menu pages at 390×844');
    t.diagnostic(`${hrefs.length} menu pages checked at 390×844`);
  }, { shot: false });

  await step('desktop is unchanged: at 1440×900 the menu is beside the content, no button', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    assertStatus(await visit(page, '/residents'), 200, '/residents');
    assert.ok(await page.locator('aside.sidebar').isVisible(), 'the menu is shown');
    assert.equal(await page.locator('#menu-toggle').isVisible(), false, 'no menu button');
    const display = await page.locator('table#residents tbody td').nth(1).evaluate((td) => getComputedStyle(td).display);
    assert.equal(display, 'table-cell', 'the list is a table again');
    assert.equal(await page.locator('table#residents thead').isVisible(), true, 'the table has its heading');
  });

  await step('no script errors', async () => {
    assert.deepEqual(problems, []);
  }, { shot: false });
});

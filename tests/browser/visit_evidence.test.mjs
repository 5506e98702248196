// A visit with evidence on a phone (issue 19 item 3), at 390×844: a township social worker opens
// 记录探访 for a resident, takes a photo (a 2400×1200 PNG chosen through the camera input is
// resized on the device to a 1600 px JPEG before it is sent), ticks "record my location" (the
// browser's position, faked, fills the hidden fields and is shown), has the resident confirm, and
// saves. The record's page shows the location with its accuracy, the confirmation and the photo
// (fetched through the record: a JPEG 1600 px wide); no page scrolls sideways, no script error.

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';

import {
  Server,
  assertStatus,
  clickAndWait,
  launchBrowser,
  overflow,
  pageFetch,
  signIn,
  steps,
  strongPassword,
  uniqueName,
  visit,
} from './helpers.mjs';

const TOWNSHIP = '430202001';
const PHONE = { width: 390, height: 844 };
const HERE = { latitude: 27.834512, longitude: 113.151234, accuracy: 18 };

let server;
let browser;

before(async () => {
  server = await Server.start('visit-evidence');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

// ---------------------------------------------------------------------------
// A real PNG, made here (no image library): `w`×`h`, two coloured halves.
// ---------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.alloc(1 + w * 3);
  for (let x = 0; x < w; x++) {
    const left = x < w / 2;
    row[1 + x * 3] = left ? 200 : 30;
    row[2 + x * 3] = left ? 80 : 140;
    row[3 + x * 3] = left ? 40 : 220;
  }
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a worker records a home visit with a photo and the location on a phone', async (t) => {
  const username = uniqueName('visitor');
  const password = strongPassword();
  await server.addUser({ username, role: 'social_worker', region: TOWNSHIP, password, permanent: true, name: '王芳' });

  const context = await browser.newContext({
    baseURL: server.url,
    locale: 'zh-CN',
    viewport: PHONE,
    isMobile: true,
    hasTouch: true,
    geolocation: HERE,
    permissions: ['geolocation'],
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) {
      problems.push(`console error on ${page.url()}: ${msg.text()}`);
    }
  });
  const step = await steps(t, 'visit-evidence', () => page);
  let resident;
  let service;

  try {
    await step('sign in and register a resident', async () => {
      await signIn(page, username, password);
      const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
      const res = await pageFetch(page, '/api/v1/residents', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({
          name: '赵桂兰',
          birth_date: '1948-03-02',
          region: TOWNSHIP,
          risk_tier: 'general',
          legal_basis: 'statutory_duty',
          confirm_duplicates: true,
        }),
      });
      assert.equal(res.status, 201, res.text);
      resident = res.json.id;
    }, { shot: false });

    await step('open the visit form from the file', async () => {
      assertStatus(await visit(page, `/residents/${resident}`), 200, 'the file');
      await clickAndWait(page, page.locator("#record-visit"));
      await page.locator('#kind').selectOption('visit');
      await page.locator('#method').selectOption('home');
      assert.equal(await page.locator('#photos').getAttribute('capture'), 'environment');
      assert.equal(await page.locator('#photos').getAttribute('accept'), 'image/*');
      assert.equal(await page.locator('#geo-consent').isChecked(), false, 'location is off by default');
      assert.equal(await page.locator('#latitude').inputValue(), '');
      assert.deepEqual(await overflow(page), []);
    });

    await step('take a photo: resized on the phone', async () => {
      await page.locator('#photos').setInputFiles({ name: 'camera.png', mimeType: 'image/png', buffer: png(2400, 1200) });
      await page.waitForFunction(() => document.getElementById('photos-status')?.dataset.state === 'resized');
      const sent = await page.evaluate(() => {
        const f = document.getElementById('photos').files[0];
        return { n: document.getElementById('photos').files.length, type: f.type, size: f.size, name: f.name };
      });
      assert.equal(sent.n, 1);
      assert.equal(sent.type, 'image/jpeg', JSON.stringify(sent));
      assert.ok(sent.size < 400_000, JSON.stringify(sent));
    });

    await step('record my location (with consent)', async () => {
      await page.locator('#geo-consent').check();
      await page.waitForFunction(() => document.getElementById('geo-status')?.dataset.state === 'located');
      assert.equal(await page.locator('#latitude').inputValue(), '27.834512');
      assert.equal(await page.locator('#longitude').inputValue(), '113.151234');
      assert.equal(await page.locator('#accuracy_m').inputValue(), '18');
      assert.match(await page.locator('#geo-status').textContent(), /27\.834512, 113\.151234 ± 18/);
    });

    await step('the resident confirms; save', async () => {
      await page.locator('#confirmed_by').selectOption('resident');
      await page.locator('#notes').fill('血压平稳，家中整洁');
      assert.deepEqual(await overflow(page), []);
      const res = await clickAndWait(page, page.locator('#save-service'));
      assertStatus(res, 200, 'after saving');
      assert.equal(new URL(page.url()).pathname, `/residents/${resident}`);
    });

    await step('the record shows the photo, the location and the confirmation', async () => {
      const list = await pageFetch(page, `/api/v1/services?resident=${resident}`);
      service = list.json.items[0].id;
      assertStatus(await visit(page, `/services/${service}`), 200, 'the record');
      assert.equal(
        (await page.locator('#evidence-geo').textContent()).split('（')[0],
        '27.834512, 113.151234 ± 18 m',
      );
      assert.match(await page.locator('#evidence-confirmation').textContent(), /服务对象本人/);
      const img = page.locator('#evidence-photos img');
      assert.equal(await img.count(), 1);
      await page.waitForFunction(() => document.querySelector('#evidence-photos img')?.complete);
      const width = await img.evaluate((e) => e.naturalWidth);
      assert.equal(width, 1600, 'resized to 1600 px on its long side');
      const src = await img.getAttribute('src');
      const head = await page.evaluate(async (u) => {
        const r = await fetch(u);
        return { status: r.status, type: r.headers.get('content-type') };
      }, src);
      assert.deepEqual(head, { status: 200, type: 'image/jpeg' });
      assert.deepEqual(await overflow(page), []);
    });

    await step('no script errors', async () => {
      assert.deepEqual(problems, []);
    }, { shot: false });
  } finally {
    await context.close();
  }
});

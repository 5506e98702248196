// Two-factor sign-in (TOTP, RFC 6238): an auditor must enrol at the first sign-in (QR code, key,
// first code, ten recovery codes shown once), then signs out and signs in with password + code.
// The code is computed here in Node from the key on the page (HMAC-SHA1 per RFC 6238).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  Server,
  assertPath,
  assertStatus,
  assertVisible,
  clickAndWait,
  launchBrowser,
  menuLinks,
  openSession,
  signIn,
  steps,
  strongPassword,
  uniqueName,
  visit,
} from './helpers.mjs';

let server;
let browser;

before(async () => {
  // The production default: administrators must have a second factor.
  server = await Server.start('twofactor', { twoFactorForAdministrators: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(ch);
    assert.ok(v >= 0, `base32 character ${ch}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) {
    bytes.push(parseInt(bits.slice(i, i + 8), 2));
  }
  return Buffer.from(bytes);
}

const step30 = () => Math.floor(Date.now() / 1000 / 30);

/** The six-digit TOTP of `secret` (base32) for a 30-second step (RFC 6238, HMAC-SHA1). */
function totp(secret, counter = step30()) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

test('RFC 6238 test vector (the helper itself)', () => {
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"
  assert.equal(totp(secret, 1), '287082');
  assert.equal(totp(secret, 37037036), '081804');
});

test('an auditor enrols at the first sign-in, then signs in with password and code', { timeout: 180_000 }, async (t) => {
  const username = uniqueName('aud');
  const password = strongPassword();
  const { context, page, problems } = await openSession(browser, server);
  t.after(() => context.close());
  const step = await steps(t, 'twofactor-enrol-and-sign-in', () => page);
  let secret;
  let enrolStep;

  await step('create an auditor of 芦淞区 (CLI)', async () => {
    await server.addUser({ username, role: 'auditor', region: '430203', password, permanent: true });
  }, { shot: false });

  await step('the password leads to the forced enrolment, nothing else', async () => {
    const res = await signIn(page, username, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/login/twofactor/enrol');
    await assertVisible(page, '#twofactor-required');
    assert.deepEqual(await menuLinks(page), [], 'no menu before enrolment');
    const qrLoaded = await page.locator('img.qr').evaluate((img) => img.complete && img.naturalWidth > 0);
    assert.ok(qrLoaded, 'the QR code image loads (its own SVG route, allowed by the CSP)');
    const res2 = await visit(page, '/audit');
    assertStatus(res2, 200, 'GET /audit');
    assertPath(page, '/login');
    await visit(page, '/login/twofactor/enrol');
    assertPath(page, '/login/twofactor/enrol');
  });

  await step('the first code from the key on the page completes enrolment; ten recovery codes', async () => {
    secret = await page.locator('#totp-secret').getAttribute('data-secret');
    assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit base32 key');
    enrolStep = step30();
    await page.locator('#code').fill(totp(secret, enrolStep));
    const res = await clickAndWait(page, page.locator('form[action="/login/twofactor/enrol"] button[type="submit"]'));
    assertStatus(res, 200, 'enrolment');
    assert.equal(await page.locator('#recovery-codes li').count(), 10, 'ten recovery codes');
    const res2 = await clickAndWait(page, page.locator('#twofactor-continue'));
    assertStatus(res2, 200, 'continue');
    assertPath(page, '/');
    assert.ok((await menuLinks(page)).includes('审计日志'), 'the auditor menu after enrolment');
  });

  await step('sign out', async () => {
    await clickAndWait(page, page.locator('form[action="/logout"] button'));
    assertPath(page, '/login');
  });

  await step('the password alone is not enough: the second step asks for a code', async () => {
    const res = await signIn(page, username, password);
    assertStatus(res, 200, 'sign-in');
    assertPath(page, '/login/twofactor');
    await page.locator('#code').fill('000000' === totp(secret) ? '111111' : '000000');
    const bad = await clickAndWait(page, page.locator('form[action="/login/twofactor"] button[type="submit"]'));
    assertStatus(bad, 401, 'a wrong code');
    await assertVisible(page, '#code-error');
  });

  await step('a fresh code signs in', async () => {
    // A code is accepted once: wait for the step after the one used to enrol.
    while (step30() <= enrolStep) {
      await sleep(500);
    }
    await page.locator('#code').fill(totp(secret));
    const res = await clickAndWait(page, page.locator('form[action="/login/twofactor"] button[type="submit"]'));
    assertStatus(res, 200, 'second step');
    assertPath(page, '/');
    const res2 = await visit(page, '/account/twofactor');
    assertStatus(res2, 200, 'own two-factor page');
    await assertVisible(page, '#twofactor-state');
  });

  assert.deepEqual(problems, [], 'no script or CSP errors');
});

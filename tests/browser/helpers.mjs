// Shared harness for the browser tests: starts the real `shegong` binary on a fresh SQLite
// database, creates accounts with its CLI, drives Debian's Chromium through playwright-core,
// and runs each scenario as a list of named steps (one screenshot after each step, and a
// readable report of the step that failed).
//
// Environment:
//   SHEGONG_BIN    the binary to test (default: <repo>/target/debug/shegong)
//   CHROMIUM_PATH  the browser (default: what `command -v chromium` finds)

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'target', 'browser-screenshots');
export const LOG_DIR = path.join(REPO_ROOT, 'target', 'browser-logs');

/** How long the first start may take (it loads ~45k regions into the new database). */
const READY_TIMEOUT_MS = 60_000;
/**
 * A demo server seeds about 2,000 people with a year of visits and services, one record at a
 * time through the store, before it listens: in a debug build on a loaded two-core machine that
 * took 150 s (2026-12-06), so demo servers get longer.
 */
const DEMO_READY_TIMEOUT_MS = 300_000;
/** Generous limits for single browser actions and page loads. */
const ACTION_TIMEOUT_MS = 15_000;
const NAVIGATION_TIMEOUT_MS = 30_000;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

// ---------------------------------------------------------------------------
// Names and passwords
// ---------------------------------------------------------------------------

/** A username no other test uses: `prefix` + a random suffix (lower case, 3–32 characters). */
export function uniqueName(prefix) {
  const suffix = Date.now().toString(36).slice(-4) + Math.random().toString(36).slice(2, 6);
  return `${prefix}_${suffix}`.toLowerCase();
}

/** A password the default policy accepts (≥ 10 characters, 4 classes) that names no user. */
export function strongPassword() {
  return `Qz7!${Math.random().toString(36).slice(2, 8)}-Wm3#`;
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

export function binaryPath() {
  const b = process.env.SHEGONG_BIN;
  return b ? path.resolve(b) : path.join(REPO_ROOT, 'target', 'debug', 'shegong');
}

/** The environment for the binary: none of the caller's Shegong settings may leak in. */
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || (k.startsWith('SHEGONG_') && !k.startsWith('SHEGONG_LOG'))) {
      continue;
    }
    env[k] = v;
  }
  env.NO_COLOR = '1';
  return env;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function exited(proc) {
  return proc.exitCode !== null || proc.signalCode !== null;
}

function waitForExit(proc, ms) {
  if (exited(proc)) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function tail(text, lines = 30) {
  return text.split('\n').slice(-lines).join('\n');
}

// Servers still running when this process ends (a failed run, Ctrl-C): stop them too.
const running = new Set();
const tempDirs = new Set();
process.once('exit', () => {
  for (const proc of running) {
    proc.kill('SIGKILL');
  }
  for (const dir of tempDirs) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}

/**
 * A running `shegong serve` on a fresh database in a temporary directory.
 * `name` names its log file: target/browser-logs/<name>.log.
 */
export class Server {
  /**
   * `twoFactorForAdministrators`: whether administrators must sign in with a second factor (the
   * production default). Off unless a test asks, so the other tests sign in with a password.
   */
  static async start(name, { twoFactorForAdministrators = false, config = '', readyTimeoutMs } = {}) {
    const server = new Server(name);
    server.twoFactorForAdministrators = twoFactorForAdministrators;
    // More of shegong.toml (TOML text appended after the second-factor setting).
    server.extraConfig = config;
    // A demo database seeds for a while before the server listens: it gets longer, unless the
    // test says how long.
    server.readyTimeoutMs =
      readyTimeoutMs ?? (/^\s*demo\s*=\s*true/m.test(config) ? DEMO_READY_TIMEOUT_MS : READY_TIMEOUT_MS);
    await server.#start();
    return server;
  }

  constructor(name) {
    this.name = name;
    this.twoFactorForAdministrators = false;
    this.readyTimeoutMs = READY_TIMEOUT_MS;
    this.bin = binaryPath();
    this.dir = null;
    this.databaseUrl = null;
    this.url = null;
    this.proc = null;
    this.output = '';
    this.logPath = path.join(LOG_DIR, `${name}.log`);
  }

  async #start() {
    if (!fs.existsSync(this.bin)) {
      throw new Error(
        `the shegong binary is missing: ${this.bin}\n` +
          'build it with `cargo build -p shegong` (or run scripts/browser-test), or set SHEGONG_BIN',
      );
    }
    await mkdir(LOG_DIR, { recursive: true });
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'shegong-browser-'));
    tempDirs.add(this.dir);
    this.databaseUrl = `sqlite://${this.dir}/t.db`;
    const configPath = path.join(this.dir, 'shegong.toml');
    fs.writeFileSync(
      configPath,
      `twofactor_for_administrators = ${this.twoFactorForAdministrators}\n${this.extraConfig ?? ''}\n`,
    );
    const log = fs.createWriteStream(this.logPath);
    // The port is free when chosen but could be taken before the server binds it: try again.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      this.url = `http://127.0.0.1:${port}`;
      this.output = '';
      log.write(`\n=== shegong serve on ${this.url} (attempt ${attempt}) ===\n`);
      const proc = spawn(
        this.bin,
        ['serve', '--config', configPath, '--database-url', this.databaseUrl, '--bind', `127.0.0.1:${port}`, '--metrics-bind', ''],
        { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      this.proc = proc;
      running.add(proc);
      proc.once('exit', () => running.delete(proc));
      for (const stream of [proc.stdout, proc.stderr]) {
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          this.output += chunk;
          log.write(chunk);
        });
      }
      const spawnError = new Promise((_, reject) => proc.once('error', reject));
      spawnError.catch(() => {});
      try {
        await Promise.race([this.#waitReady(), spawnError]);
        return;
      } catch (e) {
        await this.stop();
        const addrInUse = /address already in use|AddrInUse/i.test(this.output);
        if (addrInUse && attempt < 3) {
          continue;
        }
        throw new Error(
          `${e.message}\n--- server output (full log: ${this.logPath}) ---\n${tail(this.output)}`,
        );
      }
    }
  }

  async #waitReady() {
    const deadline = Date.now() + this.readyTimeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (exited(this.proc)) {
        throw new Error(
          `shegong serve exited (code ${this.proc.exitCode}, signal ${this.proc.signalCode}) before it was ready`,
        );
      }
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
        if (res.status === 200) {
          return;
        }
        last = `HTTP ${res.status}: ${await res.text()}`;
      } catch (e) {
        last = e.cause?.code || e.message;
      }
      await sleep(200);
    }
    throw new Error(`GET ${this.url}/readyz did not answer 200 within ${this.readyTimeoutMs / 1000} s (last: ${last})`);
  }

  /**
   * `shegong user add` against this server's database (the server keeps running: SQLite WAL).
   * Without `permanent` the password is temporary and must be changed at first sign-in.
   */
  async addUser({ username, role, region, password, permanent = false, name }) {
    const args = ['user', 'add', username, '--role', role, '--region', region, '--password-stdin'];
    if (permanent) {
      args.push('--permanent');
    }
    if (name) {
      args.push('--name', name);
    }
    args.push('--database-url', this.databaseUrl);
    const proc = spawn(this.bin, args, { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    proc.stderr.setEncoding('utf8').on('data', (c) => (out += c));
    const done = new Promise((resolve, reject) => {
      proc.once('error', reject);
      proc.once('close', (code, signal) => resolve({ code, signal }));
    });
    proc.stdin.end(`${password}\n`);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    const { code, signal } = await done.finally(() => clearTimeout(timer));
    if (code !== 0) {
      throw new Error(
        `shegong ${args.slice(0, 7).join(' ')} … failed (exit ${code}, signal ${signal}):\n${out}`,
      );
    }
    return out;
  }

  /** Stop with SIGTERM (SIGKILL after 15 s); the exit code, or null if it had to be killed. */
  async stop() {
    const proc = this.proc;
    if (!proc) {
      return null;
    }
    if (!exited(proc)) {
      proc.kill('SIGTERM');
      if (!(await waitForExit(proc, 15_000))) {
        proc.kill('SIGKILL');
        await waitForExit(proc, 5_000);
        return null;
      }
    }
    return proc.exitCode;
  }

  /** Stop the server, check it shut down cleanly, and remove its database. */
  async close() {
    const code = await this.stop();
    if (this.dir) {
      await rm(this.dir, { recursive: true, force: true });
      tempDirs.delete(this.dir);
    }
    assert.equal(
      code,
      0,
      `shegong serve should exit with status 0 on SIGTERM (log: ${this.logPath})\n${tail(this.output)}`,
    );
  }
}

// ---------------------------------------------------------------------------
// The browser
// ---------------------------------------------------------------------------

function chromiumPath() {
  if (process.env.CHROMIUM_PATH) {
    return process.env.CHROMIUM_PATH;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      "Chromium not found: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH",
    );
  }
}

export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/**
 * A fresh browser profile (own cookies) on `server` with one page. Chinese by default, as the
 * platform's users are. `problems` collects script errors and console errors (CSP violations
 * among them) so a test can assert there were none.
 */
export async function openSession(browser, server, { locale = 'zh-CN' } = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    locale,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (msg) => {
    // Error statuses are expected in these tests (401, 403, 404, 422): the browser reports each.
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of/.test(msg.text())) {
      problems.push(`console error on ${page.url()}: ${msg.text()}`);
    }
  });
  return { context, page, problems };
}

// ---------------------------------------------------------------------------
// Steps and screenshots
// ---------------------------------------------------------------------------

function slug(s) {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Run a scenario as named subtests of `t`. Each step gets a screenshot afterwards
 * (target/browser-screenshots/<prefix>-NN-<step>.png; `{ shot: false }` for steps without a
 * page to show); a failing step gets one named …-FAILED, and the steps after it are skipped
 * (they would only fail for the same reason).
 *
 *   const step = steps(t, 'a-first-login', () => page);
 *   await step('sign in', async () => { … });
 */
export async function steps(t, prefix, currentPage) {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  for (const f of await readdir(SCREENSHOT_DIR)) {
    if (f.startsWith(`${prefix}-`)) {
      await unlink(path.join(SCREENSHOT_DIR, f)).catch(() => {});
    }
  }
  let failed = null;
  let n = 0;
  return async function step(name, fn, { shot = true } = {}) {
    n += 1;
    const base = `${prefix}-${String(n).padStart(2, '0')}-${slug(name)}`;
    if (failed) {
      await t.test(name, { skip: `an earlier step failed: "${failed}"` }, () => {});
      return;
    }
    await t.test(name, async (st) => {
      const page = currentPage();
      try {
        await fn();
      } catch (e) {
        failed = name;
        if (page && !page.isClosed()) {
          st.diagnostic(`failed on page ${page.url()}`);
          const file = await screenshot(page, `${base}-FAILED`).catch(() => null);
          if (file) {
            st.diagnostic(`screenshot: ${path.relative(REPO_ROOT, file)}`);
          }
        }
        throw e;
      }
      if (shot && page && !page.isClosed()) {
        await screenshot(page, base);
      }
    });
  };
}

// ---------------------------------------------------------------------------
// Page helpers and assertions
// ---------------------------------------------------------------------------

const norm = (s) => (s ?? '').replace(/\s+/g, ' ').trim();

/** The whitespace-normalised text of the first element matching `selector` (waits for it). */
export async function textOf(page, selector) {
  const l = page.locator(selector).first();
  await l.waitFor({ state: 'attached' });
  return norm(await l.textContent());
}

export async function assertText(page, selector, expected) {
  assert.equal(await textOf(page, selector), expected, `text of ${selector} on ${page.url()}`);
}

export async function assertVisible(page, selector) {
  try {
    await page.locator(selector).first().waitFor({ state: 'visible' });
  } catch {
    assert.fail(`${selector} should be visible on ${page.url()}`);
  }
}

export function assertStatus(response, expected, what) {
  assert.ok(response, `${what}: no response`);
  assert.equal(response.status(), expected, `${what}: HTTP status of ${response.url()}`);
}

export function assertPath(page, expectedPath) {
  assert.equal(new URL(page.url()).pathname, expectedPath, `path of ${page.url()}`);
}

/** Go to `url` (relative to the server); the final response, after any redirects. */
export function visit(page, url) {
  return page.goto(url, { waitUntil: 'load' });
}

/** Click something that submits a form or follows a link; the final response of the navigation. */
export async function clickAndWait(page, locator) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
  return response;
}

/** Fill the login form (opening /login first unless it is shown) and submit it. */
export async function signIn(page, username, password) {
  if (new URL(page.url()).pathname !== '/login') {
    await visit(page, '/login');
  }
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  return clickAndWait(page, page.locator('form[action="/login"] button[type="submit"]'));
}

/** Retry `fn` (which asserts) until it passes or `ms` elapse; then its last error. */
export async function eventually(fn, ms = ACTION_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) {
        throw e;
      }
    }
    await sleep(100);
  }
}

/** Names of the links in the left menu. */
export async function menuLinks(page) {
  return (await page.locator('aside.sidebar nav a').allTextContents()).map(norm);
}

/** `fetch` from inside the page (its cookies, its origin): status, whether redirected, body. */
export function pageFetch(page, url, init = {}) {
  return page.evaluate(
    async ([u, i]) => {
      const r = await fetch(u, i);
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: r.status, redirected: r.redirected, url: r.url, json, text };
    },
    [url, init],
  );
}

// ---------------------------------------------------------------------------
// Layout checks
// ---------------------------------------------------------------------------

/**
 * What sticks out: the page's own horizontal scroll, and elements wider than the window (a wide
 * table inside its own scrolling box, `.table-wrap`, is seen through that box and does not count).
 */
export async function overflow(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > vw + 1) {
      out.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
    }
    const scrolls = (e) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX);
    for (const el of document.querySelectorAll('body *')) {
      let p = el.parentElement;
      while (p && p !== document.body && !scrolls(p)) p = p.parentElement;
      if (p && p !== document.body) continue;
      const r = el.getBoundingClientRect();
      if (r.width > vw + 1) {
        out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className} is ${Math.round(r.width)} px wide`);
      }
    }
    return out.slice(0, 10);
  });
}

/** KPI figures (elements matching `selector`) whose text does not fit their box. */
export async function clipped(page, selector) {
  return page.evaluate((sel) => Array.from(document.querySelectorAll(sel))
    .filter((e) => e.scrollWidth > e.clientWidth
      || (getComputedStyle(e).overflowY !== 'visible' && e.scrollHeight > e.clientHeight))
    .map((e) => `${e.id || e.className}: "${e.textContent}" ${e.scrollWidth}/${e.clientWidth}`), selector);
}

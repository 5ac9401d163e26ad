// GateGuard's browser test harness, shared by the lane display's tests and
// the console's: Debian's chromium (/usr/bin/chromium, from scripts/deps.sh)
// driven by playwright-core, pinned in package-lock.json; no browser is ever
// downloaded (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 in scripts/test-browser.sh).
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const repo = path.resolve(__dirname, '..', '..', '..');
const executablePath = process.env.GATEGUARD_CHROMIUM || '/usr/bin/chromium';

// launch starts headless chromium. --no-sandbox: the tests may run as root.
async function launch() {
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
}

// start runs a command from the repository root and resolves once a line of
// its stdout matches ready (a RegExp); the match is returned with the
// process, its collected output and a promise of its exit code.
function start(cmd, args, { ready, timeoutMs = 60000, env = {} } = {}) {
  const proc = spawn(cmd, args, { cwd: repo, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  proc.stderr.on('data', (b) => { out.stderr += b; });
  const matched = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd}: no line matching ${ready} within ${timeoutMs} ms\n${out.stderr.slice(-3000)}`)), timeoutMs);
    proc.stdout.on('data', (b) => {
      out.stdout += b;
      const m = ready && out.stdout.match(ready);
      if (m) { clearTimeout(timer); resolve(m); }
    });
    exited.then((code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}) before it was ready\n${out.stderr.slice(-3000)}`)); });
  });
  return { proc, out, exited, ready: matched };
}

// waitOutput resolves with the first match of re in a started process's
// stdout after offset from (0: all of it), as soon as the output holding it
// arrives; null after timeoutMs or when the process exits without it.
function waitOutput(h, re, from = 0, timeoutMs = 8000) {
  const look = () => h.out.stdout.slice(from).match(re);
  const now = look();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (m) => { clearTimeout(timer); h.proc.stdout.off('data', onData); resolve(m); };
    const onData = () => { const m = look(); if (m) done(m); };
    const timer = setTimeout(() => done(null), timeoutMs);
    h.proc.stdout.on('data', onData);
    h.exited.then(() => done(look()));
  });
}

// waitPageText waits until the page at url (fetched by the page, with its
// session) shows want, within timeoutMs, then navigates there and reports
// whether its visible text includes want: the condition is what the test
// waits on (Playwright re-checks it), never a fixed time.
async function waitPageText(page, url, want, timeoutMs = 8000) {
  await page.waitForFunction(async ([u, w]) => {
    const doc = new DOMParser().parseFromString(await (await fetch(u)).text(), 'text/html');
    return doc.body.textContent.includes(w);
  }, [url, want], { timeout: timeoutMs, polling: 100 }).catch(() => {});
  await page.goto(url);
  return (await page.innerText('body')).includes(want);
}

// screenshot saves a PNG of the page under dir (created) and returns its path.
async function screenshot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name + '.png');
  await page.screenshot({ path: file });
  return file;
}

// check collects failures so that a run reports every one of them.
class Checks {
  constructor() { this.failures = []; }
  ok(cond, msg) { if (!cond) { this.failures.push(msg); console.error('FAIL ' + msg); } else { console.log('ok   ' + msg); } }
  done() {
    if (this.failures.length) { console.error(`${this.failures.length} failure(s)`); process.exitCode = 1; }
    return this.failures.length === 0;
  }
}

module.exports = { repo, launch, start, waitOutput, waitPageText, screenshot, Checks };

// make soak-ui: 20 simulated gates × 10 events/s (every 10th a fever
// denial with its alert and thermal snapshot) into gatewatch while a live
// page is open in headless chromium and a second "browser" stops reading its
// event stream. For SOAK_UI_SECONDS (120) it samples, every 2 s: the ingest's
// lag (events the gates sent minus events stored), how long the open page
// takes to answer a click, its event-loop lag beside an idle page's in the
// same browser (the host is shared), and how long gatewatch takes to serve
// a page.
// It checks that every event was stored (the ingest never waited for a
// browser), that the stalled stream was dropped with a reload marker instead
// of holding anything up, and that the page stayed responsive. The last line
// is the numbers. Exits non-zero on a failure. SOAK_STORE=postgres runs
// gatewatch on a throwaway PostgreSQL server, SOAK_BROKER=nats on its
// embedded broker (the large-site stack's store and broker) instead of
// SQLite and Mosquitto.
'use strict';
const path = require('node:path');
const { repo, launch, screenshot, Checks } = require('../lib/harness');
const { world, password, startPiped, bin } = require('./setup');

const seconds = Number(process.env.SOAK_UI_SECONDS || 120);
const gates = Array.from({ length: 20 }, (_, i) => `lane-${i + 1}`);

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function simStats(w) {
  const from = w.sim.out.stdout.length;
  await w.send('stats');
  const m = w.sim.out.stdout.slice(from).match(/stats published=(\d+) commands=\d+ seqs=(\d+)/);
  return { published: Number(m[1]), seqs: Number(m[2]) };
}

async function stored(w) {
  const r = await fetch(w.url + '/api/gates', { headers: { Authorization: 'Bearer ' + w.token } });
  const body = await r.json();
  const gs = body.gates || body;
  let seqs = 0; let missing = 0;
  for (const g of gs) { seqs += g.max_seq; missing += g.missing; }
  return seqs - missing;
}

async function cookieFor(w, user) {
  const r = await fetch(w.url + '/login', { method: 'POST', redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: user, password }) });
  const sc = r.headers.get('set-cookie') || '';
  return sc.split(';')[0];
}

async function main() {
  const checks = new Checks();
  const w = await world({ gates, lanes: {}, rate: 10, simArgs: ['-alert-every', '10'], logLevel: 'info',
    store: process.env.SOAK_STORE || 'sqlite', broker: process.env.SOAK_BROKER || 'mosquitto' });
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(w.url + '/login');
    await page.fill('#username', 'gus');
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(/\/live/), page.click('button[type=submit]')]);
    await page.waitForSelector('#live-status.on', { timeout: 10000 });
    await page.click('#sound'); // muted: twenty alerts a second is noise
    // A control: a page of the same browser with no live updates (the
    // roster), measured the same way, tells the page's own cost from the
    // host's load (the test machine is shared).
    const control = await ctx.newPage();
    await control.goto(w.url + '/people');

    const cookie = await cookieFor(w, 'vic');
    const slow = startPiped(bin('gatewatch-sim'), ['-slow-stream', w.url + '/live/stream', '-cookie', cookie,
      '-slow-pause', `${Math.max(10, seconds - 15)}s`], /slow: connected/);
    await slow.ready;

    const click = []; const serve = []; const lag = []; const loop = []; let unflipped = 0;
    const ctrlLoop = [];
    for (const p of [page, control]) {
      await p.evaluate(() => { // event-loop lag: how late a 100 ms timer fires
        let last = performance.now();
        setInterval(() => { const now = performance.now(); window.__lagMax = Math.max(window.__lagMax || 0, now - last - 100); last = now; }, 100);
      });
    }
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await sleep(2000);
      const [s, st] = await Promise.all([simStats(w), stored(w)]);
      lag.push(Math.max(0, s.seqs - st));
      // Responsiveness: a click on the sound button, from the test's
      // request to the page having handled it (the time to get the page's
      // main thread plus the handler), and the page's own event-loop lag.
      const c0 = Date.now();
      const flipped = await page.evaluate(() => {
        const b = document.getElementById('sound');
        const before = b.getAttribute('aria-pressed');
        b.click();
        const after = b.getAttribute('aria-pressed');
        b.click();
        return before !== after;
      }).catch(() => false); // a reload in progress
      click.push(Date.now() - c0);
      if (!flipped) unflipped++;
      const readLag = (p) => p.evaluate(() => { const m = window.__lagMax || 0; window.__lagMax = 0; return Math.round(m); }).catch(() => 0);
      loop.push(await readLag(page));
      ctrlLoop.push(await readLag(control));
      const g0 = Date.now();
      const r = await fetch(w.url + '/gates', { headers: { Cookie: cookie } });
      await r.text();
      serve.push(Date.now() - g0);
    }
    await w.send('pause');
    // An entry already past the pause check may still be sent: read the
    // gates' totals until two reads agree.
    let final = await simStats(w);
    for (;;) { await sleep(300); const again = await simStats(w); if (again.seqs === final.seqs) break; final = again; }
    const d0 = Date.now();
    let got = await stored(w);
    while (got < final.seqs && Date.now() - d0 < 60000) { await sleep(200); got = await stored(w); }
    const drainMs = Date.now() - d0;
    await screenshot(page, path.join(repo, 'bin', 'ui-screens'), 'soak-live');
    const pageStats = await page.evaluate(() => ({ received: window.consoleLive.received, items: document.querySelectorAll('#open > li').length,
      reloads: Number(sessionStorage.getItem('gw-reloads') || 0) }));

    const slowOut = await Promise.race([slow.exited.then(() => slow.out.stdout), sleep(60000).then(() => slow.out.stdout)]);
    const sm = slowOut.match(/slow: bytes=(\d+) reload=(true|false) after=(\S+)/);
    const fellBehind = (w.gatewatch.out.stderr.match(/fell behind/g) || []).length;
    const hub = w.gatewatch.out.stderr; // the hub's counters are logged when it stops

    const alerts = Math.floor(final.seqs / 11); // every 10th background event adds an alert message
    checks.ok(got === final.seqs, `every event and alert stored: ${got} of ${final.seqs} (drained ${drainMs} ms after the gates paused)`);
    checks.ok(sm && sm[2] === 'true', `the stalled stream was dropped with a reload marker (${sm ? sm[0] : 'no report'})`);
    checks.ok(fellBehind >= 1, `gatewatch logged the dropped page (${fellBehind})`);
    checks.ok(unflipped === 0, `the open page answered every click (p50 ${pct(click, 0.5)} ms, p95 ${pct(click, 0.95)} ms)`);
    checks.ok(pct(loop, 0.95) <= pct(ctrlLoop, 0.95) + 1000,
      `the live page's event-loop lag p95 ${pct(loop, 0.95)} ms is within 1 s of an idle page's on the same host (${pct(ctrlLoop, 0.95)} ms)`);
    checks.ok(pageStats.received > 0, `the open page received ${pageStats.received} live updates`);
    checks.ok(errors.length === 0, `no page errors ${errors.join('; ')}`);
    void hub;
    await w.close();
    const m = w.gatewatch.out.stderr.match(/live hub stopped.*polls=(\d+) sent=(\d+) dropped=(\d+) poll_max_ms=(\d+)/);
    console.log(`store=${w.store} broker=${w.broker} gates=${gates.length} events_per_s_per_gate=10 seconds=${seconds} seqs=${final.seqs} stored=${got} ` +
      `ingest_lag_max=${Math.max(...lag)} ingest_lag_p95=${pct(lag, 0.95)} drain_ms=${drainMs} ` +
      `page_updates=${pageStats.received} page_items=${pageStats.items} page_reloads=${pageStats.reloads} ` +
      `click_p50_ms=${pct(click, 0.5)} click_p95_ms=${pct(click, 0.95)} click_max_ms=${Math.max(...click)} ` +
      `page_loop_lag_p95_ms=${pct(loop, 0.95)} page_loop_lag_max_ms=${Math.max(...loop)} idle_page_loop_lag_p95_ms=${pct(ctrlLoop, 0.95)} ` +
      `page_get_p50_ms=${pct(serve, 0.5)} page_get_p95_ms=${pct(serve, 0.95)} ` +
      `slow_stream_reload=${sm ? sm[2] : 'none'} slow_stream_reload_after=${sm ? sm[3] : 'none'} dropped_pages=${m ? m[3] : fellBehind} hub_sent=${m ? m[2] : '?'} hub_poll_max_ms=${m ? m[4] : '?'} alerts≈${alerts}`);
  } catch (e) {
    checks.ok(false, 'soak-ui: ' + (e.stack || e));
  } finally {
    await browser.close();
    await w.close();
  }
  if (!checks.done()) process.exit(1);
}

main().catch((e) => { console.error(e); process.exit(1); });

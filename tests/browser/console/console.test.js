// make test-ui: the security staff's console end to end, in headless
// Debian chromium driven by playwright-core, against gatewatch (SQLite,
// Mosquitto) fed by simulated gates. It signs in; sees a fever alert
// arrive live within 2 s with its thermal snapshot and acknowledges it; is
// refused an admin page as a guard; searches the log and checks the CSV
// export row by row; checks the headcount against the roster and its
// chart; prints the fire-alarm muster list; opens a gate remotely and
// finds the gate's remote_open event in the log; sets a gate to
// maintenance and back from the Gates page (mode column, log, audit log); and shows the live page
// in Chinese. A screenshot of each page goes under bin/ui-screens/.
// Exits non-zero on any failure.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { repo, launch, waitOutput, waitPageText, screenshot, Checks } = require('../lib/harness');
const { world, roster, password } = require('./setup');

const screens = path.join(repo, 'bin', 'ui-screens');
const cat = (lang) => JSON.parse(fs.readFileSync(path.join(repo, 'gate', 'central', 'console', 'messages', lang + '.json'), 'utf8'));
const en = cat('en');
const zh = cat('zh');

async function login(browser, url, user, opts = {}) {
  const ctx = await browser.newContext({ viewport: opts.viewport || { width: 1366, height: 900 }, acceptDownloads: true, ...opts.context });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(url + '/live');
  await page.waitForURL(/\/login/);
  if (opts.shotLogin) await screenshot(page, screens, opts.shotLogin);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/live/), page.click('button[type=submit]')]);
  return page;
}

async function api(w, p) {
  const r = await fetch(w.url + p, { headers: { Authorization: 'Bearer ' + w.token } });
  if (!r.ok) throw new Error(`api ${p}: ${r.status}`);
  return r.json();
}

function parseCSV(text) {
  // The export quotes with RFC 4180; our cells have no embedded newlines.
  return text.trim().split('\n').map((line) => {
    const out = []; let cur = ''; let q = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (q) { if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') q = false; else cur += ch; }
      else if (ch === '"') q = true; else if (ch === ',') { out.push(cur); cur = ''; } else cur += ch;
    }
    out.push(cur.replace(/\r$/, ''));
    return out;
  });
}

async function main() {
  const checks = new Checks();
  fs.rmSync(screens, { recursive: true, force: true });
  const w = await world();
  const browser = await launch();
  try {
    // History for the chart, and today: entries at lane-1, some leave at lane-2 (exit).
    await w.send('history lane-1 21', 60000);
    const entered = ['E001', 'E002', 'E003', 'E004', 'E101', 'E102', 'E201'];
    for (const id of entered) await w.send(`enter lane-1 ${id}`);
    await w.send('enter lane-2 E004'); // E004 left through the exit lane
    const onSiteNow = entered.filter((id) => id !== 'E004');

    // 1. Log in (guard), the live page.
    const page = await login(browser, w.url, 'gus', { shotLogin: 'login' });
    checks.ok(await page.locator('h1').innerText() === en['live.title'], 'signed in: the live page');
    await page.waitForSelector('#live-status.on', { timeout: 10000 });
    checks.ok(true, 'live stream connected');

    // 2. A fever alert appears live within 2 s, with its snapshot.
    const t0 = Date.now();
    await w.send('fever lane-1 E005 38.6');
    const item = page.locator('#open li.type-fever').first();
    await item.waitFor({ timeout: 5000 });
    const appeared = Date.now() - t0;
    await page.waitForFunction(() => {
      const img = document.querySelector('#open li.type-fever img');
      return img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: 5000 }).catch(() => {});
    const withImage = Date.now() - t0;
    checks.ok(appeared <= 2000, `fever alert appeared live in ${appeared} ms (≤ 2000)`);
    checks.ok(withImage <= 2000, `its thermal snapshot shown ${withImage} ms after (≤ 2000)`);
    const text = await item.innerText();
    checks.ok(text.includes(en['alert.fever_notice']), 'fever alert says: screening result, confirm with a clinical thermometer');
    checks.ok(text.includes('38.6') && text.includes('陈静') && text.includes('lane-1'), 'fever alert shows the temperature, the person and the gate');
    checks.ok(await page.evaluate(() => (window.consoleLive.beeps || 0) >= 1), 'a sound played for the new alert');
    await screenshot(page, screens, 'live');

    // Mute: the next alert is silent.
    await page.click('#sound');
    checks.ok(await page.getAttribute('#sound', 'aria-pressed') === 'false', 'sound muted (aria-pressed=false)');
    const beeps = await page.evaluate(() => window.consoleLive.beeps);
    await w.send('fever lane-1 E006 38.1');
    await page.locator('#open li.type-fever').nth(1).waitFor({ timeout: 5000 });
    checks.ok(await page.evaluate(() => window.consoleLive.beeps) === beeps, 'muted: no sound for the second alert');
    await page.click('#sound');

    // 3. Acknowledge it with a note: it leaves the top list, shows who and the note.
    const id = (await item.getAttribute('id')).replace('alert-', '');
    await page.fill(`#note-${id}`, 'Rechecked with clinical thermometer: 37.9 °C, sent to clinic');
    await page.click(`#alert-${id} .ack-form button`);
    await page.waitForSelector(`#done #alert-${id}`, { timeout: 5000 });
    const ackText = await page.locator(`#alert-${id}`).innerText();
    checks.ok(ackText.includes('gus') && ackText.includes('sent to clinic'), 'acknowledged: by gus with the note');
    const acked = (await api(w, '/api/alerts?status=acknowledged')).alerts || [];
    checks.ok(acked.some((a) => a.alert_id === id && a.ack_by === 'gus'), 'the store has the acknowledgement');
    const openIds = await page.$$eval('#open > li', (ls) => ls.map((l) => l.dataset.acked));
    checks.ok(openIds.every((a) => a === '0'), 'unacknowledged alerts stay on top, acknowledged ones below');
    await screenshot(page, screens, 'live-acknowledged');

    // 4. A guard is refused an admin page.
    const resp = await page.goto(w.url + '/access');
    checks.ok(resp.status() === 403 && (await page.innerText('main')).includes(en['error.forbidden.title']), `guard refused /access (${resp.status()})`);
    await screenshot(page, screens, 'forbidden');

    // 5. Search the log and export CSV: the file holds exactly the rows the filter shows.
    await page.goto(w.url + '/log');
    await page.selectOption('#f-gate', 'lane-1');
    await page.selectOption('#f-decision', 'denied');
    await Promise.all([page.waitForURL(/decision=denied/), page.click('.filters button[type=submit]')]);
    const shown = await page.$$eval('table.log tbody tr', (rs) => rs.map((r) => r.dataset.id));
    checks.ok(shown.length === 2, `log filter gate=lane-1 decision=denied shows the 2 fever denials (${shown.length})`);
    await screenshot(page, screens, 'log');
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const csv = parseCSV(fs.readFileSync(await dl.path(), 'utf8'));
    const head = csv[0];
    const rows = csv.slice(1);
    checks.ok(head.join(',') === 'time,site,gate,kind,decision,reasons,holder,name,temperature_c,operator,operator_reason,seq,id', 'CSV header');
    const idCol = head.indexOf('id');
    checks.ok(rows.length === shown.length && rows.every((r, i) => r[idCol] === shown[i]), `CSV rows are the shown rows, in order (${rows.length})`);
    checks.ok(rows.every((r) => r[2] === 'lane-1' && r[4] === 'denied' && r[5] === 'fever'), 'every CSV row matches the filter');
    checks.ok(rows.some((r) => r[6] === 'E005' && r[7] === '陈静' && r[8] === '38.6'), 'CSV row carries holder, name and temperature');

    // 6. Headcount against the roster, and the chart.
    await page.goto(w.url + '/onsite');
    const depts = [...new Set(roster.map((r) => r[2]))];
    let headOK = true;
    for (const d of depts) {
      const members = roster.filter((r) => r[2] === d).map((r) => r[0]);
      const back = members.filter((m) => entered.includes(m)).length;
      const now = members.filter((m) => onSiteNow.includes(m)).length;
      const row = page.locator(`#headcount tbody tr[data-dept="${d}"]`);
      const got = [await row.locator('.roster').innerText(), await row.locator('.back').innerText(), await row.locator('.onsite').innerText()];
      if (got.join('/') !== `${members.length}/${back}/${now}`) { headOK = false; console.error(`${d}: got ${got.join('/')}, want ${members.length}/${back}/${now}`); }
    }
    checks.ok(headOK, 'headcount per department: roster, back today, on site now');
    checks.ok((await page.innerText('#basis')) === en['onsite.now'], 'with an exit lane the page says "on site now"');
    const lines = await page.$$eval('#trend svg polyline', (ps) => ps.map((p) => ({ dept: p.dataset.dept, n: p.getAttribute('points').split(' ').length })));
    checks.ok(lines.length === depts.length && lines.every((l) => l.n === 21), `chart: one 21-day line per department (${JSON.stringify(lines)})`);
    await screenshot(page, screens, 'onsite');
    await page.screenshot({ path: path.join(screens, 'onsite-full.png'), fullPage: true });

    // 7. Fire alarm: the banner, and the muster list of everyone on site now.
    await w.send('fire lane-1 on');
    for (let i = 0; i < 50; i++) { // until the ingest has committed the gate's retained state
      const gs = await api(w, '/api/gates');
      if ((gs.gates || gs).some((g) => g.gate === 'lane-1' && g.fire_alarm)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.goto(w.url + '/onsite/muster');
    await page.waitForSelector('.fire-banner', { timeout: 5000 });
    const ids = await page.$$eval('.muster-table tbody tr td:nth-child(3)', (tds) => tds.map((t) => t.innerText.trim()));
    checks.ok(ids.sort().join(',') === [...onSiteNow].sort().join(','), `muster list = on site now (${ids.join(',')})`);
    await page.emulateMedia({ media: 'print' });
    await screenshot(page, screens, 'muster-print');
    await page.emulateMedia({ media: 'screen' });
    await screenshot(page, screens, 'muster');
    await w.send('fire lane-1 off');

    // 8. Remote open: reaches the gate (the simulator verified the signature) and shows in the log.
    await page.goto(w.url + '/gates');
    await screenshot(page, screens, 'gates');
    page.once('dialog', (d) => d.accept());
    const simFrom = w.sim.out.stdout.length;
    await page.click('#gate-lane-1 button.open');
    await page.waitForSelector('#command-result .result', { timeout: 8000 });
    const result = await page.innerText('#command-result');
    const m = w.sim.out.stdout.slice(simFrom).match(/cmd open lane-1 (gus\.[0-9a-f]+)/);
    checks.ok(!!m, 'the gate received and verified the signed open carrying the guard (gus.…)');
    checks.ok(m && result.includes(m[1]), `the page shows the gate's answer: ${result}`);
    await screenshot(page, screens, 'gates-opened');
    const found = !!m && (await waitPageText(page, w.url + '/log?kind=remote_open', m[1]));
    checks.ok(found, 'the remote_open event is in the log with the operator and request');
    await screenshot(page, screens, 'log-remote-open');

    // 8b. Set mode: lane-2 to maintenance from the Gates page and back. The
    // gate (the simulator, with the gate's verifier) gets the signed command
    // carrying the guard, the page shows its answer, the mode column
    // changes once the gate's retained state is stored, and the mode_change
    // event is in the log; the admin's audit log has both commands (below).
    const modeRequests = [];
    for (const mode of ['maintenance', 'normal']) {
      await page.goto(w.url + '/gates');
      const from = w.sim.out.stdout.length;
      await page.selectOption('#mode-lane-2', mode);
      await page.click('#gate-lane-2 form[action$="/set_mode"] button[type=submit]');
      const re = new RegExp(`cmd set_mode lane-2 ${mode} (gus\\.[0-9a-f]+)`);
      const sm = await waitOutput(w.sim, re, from);
      checks.ok(!!sm, `set_mode ${mode}: the gate received and verified the signed command carrying the guard`);
      if (!sm) continue;
      modeRequests.push(sm[1]);
      await page.waitForFunction((id) => document.querySelector('#command-result').innerText.includes(id), sm[1], { timeout: 8000 }).catch(() => {});
      const said = await page.innerText('#command-result');
      checks.ok(said.includes(sm[1]) && said.includes(en['mode.' + mode]), `set_mode ${mode}: the page shows the gate's answer: ${said}`);
      await page.goto(w.url + '/gates');
      await page.waitForFunction(async (want) => {
        const doc = new DOMParser().parseFromString(await (await fetch('/gates')).text(), 'text/html');
        return doc.querySelector('#gate-lane-2 dd.mode')?.textContent.trim() === want;
      }, en['mode.' + mode], { timeout: 8000, polling: 100 }).catch(() => {});
      await page.goto(w.url + '/gates');
      const shownMode = (await page.innerText('#gate-lane-2 dd.mode')).trim();
      checks.ok(shownMode === en['mode.' + mode], `set_mode ${mode}: the mode column shows "${shownMode}"`);
      if (mode === 'maintenance') await screenshot(page, screens, 'gates-maintenance');
      const logged = await waitPageText(page, w.url + '/log?kind=mode_change&gate=lane-2', sm[1]);
      checks.ok(logged, `set_mode ${mode}: the mode_change event is in the log with the operator and request`);
      if (mode === 'maintenance') await screenshot(page, screens, 'log-mode-change');
    }

    // 9. People: the roster; this gatewatch has no console.enrolment, so the
    // page says enrolment is off (people.test.js runs one that has it).
    await page.goto(w.url + '/people');
    checks.ok((await page.locator('table.people tbody tr').count()) === roster.length, 'people: the roster');
    checks.ok((await page.innerText('main')).includes(en['enrol.off']), 'without console.enrolment the page says face enrolment is off and how to turn it on');
    await screenshot(page, screens, 'people');

    // 10. Admin: the access page with the audit log of each action.
    const admin = await login(browser, w.url, 'ada');
    await admin.goto(w.url + '/access');
    const actions = await admin.$$eval('#audit tbody tr', (rs) => rs.map((r) => r.dataset.action));
    for (const a of ['login', 'acknowledge', 'export', 'command', 'denied']) checks.ok(actions.includes(a), `audit log has ${a}`);
    const auditText = await admin.innerText('#audit');
    checks.ok(modeRequests.length === 2 && modeRequests.every((id) => auditText.includes(id)), `audit log has both set_mode commands (${modeRequests.join(', ')})`);
    await admin.screenshot({ path: path.join(screens, 'access.png'), fullPage: true });

    // 10b. An admin's override from the Gates page: its reason goes in the
    // signed command, the gate records it in its event (operator_reason)
    // and the Log shows it beside the operator.
    const why = 'Ambulance crew at lane 1: patient rechecked 36.9 °C';
    await admin.goto(w.url + '/gates');
    await admin.click('#gate-lane-1 form[action$="/open"] details.override summary');
    await admin.check('#gate-lane-1 form[action$="/open"] input[name=override]');
    await admin.fill('#reason-lane-1-open', why);
    admin.once('dialog', (d) => d.accept());
    await admin.click('#gate-lane-1 button.open');
    await admin.waitForFunction(() => /ada\.[0-9a-f]+/.test(document.querySelector('#command-result').innerText), null, { timeout: 8000 }).catch(() => {});
    checks.ok(/ada\.[0-9a-f]+/.test(await admin.innerText('#command-result')), `override: the gate carried it out (${await admin.innerText('#command-result')})`);
    const whyShown = await waitPageText(admin, w.url + '/log?kind=remote_open', why);
    checks.ok(whyShown, 'override: the log shows the reason the gate recorded');
    await screenshot(admin, screens, 'log-override-reason');

    // A credential holder mismatch (an entry denied for face_mismatch) is a live item too.
    await page.goto(w.url + '/live');
    await w.send('mismatch lane-1 E103');
    const mm = page.locator('#open li.type-holder_mismatch').first();
    await mm.waitFor({ timeout: 5000 }).catch(() => {});
    checks.ok((await mm.count()) === 1 && (await mm.innerText()).includes(en['alert.type.holder_mismatch']) && (await mm.innerText()).includes('周杰'),
      'live: a credential holder mismatch appears with the person');

    // Gate problems on the live page: a gate offline, a sequence gap.
    await page.goto(w.url + '/live');
    await w.send('offline lane-2');
    await w.send('gap lane-1 3');
    const offlineText = en['live.gate_offline'].split('{0}')[1].split('(')[0].trim(); // "is offline"
    const gapText = en['live.gate_gap'].replace('{0}', 'lane-1').replace('{1}', '3').split('(')[0].trim();
    await page.waitForFunction(([a, b]) => { const p = document.getElementById('problems').innerText; return p.includes(a) && p.includes(b); },
      [offlineText, gapText], { timeout: 8000 }).catch(() => {});
    const probs = await page.innerText('#problems');
    checks.ok(probs.includes('lane-2 ' + offlineText) && probs.includes(gapText), `live: gate offline and sequence gap shown (${probs.replace(/\n/g, ' | ')})`);
    await screenshot(page, screens, 'live-problems');

    // 11. The same live page in Chinese (user li), on a phone.
    const li = await login(browser, w.url, 'li', { viewport: { width: 390, height: 844 }, context: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } });
    checks.ok(await li.evaluate(() => document.documentElement.lang) === 'zh-Hans', 'Chinese page: lang=zh-Hans');
    checks.ok((await li.locator('h1').innerText()) === zh['live.title'], 'Chinese page: the title from the zh catalogue');
    await w.send('fever lane-1 E201 38.9');
    const zitem = li.locator('#open li.type-fever').first();
    await zitem.waitFor({ timeout: 5000 });
    const ztext = await zitem.innerText();
    checks.ok(ztext.includes(zh['alert.type.fever']) && ztext.includes(zh['alert.fever_notice']), 'Chinese: a live fever alert in Chinese');
    checks.ok(!ztext.includes(en['alert.fever_notice']), 'Chinese: no English text in the alert');
    await li.waitForFunction(() => { const i = document.querySelector('#open li.type-fever img'); return i && i.complete && i.naturalWidth > 0; }, null, { timeout: 5000 }).catch(() => {});
    await screenshot(li, screens, 'live-zh-phone');
    await li.setViewportSize({ width: 1366, height: 900 });
    await screenshot(li, screens, 'live-zh');

    // Keyboard: the skip link is the first tab stop.
    await page.goto(w.url + '/live');
    await page.keyboard.press('Tab');
    checks.ok(await page.evaluate(() => document.activeElement.className) === 'skip', 'keyboard: first Tab reaches the skip link');

    for (const [n, p] of [['guard', page], ['admin', admin], ['zh', li]]) checks.ok(p.errors.length === 0, `${n}: no page errors ${p.errors.join('; ')}`);
  } catch (e) {
    checks.ok(false, 'test-ui: ' + (e.stack || e));
  } finally {
    await browser.close();
    await w.close();
  }
  console.log(`screenshots: ${screens}`);
  if (!checks.done()) process.exit(1);
}

main().catch((e) => { console.error(e); process.exit(1); });

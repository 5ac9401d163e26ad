// make test-display: the lane display on the demo scenario, in English and
// in Chinese. For each language it runs the daemon on simulated hardware
// (gateguard simulate -c configs/demo.yaml configs/scenarios/demo.yaml with
// the display on a free loopback port), opens the lane page in headless
// chromium, lets the scenario play, and checks that the page showed each
// step's prompt in order: idle, code seen, welcome, fever, fire alarm, with
// the catalogue's words. A screenshot of each state goes under
// bin/display-screens/. Exits non-zero on any failure.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { repo, launch, start, screenshot, Checks } = require('./lib/harness');

const bin = process.env.GATEGUARD_BIN || path.join(repo, 'bin', 'gateguard');
const screens = path.join(repo, 'bin', 'display-screens');
const catalogue = (lang) => JSON.parse(fs.readFileSync(path.join(repo, 'gate', 'display', 'messages', lang + '.json'), 'utf8'));

// The steps every language must show, in order: each is a predicate on
// what the page showed (its words, its icon) for a view it received.
function expected(msgs) {
  return [
    { name: 'idle', test: (v) => v.kind === 'idle' && v.title === msgs['title.idle'] },
    { name: 'code_seen', test: (v) => v.kind === 'code_seen' && v.title === msgs['title.code_seen'] },
    { name: 'welcome', test: (v) => v.kind === 'admitted' && v.decision === 'admitted' &&
        v.title === msgs['title.admitted'].replace('{name}', 'alice') && /36\.\d °C/.test(v.detail) },
    { name: 'fever', test: (v) => v.kind === 'fever' && v.decision === 'denied' && v.title === msgs['title.fever'] &&
        v.detail === msgs['detail.fever'] },
    { name: 'fire_alarm', test: (v) => v.kind === 'fire_alarm' && v.title === msgs['title.fire_alarm'] &&
        v.detail === msgs['detail.fire_alarm'] },
  ];
}

// Further states of the demo worth a picture: the cold arrival's remeasure
// prompt and a plain denial.
const extras = [
  { name: 'remeasure', test: (v) => v.kind === 'remeasure' && v.reason === 'too_cold_remeasure' },
  { name: 'denied', test: (v) => v.kind === 'denied' && v.reason === 'credential_rejected' },
];

async function runLanguage(browser, lang, checks) {
  const msgs = catalogue(lang);
  const sim = start(bin, ['simulate', '-c', 'configs/demo.yaml', '-display', '127.0.0.1:0', '-language', lang,
    '-wait-display', '60s', '-pace', '500ms', 'configs/scenarios/demo.yaml'], { ready: /display: (http:\/\/\S+)/ });
  let page;
  try {
    const [, url] = await sim.ready;
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    checks.ok(await page.evaluate(() => document.documentElement.lang) === lang, `${lang}: page language`);
    const code = await sim.exited;
    checks.ok(code === 0, `${lang}: scenario played, simulate exited ${code}` + (code ? '\n' + sim.out.stderr.slice(-2000) : ''));
    const history = await page.evaluate(() => window.laneHistory);
    checks.ok(errors.length === 0, `${lang}: no page errors ${errors.join('; ')}`);

    // In order: each expected prompt after the previous one.
    // Each predicate reads the words the page put on screen for the view.
    const onScreen = (v) => v.shown && { ...v, kind: v.shown.kind, title: v.shown.title, detail: v.shown.detail };
    let at = 0;
    const shown = {};
    for (const step of expected(msgs)) {
      const i = history.findIndex((v, j) => j >= at && onScreen(v) && step.test(onScreen(v)));
      checks.ok(i >= 0, `${lang}: ${step.name} shown` + (i >= 0 ? ` (“${history[i].title}” · ${history[i].detail})` : ` after view ${at}`));
      if (i >= 0) { shown[step.name] = history[i]; at = i + 1; }
    }
    for (const step of extras) {
      const v = history.find(step.test);
      checks.ok(!!v, `${lang}: ${step.name} shown`);
      if (v) shown[step.name] = v;
    }
    // Sound: each prompt plays once (a tone, or speech where the browser has
    // a voice); idle is muted in configs/demo.yaml (display.sound.mute).
    checks.ok(shown.welcome && shown.welcome.played !== '' && shown.fire_alarm && shown.fire_alarm.played !== '',
      `${lang}: welcome and fire alarm prompts played (${shown.welcome && shown.welcome.played}, ${shown.fire_alarm && shown.fire_alarm.played})`);
    checks.ok(history.filter((v) => v.kind === 'idle').every((v) => v.played === ''), `${lang}: the muted idle prompt stayed silent`);
    const seqs = history.map((v) => v.seq);
    checks.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]), `${lang}: views arrived in order (${seqs.length} views)`);
    checks.ok(history.every((v) => v.shown && v.shown.title && v.shown.icon === '#i-' + v.icon),
      `${lang}: every view was shown with its words and its icon`);

    // A picture of each state, rendered by the page from the view it
    // received (laneRender also stops live updates: the simulator is gone).
    for (const [name, v] of Object.entries(shown)) {
      await page.evaluate((view) => window.laneRender(view), v);
      const file = await screenshot(page, screens, `${lang}-${Object.keys(shown).indexOf(name) + 1}-${name}`);
      checks.ok(fs.statSync(file).size > 5000, `${lang}: screenshot ${path.relative(repo, file)}`);
    }
  } catch (e) {
    checks.ok(false, `${lang}: ${e.message}`);
  } finally {
    if (page) await page.close();
    if (sim.proc.exitCode === null) sim.proc.kill('SIGTERM');
  }
}

(async () => {
  const checks = new Checks();
  fs.rmSync(screens, { recursive: true, force: true });
  const browser = await launch();
  try {
    for (const lang of ['en', 'zh-Hans']) await runLanguage(browser, lang, checks);
  } finally {
    await browser.close();
  }
  if (checks.done()) console.log(`test-display: ok; screenshots in ${path.relative(repo, screens)}/`);
})().catch((e) => { console.error(e); process.exit(1); });

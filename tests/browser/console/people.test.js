// make test-ui (after console.test.js): the People page's face enrolment
// end to end in headless Debian chromium, against gatewatch with
// console.enrolment set and simulated gates that check enroll commands
// with the gate's own verifier (lane-2's templates file "unwritable"). An
// admin imports a signed enrolment file (a bad one is refused, naming the
// problem, and nothing of it is stored), pushes a person to two gates and
// sees lane-1 "applied" and lane-2 "refused" with its reason, removes the
// person from lane-1; a guard sees the states in Chinese but no import or
// push. Screenshots people-*.png go under bin/ui-screens/ (this test never
// clears the folder: console.test.js does). Exits non-zero on any failure.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { repo, launch, screenshot, Checks } = require('../lib/harness');
const { world, password } = require('./setup');

const screens = path.join(repo, 'bin', 'ui-screens');
const cat = (lang) => JSON.parse(fs.readFileSync(path.join(repo, 'gate', 'central', 'console', 'messages', lang + '.json'), 'utf8'));
const en = cat('en');
const zh = cat('zh');
// shot saves the whole page (the rows of interest are below the forms).
const shot = (page, name) => page.screenshot({ path: path.join(screens, name + '.png'), fullPage: true });
const T = (c, key, ...args) => args.reduce((s, a, i) => s.split('{' + i + '}').join(String(a)), c[key]);

const model = 'facenet+mirror@5eed0f5eed0f5eed';
const dim = 8;

// enrolmentFile writes a file as `gateguard enroll export` does
// (gate/faces/enrolfile): the body's exact bytes signed with the station's
// Ed25519 key.
function enrolmentFile(dir, name, key, edit = (b) => b) {
  const at = new Date(Date.UTC(2026, 10, 30, 8, 15, 0)).toISOString();
  const desc = (n) => Array.from({ length: n }, (_, i) => Array.from({ length: dim }, (_, j) => (i * dim + j) / 97));
  const body = JSON.stringify(edit({
    station: 'desk-1', exported: at, model, dim,
    people: [{ id: 'E001', enrolled: at, descriptors: desc(3) }, { id: 'E101', enrolled: at, descriptors: desc(2) }],
  }));
  const sig = crypto.sign(null, Buffer.from(body), key).toString('base64');
  const file = path.join(dir, name);
  fs.writeFileSync(file, `{"format":"gateguard-enrolment/1","body":${body},"sig":"${sig}"}`);
  return file;
}

async function login(browser, url, user) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(url + '/login');
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/live/), page.click('button[type=submit]')]);
  return page;
}

async function importFile(page, url, file) {
  await page.goto(url + '/people');
  await page.setInputFiles('#enrolments', file);
  await Promise.all([page.waitForLoadState('load'), page.click('#enrol-import button[type=submit]')]);
  await page.waitForSelector('h1');
}

async function push(page, url, person, gates, action) {
  await page.goto(url + '/people');
  await page.check(`#p-${person}`);
  for (const g of gates) await page.check(`input[name=gate][value="${g}"]`);
  await Promise.all([page.waitForURL(/\/people\?/), page.click(`#push-form button[value=${action}]`)]);
}

async function main() {
  const checks = new Checks();
  for (const f of fs.existsSync(screens) ? fs.readdirSync(screens) : []) if (f.startsWith('people-')) fs.rmSync(path.join(screens, f));
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const stationPub = 'ed25519:' + Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url').toString('base64');
  const w = await world({
    extraConsole: ['  enrolment:', `    model: "${model}"`, `    dim: ${dim}`, '    stations:', `      - {id: desk-1, public_key: "${stationPub}"}`],
    simArgs: ['-face-model', model, '-face-dim', String(dim), '-refuse-enroll', 'lane-2'],
  });
  const browser = await launch();
  try {
    const admin = await login(browser, w.url, 'ada');
    await admin.goto(w.url + '/people');
    checks.ok((await admin.innerText('tr[data-person="E001"] td.enrolment')).includes(en['enrol.status.none']), 'before import: E001 not enrolled');
    checks.ok(await admin.isVisible('#enrol-import'), 'admin: the enrolment import form is shown');
    await screenshot(admin, screens, 'people-before');

    // A file of another model is refused whole, naming the problem.
    await importFile(admin, w.url, enrolmentFile(w.dir, 'bad.enrol', privateKey, (b) => ({ ...b, model: 'lbph@r1n8g8x8' })));
    const refused = await admin.innerText('main');
    checks.ok(refused.includes(en['enrol.import.refused']) && refused.includes('model "lbph@r1n8g8x8" is not the gates\' model'), 'a file of another model is refused, naming it');
    checks.ok((await admin.innerText('tr[data-person="E001"] td.enrolment')).includes(en['enrol.status.none']), 'nothing of the refused file is stored');
    await shot(admin, 'people-refused');

    // The good file.
    await importFile(admin, w.url, enrolmentFile(w.dir, 'good.enrol', privateKey));
    checks.ok((await admin.innerText('main')).includes(T(en, 'enrol.imported', 2)), 'import: 2 people imported');
    const status = await admin.innerText('tr[data-person="E001"] td.enrolment');
    checks.ok(status.includes(model) && status.includes('desk-1') && status.includes('3'), `E001 enrolled: ${status}`);
    await shot(admin, 'people-imported');

    // Push E001 to lane-1 (applies) and lane-2 (its templates file is unwritable).
    const from = w.sim.out.stdout.length;
    await push(admin, w.url, 'E001', ['p1/lane-1', 'p1/lane-2'], 'enroll');
    checks.ok((await admin.innerText('main')).includes(T(en, 'enrol.push.done', 2, 1, 1, 0)), 'push: 2 sent, 1 applied, 1 refused');
    const sent = w.sim.out.stdout.slice(from);
    checks.ok(/cmd enroll lane-1 E001 3 ok/.test(sent) && /cmd enroll lane-2 E001 3 failed/.test(sent), 'both gates verified the signed enroll with 3 descriptors');
    const ok1 = await admin.innerText('tr[data-person="E001"] li.push-applied[data-gate="p1/lane-1"]').catch(() => '');
    checks.ok(ok1.includes(en['enrol.push.enroll.applied']), `lane-1 shows applied: ${ok1}`);
    const bad2 = await admin.innerText('tr[data-person="E001"] li.push-refused[data-gate="p1/lane-2"]').catch(() => '');
    checks.ok(bad2.includes('templates_unwritable'), `lane-2 shows refused with its reason: ${bad2}`);
    await shot(admin, 'people-pushed');

    // Remove from lane-1.
    await push(admin, w.url, 'E001', ['p1/lane-1'], 'unenroll');
    const rm = await admin.innerText('tr[data-person="E001"] li[data-gate="p1/lane-1"]').catch(() => '');
    checks.ok(rm.includes(en['enrol.push.unenroll.applied']) && /cmd unenroll lane-1 E001 0 ok/.test(w.sim.out.stdout), `removed from lane-1: ${rm}`);
    await shot(admin, 'people-removed');
    await admin.goto(w.url + '/access');
    const actions = await admin.$$eval('#audit tbody tr', (rs) => rs.map((r) => r.dataset.action));
    for (const a of ['enrol_import', 'enrol_enroll', 'enrol_unenroll']) checks.ok(actions.includes(a), `audit log has ${a}`);

    // A guard (Chinese) sees the states but cannot import or push.
    const li = await login(browser, w.url, 'li');
    await li.goto(w.url + '/people');
    const row = await li.innerText('tr[data-person="E001"]');
    checks.ok(row.includes(zh['enrol.push.unenroll.applied']) && row.includes('templates_unwritable'), `Chinese: the gates' states (${row.replace(/\s+/g, ' ')})`);
    checks.ok(!(await li.isVisible('#enrol-import')) && !(await li.isVisible('#push-form')), 'guard: no import form, no push form');
    const resp = await li.request.post(w.url + '/people/push', { form: { action: 'enroll', person: 'E001', gate: 'p1/lane-1' } });
    checks.ok(resp.status() === 403, `guard push refused (${resp.status()})`);
    await shot(li, 'people-zh');
    for (const [n, p] of [['admin', admin], ['zh', li]]) checks.ok(p.errors.length === 0, `${n}: no page errors ${p.errors.join('; ')}`);
  } catch (e) {
    checks.ok(false, 'people: ' + (e.stack || e));
  } finally {
    await browser.close();
    await w.close();
  }
  console.log(`screenshots: ${screens}/people-*.png`);
  if (!checks.done()) process.exit(1);
}

main().catch((e) => { console.error(e); process.exit(1); });

// The console's browser-test world: a Mosquitto on a free loopback port,
// gatewatch (bin/gatewatch) on SQLite in a temporary folder with the
// console, an operator key, users and a roster, and simulated gates
// (bin/gatewatch-sim) that verify signed commands with the gate's own
// verifier. Shared by console.test.js (make test-ui) and soak.js (make soak-ui).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { repo, start } = require('../lib/harness');

const bin = (name) => process.env['GATEGUARD_' + name.toUpperCase().replace('-', '_') + '_BIN'] || path.join(repo, 'bin', name);
const password = 'console-test-password';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function waitPort(port, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

// The roster: three departments of a factory, Chinese names.
const roster = [
  ['E001', '王伟', '装配车间'], ['E002', '李娜', '装配车间'], ['E003', '张敏', '装配车间'], ['E004', '刘洋', '装配车间'],
  ['E005', '陈静', '装配车间'], ['E006', '杨磊', '装配车间'],
  ['E101', '赵强', '质检部'], ['E102', '黄丽', '质检部'], ['E103', '周杰', '质检部'], ['E104', '吴芳', '质检部'],
  ['E201', '徐明', '物流部'], ['E202', '孙燕', '物流部'], ['E203', '马超', '物流部'], ['E204', '朱红', '物流部'], ['E205', '胡军', '物流部'],
];

// world starts everything; close() stops it. opts.gates names the gates
// (lane-1 entry, lane-2 exit by default); opts.rate runs background
// entries; opts.extraConsole adds console config lines. opts.store
// 'postgres' puts gatewatch on a throwaway PostgreSQL server instead of
// SQLite; opts.broker 'nats' uses gatewatch's embedded broker (the NATS
// server's MQTT listener) instead of a Mosquitto, each gate with its own
// credentials from `gatewatch gate add`.
async function world(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-console-'));
  const procs = [];
  const close = async () => {
    for (const p of procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { p.kill('SIGKILL'); r(); }, 5000); p.on('exit', () => { clearTimeout(t); r(); }); });
      }
    }
    if (!process.env.KEEP_WORLD) fs.rmSync(dir, { recursive: true, force: true });
  };
  const storeKind = opts.store || 'sqlite';
  const brokerKind = opts.broker || 'mosquitto';
  if (!['sqlite', 'postgres'].includes(storeKind)) throw new Error(`store ${storeKind}: want sqlite or postgres`);
  if (!['mosquitto', 'nats'].includes(brokerKind)) throw new Error(`broker ${brokerKind}: want mosquitto or nats`);
  try {
    const mport = await freePort();
    if (brokerKind === 'mosquitto') {
      fs.writeFileSync(path.join(dir, 'mosquitto.conf'),
        `listener ${mport} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_packet_size 262144\nmax_queued_messages 100000\nlog_dest file ${dir}/mosquitto.log\n`);
      const mq = spawn('/usr/sbin/mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
      procs.push(mq);
      await waitPort(mport);
    }
    let dsn = '';
    if (storeKind === 'postgres') { // a throwaway server (gate/central/store/pgtest), stopped with the world
      const pg = startPiped(bin('gatewatch-sim'), ['-postgres'], /pg: ready \S+/, 120000);
      procs.unshift(pg.proc); // stopped last, after gatewatch
      await pg.ready;
      dsn = pg.out.stdout.match(/pg: ready (\S+)/)[1];
    }

    const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
    fs.writeFileSync(path.join(dir, 'operator.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
    fs.writeFileSync(path.join(dir, 'operator.pub'), 'ed25519:' + raw.toString('base64') + '\n');
    const token = crypto.randomBytes(24).toString('hex');
    fs.writeFileSync(path.join(dir, 'api-token'), token + '\n', { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'roster.csv'), 'id,name,department\n' + roster.map((r) => r.join(',')).join('\n') + '\n');
    const gates = opts.gates || ['lane-1', 'lane-2'];
    const lanes = opts.lanes || { 'lane-2': 'exit' };
    const config = [
      'site: p1', `data_dir: ${dir}/data`, `log: {level: ${opts.logLevel || 'warn'}, format: text}`,
      ...(brokerKind === 'nats'
        ? [`broker: {enabled: true, listen: '127.0.0.1:${mport}'}`, 'mqtt:', '  client_id: gatewatch-console-test']
        : ['mqtt:', `  brokers: [tcp://127.0.0.1:${mport}]`, '  client_id: gatewatch-console-test']),
      ...(storeKind === 'postgres' ? ['store:', '  driver: postgres', `  dsn: '${dsn}'`] : []),
      'api:', '  listen: 127.0.0.1:0', '  token_file: api-token',
      'console:', '  operator_id: console', '  command_key_file: operator.pem', '  trend_days: 21', '  command_timeout: 5s',
      ...(Object.keys(lanes).length ? ['  lanes:', ...Object.entries(lanes).map(([g, d]) => `    ${g}: ${d}`)] : []),
      ...(opts.extraConsole || []),
    ].join('\n') + '\n';
    const cfg = path.join(dir, 'gatewatch.yaml');
    fs.writeFileSync(cfg, config);
    const gw = bin('gatewatch');
    const creds = path.join(dir, 'gate-passwords');
    if (brokerKind === 'nats') { // each gate its own broker credentials, as `gatewatch gate add` makes them
      fs.mkdirSync(creds, { mode: 0o700 });
      for (const gname of gates) {
        const r = spawnSync(gw, ['gate', 'add', '-c', cfg, '-site', 'p1', '-o', path.join(creds, gname + '.password'), gname], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`gatewatch gate add ${gname}: ${r.stderr}`);
      }
    }
    for (const [name, role, lang] of [['ada', 'admin', 'en'], ['gus', 'guard', 'en'], ['vic', 'viewer', 'en'], ['li', 'guard', 'zh']]) {
      const r = spawnSync(gw, ['user', 'add', '-c', cfg, '-role', role, '-language', lang, name], { input: password + '\n', encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`gatewatch user add ${name}: ${r.stderr}`);
    }
    const ri = spawnSync(gw, ['roster', 'import', '-c', cfg, path.join(dir, 'roster.csv')], { encoding: 'utf8' });
    if (ri.status !== 0) throw new Error(`gatewatch roster import: ${ri.stderr}`);

    const g = start(gw, ['run', '-c', cfg], { ready: /gatewatch: console at (http\S+)/ });
    procs.push(g.proc);
    const [, url] = await g.ready;
    const simArgs = ['-broker', `tcp://127.0.0.1:${mport}`, '-site', 'p1', '-names', gates.join(','), '-operator', 'console',
      '-pub', path.join(dir, 'operator.pub'), '-roster', path.join(dir, 'roster.csv')];
    if (brokerKind === 'nats') simArgs.push('-password-dir', creds);
    if (opts.rate) simArgs.push('-rate', String(opts.rate));
    if (opts.simArgs) simArgs.push(...opts.simArgs);
    const sim = startPiped(bin('gatewatch-sim'), simArgs, /sim: ready/);
    procs.push(sim.proc);
    await sim.ready;
    return { dir, url: url.replace(/\/$/, ''), token, cfg, gatewatch: g, sim, close, roster, password, send: simSender(sim), store: storeKind, broker: brokerKind };
  } catch (e) {
    await close();
    throw e;
  }
}

// startPiped is harness.start with the child's stdin open for writing
// (the simulator reads its script there).
function startPiped(cmd, args, ready, timeoutMs = 60000) {
  const proc = spawn(cmd, args, { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  proc.stderr.on('data', (b) => { out.stderr += b; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  const matched = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd}: not ready within ${timeoutMs} ms\n${out.stderr.slice(-3000)}`)), timeoutMs);
    proc.stdout.on('data', (b) => {
      out.stdout += b;
      if (ready.test(out.stdout)) { clearTimeout(timer); resolve(); }
    });
    exited.then((code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}) before it was ready\n${out.stderr.slice(-3000)}`)); });
  });
  return { proc, out, exited, ready: matched };
}

// simSender writes a script line to the simulator and resolves when it
// answers "ok LINE" (rejects on "error").
function simSender(sim) {
  return (line, timeoutMs = 15000) => new Promise((resolve, reject) => {
    const from = sim.out.stdout.length;
    const t0 = Date.now();
    sim.proc.stdin.write(line + '\n');
    const iv = setInterval(() => {
      const tail = sim.out.stdout.slice(from);
      if (tail.includes('ok ' + line)) { clearInterval(iv); resolve(Date.now() - t0); }
      const m = tail.match(/^error .*$/m);
      if (m) { clearInterval(iv); reject(new Error(`sim: ${line}: ${m[0]}`)); }
      if (Date.now() - t0 > timeoutMs) { clearInterval(iv); reject(new Error(`sim: ${line}: no answer`)); }
    }, 20);
  });
}

module.exports = { world, roster, password, freePort, startPiped, bin };

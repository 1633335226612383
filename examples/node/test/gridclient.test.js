// gridclient against a real gridd (ctest node_gridclient): starts $GRIDD on
// 127.0.0.1 port 0 in a temp dir with the demo directory and a token file,
// learns its port from --port-file, and drives it through gridclient. A watch
// goes through a TCP forwarder whose connections the test cuts, to break the
// stream the way a network does.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { GridClient, GridError } = require('../gridclient');

const TOKEN = 'node-admin-token-0123456789';
const JINJIANG = { lat: 19.718341, lng: 110.018842 }; // the demo county's Jinjiang grid (kDemoJinjiangPoint)

/** Forwards a local port to gridd; cut() closes every open connection. */
class CuttableProxy {
  static async open(targetPort, port = 0) {
    const proxy = new CuttableProxy(targetPort);
    await new Promise((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(port, '127.0.0.1', resolve);
    });
    proxy.port = proxy.server.address().port;
    return proxy;
  }

  constructor(targetPort) {
    this.sockets = new Set();
    this.server = net.createServer((down) => {
      const up = net.connect(targetPort, '127.0.0.1');
      for (const s of [down, up]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => { this.sockets.delete(s); down.destroy(); up.destroy(); });
      }
      down.pipe(up);
      up.pipe(down);
    });
  }

  cut() {
    for (const s of this.sockets) s.destroy();
  }

  async stop() {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function startGridd(dir, extra = []) {
  const tokens = path.join(dir, 'tokens');
  fs.writeFileSync(tokens, `${TOKEN} admin * node-test\n`, { mode: 0o600 });
  const portFile = path.join(dir, 'port');
  const log = fs.openSync(path.join(dir, 'gridd.log'), 'w');
  const gridd = spawn(process.env.GRIDD, ['--listen', '127.0.0.1:0', '--data', path.join(dir, 'data'),
    '--port-file', portFile, '--tokens', tokens, ...extra], { stdio: ['ignore', log, log] });
  let exited = false;
  gridd.on('exit', () => { exited = true; });
  const deadline = Date.now() + 30000;
  while (!fs.existsSync(portFile)) {
    if (exited || Date.now() > deadline) {
      gridd.kill('SIGKILL');
      throw new Error(`gridd did not start:\n${fs.readFileSync(path.join(dir, 'gridd.log'), 'utf8')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { gridd, port: Number(fs.readFileSync(portFile, 'utf8').trim()) };
}

test('gridclient against gridd', { timeout: 120000 }, async (t) => {
  assert.ok(process.env.GRIDD, 'GRIDD names the gridd binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridclient-node-'));
  const { gridd, port } = await startGridd(dir);
  const client = new GridClient(`127.0.0.1:${port}`, { token: TOKEN });
  t.after(() => {
    client.close();
    gridd.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const submit = (key, extra = {}) => client.submit({
    idempotencyKey: key, category: 'sanitation.garbage', description: '小区门口垃圾堆积', ...JINJIANG,
  }, extra);

  await t.test('submit, read back, work to closed, and watch with a resume', async () => {
    const proxy = await CuttableProxy.open(port);
    const watcherClient = new GridClient(`127.0.0.1:${proxy.port}`, { token: TOKEN });
    const watch = watcherClient.watch({ allChanges: true });
    const entries = watch[Symbol.asyncIterator]();
    try {
      const c = await submit('node-flow-1');
      assert.equal(c.status, 'CASE_STATUS_ROUTED');
      assert.equal((await submit('node-flow-1')).id, c.id); // the same key: the same case
      const got = await client.getCase(c.id);
      assert.equal(got.case.id, c.id);
      assert.deepEqual(got.events.map((e) => e.type), ['EVENT_TYPE_SUBMITTED', 'EVENT_TYPE_ROUTED']);

      const seen = [];
      const readUntil = async (type) => {
        for (;;) {
          const { value, done } = await entries.next();
          assert.ok(!done, 'the watch ended');
          if (value.event.caseId !== c.id) continue;
          seen.push(value);
          if (value.event.type === type) return;
        }
      };
      await readUntil('EVENT_TYPE_ROUTED');
      proxy.cut(); // the stream breaks while the case is worked
      const closed = await client.workToClosed(c, '垃圾已清运');
      assert.equal(closed.status, 'CASE_STATUS_CLOSED');
      await readUntil('EVENT_TYPE_CLOSED');

      assert.ok(watch.reconnects >= 1, 'the watch resumed');
      // No gap, no duplicate: every event of the case once, in order.
      assert.deepEqual(seen.map((e) => e.event.seq), Array.from({ length: closed.version }, (_, i) => i + 1));
      const cursors = seen.map((e) => e.cursor);
      assert.deepEqual(cursors, [...new Set(cursors)].sort((a, b) => a - b));
      assert.deepEqual(seen.slice(-5).map((e) => e.event.type), ['EVENT_TYPE_ACCEPTED', 'EVENT_TYPE_WORK_STARTED',
        'EVENT_TYPE_RESOLVED', 'EVENT_TYPE_CALLED_BACK', 'EVENT_TYPE_CLOSED']);
    } finally {
      watch.close();
      await entries.return();
      watcherClient.close();
      await proxy.stop();
    }
  });

  await t.test('a bad case id surfaces the server\'s reason', async () => {
    await assert.rejects(client.getCase('not-a-case'), (e) => {
      assert.ok(e instanceof GridError);
      assert.equal(e.codeName, 'INVALID_ARGUMENT');
      assert.equal(e.reason, 'INVALID_CASE_ID');
      assert.match(e.message, /INVALID_CASE_ID/);
      return true;
    });
  });

  await t.test('a stale expected version is refused with its reason', async () => {
    const c = await submit('node-stale-1');
    await client.accept(c.id, c.version);
    await assert.rejects(client.startWork(c.id, c.version), { codeName: 'ABORTED', reason: 'VERSION_MISMATCH' });
  });

  await t.test('an unknown token is unauthenticated', async () => {
    const stranger = new GridClient(`127.0.0.1:${port}`, { token: 'no-such-token-0123456789' });
    try {
      await assert.rejects(stranger.getCase('1795819623114000'), { codeName: 'UNAUTHENTICATED', reason: 'UNKNOWN_TOKEN' });
    } finally {
      stranger.close();
    }
  });

  await t.test('submit retries the same key while the server is unreachable', async () => {
    // Nothing listens on the port at first, so the first attempts fail
    // UNAVAILABLE; a forwarder to gridd opens there half a second later.
    const reserved = await CuttableProxy.open(port);
    const flakyPort = reserved.port;
    await reserved.stop();
    let later;
    const opening = new Promise((resolve) => setTimeout(resolve, 500))
      .then(async () => { later = await CuttableProxy.open(port, flakyPort); });
    const flaky = new GridClient(`127.0.0.1:${flakyPort}`, { token: TOKEN, timeoutMs: 2000 });
    const retried = [];
    try {
      const c = await flaky.submit({
        idempotencyKey: 'node-retry-1', category: 'sanitation.garbage', description: '小区门口垃圾堆积', ...JINJIANG,
      }, { attempts: 8, backoffMs: 100, onRetry: (n, e) => retried.push(e.codeName) });
      assert.ok(retried.includes('UNAVAILABLE'), `retried: ${retried}`);
      assert.equal((await submit('node-retry-1')).id, c.id); // one case for the key
    } finally {
      flaky.close();
      await opening;
      await later.stop();
    }
  });
});

test('gridclient over TLS', { timeout: 60000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridclient-node-tls-'));
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=gridclient test CA',
    '-keyout', `${dir}/ca.key`, '-out', `${dir}/ca.crt`);
  openssl('req', ...ec, '-subj', '/CN=localhost', '-keyout', `${dir}/server.key`, '-out', `${dir}/server.csr`);
  fs.writeFileSync(`${dir}/server.ext`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', `${dir}/server.csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`,
    '-CAcreateserial', '-days', '2', '-out', `${dir}/server.crt`, '-extfile', `${dir}/server.ext`);
  fs.chmodSync(`${dir}/server.key`, 0o600);
  const { gridd, port } = await startGridd(dir, ['--tls-cert', `${dir}/server.crt`, '--tls-key', `${dir}/server.key`]);
  const tls = new GridClient(`localhost:${port}`, { token: TOKEN, caFile: `${dir}/ca.crt` });
  const plain = new GridClient(`127.0.0.1:${port}`, { token: TOKEN, timeoutMs: 2000 });
  t.after(() => {
    tls.close();
    plain.close();
    gridd.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const c = await tls.submit({
    idempotencyKey: 'node-tls-1', category: 'sanitation.garbage', description: '小区门口垃圾堆积', ...JINJIANG,
  });
  assert.equal((await tls.getCase(c.id)).case.id, c.id);
  // Plaintext to a TLS port never reaches gridd: no reason.
  await assert.rejects(plain.getCase(c.id), { codeName: 'UNAVAILABLE', reason: '' });
});

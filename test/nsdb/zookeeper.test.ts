import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/nsdb/open.ts';
import type { ZkBackend } from '../../src/nsdb/zookeeper/zk-backend.ts';
import { T } from '../../src/model/types.ts';
import { ZooKeeperServer } from '../helpers/zookeeper.ts';
import { storeSuite } from './store-suite.ts';

let zk: ZooKeeperServer;
before(async () => {
  zk = await ZooKeeperServer.start();
});
after(async () => zk.destroy());

storeSuite('zookeeper', async () => {
  const rootKey = `/t${randomUUID().slice(0, 8)}`;
  const store = await openStore({ kind: 'zookeeper', hosts: zk.hosts, rootKey });
  const peer = await openStore({ kind: 'zookeeper', hosts: zk.hosts, rootKey });
  return { store, peer, close: async () => {
    await peer.close();
    await store.close();
  } };
});

describe('NSDB on ZooKeeper specifics', () => {
  it('lays objects out as MidoNet does and drops session keys when the ZooKeeper session ends', async () => {
    const rootKey = `/midonet${randomUUID().slice(0, 8)}`;
    const a = await openStore({ kind: 'zookeeper', hosts: zk.hosts, rootKey, sessionTimeoutMs: 2000 });
    const b = await openStore({ kind: 'zookeeper', hosts: zk.hosts, rootKey });
    const id = randomUUID();
    await a.tx((tx) => tx.create(T.Router, { id, portIds: [] }));
    assert.deepEqual(await b.backend.readAll(T.Router).then((l) => l.map((v) => v.value.id)), [id]);
    await a.setState({ type: T.Host, id, key: 'alive' }, 'true', 'agent-1');
    assert.equal(await b.getState({ type: T.Host, id, key: 'alive' }), 'true');
    await a.close();
    const end = Date.now() + 5000;
    while ((await b.getState({ type: T.Host, id, key: 'alive' })) !== null) {
      assert.ok(Date.now() < end, 'ephemeral key outlived its session');
      await new Promise((r) => setTimeout(r, 50));
    }
    await b.close();
  });

  it('gets through a server that takes the connection and never answers its handshake', async () => {
    // Between the store and ZooKeeper, a relay that can turn silent: it accepts and swallows.
    let silent = false;
    const open = new Set<Socket>();
    const relay = createServer((inbound) => {
      open.add(inbound);
      inbound.on('close', () => open.delete(inbound));
      inbound.on('error', () => undefined);
      if (silent) return;
      const outbound = connect(zk.port, '127.0.0.1');
      outbound.on('error', () => inbound.destroy());
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('close', () => outbound.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', () => r()));
    const port = (relay.address() as { port: number }).port;
    const store = await openStore({ kind: 'zookeeper', hosts: `127.0.0.1:${port}`, rootKey: `/hs${randomUUID().slice(0, 8)}`, sessionTimeoutMs: 3000 });
    try {
      silent = true;
      for (const c of open) c.destroy();
      // The client reconnects into the silence and waits there; the write is queued behind it.
      const write = store.tx((tx) => tx.create(T.Router, { id: 'r', portIds: [] }));
      await new Promise((r) => setTimeout(r, 500));
      silent = false;
      await write;
      assert.equal((await store.backend.readAll(T.Router)).length, 1);
    } finally {
      await store.close();
      relay.close();
    }
  });

  it('answers each commit whose connection dropped with its true outcome: landed once, never an error', async () => {
    const store = await openStore({ kind: 'zookeeper', hosts: zk.hosts, rootKey: `/amb${randomUUID().slice(0, 8)}`, sessionTimeoutMs: 20000 });
    try {
      for (let i = 0; i < 8; i++) {
        // ZooKeeper dies and comes back while the commit is on its way, before or after it lands.
        const landed = store.tx((tx) => tx.create(T.Router, { id: `r${i}`, name: 'x', portIds: [], routeIds: [] }));
        await new Promise((r) => setTimeout(r, i * 2));
        await zk.stop();
        await zk.startProcess();
        await landed;
      }
      assert.equal((await store.backend.readAll(T.Router)).length, 8);
      console.log(`# commits whose answer was lost and were looked up: ${(store.backend as ZkBackend).counters.ambiguousCommits}`);
    } finally {
      await store.close();
    }
  });
});

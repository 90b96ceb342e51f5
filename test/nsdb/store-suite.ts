import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Change, Obj } from '../../src/nsdb/backend.ts';
import {
  ConcurrentModificationError,
  NotFoundError,
  ObjectExistsError,
  ReferenceConflictError,
} from '../../src/nsdb/errors.ts';
import type { Store } from '../../src/nsdb/store.ts';
import { T } from '../../src/model/types.ts';
import { IX } from '../../src/model/indexes.ts';
import { NT } from '../../src/model/neutron.ts';
import { indexKey } from '../../src/nsdb/indexes.ts';
import { UniqueViolationError } from '../../src/nsdb/errors.ts';

export interface StoreFixture {
  store: Store;
  /** Another store on the same NSDB, as a second cluster process would have. */
  peer: Store;
  close(): Promise<void>;
}

const router = (id = randomUUID()) => ({ id, name: 'r', portIds: [], routeIds: [], bgpNetworkIds: [], bgpPeerIds: [], inboundFilterId: null, outboundFilterId: null });
const port = (id: string, dev: Record<string, unknown>) => ({ id, peerId: null, routeIds: [], portGroupIds: [], hostId: null, inboundFilterId: null, outboundFilterId: null, ...dev });

/** Waits until `pred` holds over what a watcher collected. */
async function until<X>(items: X[], pred: (items: X[]) => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred(items)) {
    if (Date.now() > end) throw new Error(`timed out; saw ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The one suite every NSDB backend must pass. */
export function storeSuite(name: string, open: () => Promise<StoreFixture>): void {
  describe(`NSDB store (${name})`, () => {
    let fx: StoreFixture;
    let store: Store;
    before(async () => {
      fx = await open();
      store = fx.store;
    });
    after(async () => fx.close());

    it('creates, reads, updates and deletes with versions', async () => {
      const r = router();
      await store.tx((tx) => tx.create(T.Router, r));
      const v1 = await store.backend.read(T.Router, r.id);
      assert.equal(v1?.value.name, 'r');
      await store.tx(async (tx) => tx.update(T.Router, { ...(await tx.get<Obj>(T.Router, r.id)), name: 'r2' }));
      const v2 = await store.backend.read(T.Router, r.id);
      assert.equal(v2?.value.name, 'r2');
      assert.notEqual(v2?.version, v1?.version);
      await assert.rejects(store.tx((tx) => tx.create(T.Router, r)), ObjectExistsError);
      await store.tx((tx) => tx.delete(T.Router, r.id));
      assert.equal(await store.tryGet(T.Router, r.id), null);
      await assert.rejects(store.tx((tx) => tx.delete(T.Router, r.id)), NotFoundError);
    });

    it('commits all or nothing', async () => {
      const r = router();
      await assert.rejects(
        store.tx(async (tx) => {
          await tx.create(T.Router, r);
          await tx.create(T.Port, port(randomUUID(), { routerId: randomUUID() }));
        }),
        NotFoundError,
      );
      assert.equal(await store.tryGet(T.Router, r.id), null);
    });

    it('rejects a stale version and retries a losing transaction', async () => {
      const r = router();
      await store.tx((tx) => tx.create(T.Router, r));
      const v = (await store.backend.read(T.Router, r.id))!;
      await store.backend.commit([{ kind: 'update', type: T.Router, id: r.id, value: { ...r, name: 'a' }, version: v.version }]);
      await assert.rejects(
        store.backend.commit([{ kind: 'update', type: T.Router, id: r.id, value: { ...r, name: 'b' }, version: v.version }]),
        ConcurrentModificationError,
      );
      // Many concurrent read-modify-write transactions: each lands exactly once or fails loudly.
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) =>
          store.tx(async (tx) => {
            const cur = await tx.get<Obj & { routeIds: string[] }>(T.Router, r.id);
            await tx.update(T.Router, { ...cur, routeIds: [], name: `${cur.name}-${i}` });
          }),
        ),
      );
      const ok = results.filter((x) => x.status === 'fulfilled').length;
      const name = String((await store.get<Obj>(T.Router, r.id)).name);
      assert.equal(name.split('-').length - 1, ok, `each landed update appears once in ${name}`);
      for (const x of results) if (x.status === 'rejected') assert.ok(x.reason instanceof ConcurrentModificationError);
    });

    it('keeps both sides of a binding and cascades deletes', async () => {
      const r = router();
      const [p1, p2, rt] = [randomUUID(), randomUUID(), randomUUID()];
      await store.tx(async (tx) => {
        await tx.create(T.Router, r);
        await tx.create(T.Port, port(p1, { routerId: r.id }));
        await tx.create(T.Port, port(p2, { routerId: r.id, peerId: p1 }));
        await tx.create(T.Route, { id: rt, routerId: r.id, nextHopPortId: p1 });
      });
      const stored = await store.get<Obj & { portIds: string[]; routeIds: string[] }>(T.Router, r.id);
      assert.deepEqual(new Set(stored.portIds), new Set([p1, p2]));
      assert.deepEqual(stored.routeIds, [rt]);
      assert.equal((await store.get<Obj>(T.Port, p1)).peerId, p2, 'peer set on both sides');
      // A third port cannot take a peer that is already linked.
      await assert.rejects(
        store.tx((tx) => tx.create(T.Port, port(randomUUID(), { routerId: r.id, peerId: p1 }))),
        ReferenceConflictError,
      );
      await store.tx((tx) => tx.delete(T.Port, p2));
      assert.equal((await store.get<Obj>(T.Port, p1)).peerId, null, 'deleting a port clears its peer');
      await store.tx((tx) => tx.delete(T.Router, r.id));
      assert.equal(await store.tryGet(T.Port, p1), null, 'router delete cascades to ports');
      assert.equal(await store.tryGet(T.Route, rt), null, 'and to routes');
    });

    it('clears filter references when a chain is deleted', async () => {
      const chain = { id: randomUUID(), name: 'c', ruleIds: [], jumpRuleIds: [], routerInboundIds: [] };
      const r = { ...router(), inboundFilterId: chain.id };
      await store.tx(async (tx) => {
        await tx.create(T.Chain, chain);
        await tx.create(T.Router, r);
      });
      assert.deepEqual((await store.get<Obj>(T.Chain, chain.id)).routerInboundIds, [r.id]);
      await store.tx((tx) => tx.delete(T.Chain, chain.id));
      assert.equal((await store.get<Obj>(T.Router, r.id)).inboundFilterId, null);
    });

    it('delivers the current value and then every change to object and type watchers', async () => {
      const type = `WatchTest${randomUUID().slice(0, 8)}`;
      const a = { id: randomUUID(), n: 0 };
      await store.tx((tx) => tx.create(type, a));
      const seen: (number | null)[] = [];
      const typeSeen: Change[] = [];
      const off1 = store.watch(type, a.id, (c) => seen.push(c.value ? Number(c.value.value.n) : null));
      const off2 = store.watchType(type, (c) => typeSeen.push(c));
      await until(seen, (s) => s.length === 1);
      await until(typeSeen, (s) => s.length === 1);
      for (let n = 1; n <= 3; n++) {
        await store.tx(async (tx) => tx.update(type, { ...(await tx.get<Obj>(type, a.id)), n }));
        await until(seen, (s) => s.at(-1) === n);
      }
      const b = { id: randomUUID(), n: 10 };
      await store.tx((tx) => tx.create(type, b));
      await store.tx((tx) => tx.delete(type, a.id));
      await until(seen, (s) => s.at(-1) === null);
      await until(typeSeen, (s) => s.some((c) => c.id === a.id && c.value === null) && s.some((c) => c.id === b.id));
      off1();
      off2();
      assert.deepEqual(seen, [0, 1, 2, 3, null]);
      const forB = typeSeen.filter((c) => c.id === b.id);
      assert.equal(forB[0]?.value?.value.n, 10);
    });

    it('keeps state keys apart, and session-owned keys vanish with the session', async () => {
      const id = randomUUID();
      await store.setState({ type: T.Host, id, key: 'alive' }, 'yes', 'session-1');
      await store.setState({ type: T.Network, id, key: 'mac_table/0/aa:bb:cc:dd:ee:ff' }, 'p1');
      assert.equal(await store.getState({ type: T.Host, id, key: 'alive' }), 'yes');
      assert.deepEqual(await store.listState({ type: T.Network, id, key: 'mac_table/0' }), ['aa:bb:cc:dd:ee:ff']);
      const watched: (string | null)[] = [];
      const off = store.watchState({ type: T.Host, id, key: 'alive' }, (v) => watched.push(v));
      await until(watched, (w) => w.length >= 1);
      await store.endSession('session-1');
      await until(watched, (w) => w.at(-1) === null);
      off();
      assert.equal(await store.getState({ type: T.Host, id, key: 'alive' }), null);
      assert.equal(await store.getState({ type: T.Network, id, key: 'mac_table/0/aa:bb:cc:dd:ee:ff' }), 'p1');
      await store.deleteState({ type: T.Network, id, key: 'mac_table/0/aa:bb:cc:dd:ee:ff' });
      assert.deepEqual(await store.listState({ type: T.Network, id, key: 'mac_table/0' }), []);
    });

    it('watches a state directory: the keys in it, then each set and removal', async () => {
      const id = randomUUID();
      const table = (ip: string) => ({ type: T.Network, id, key: `arp_table/${ip}` });
      await store.setState(table('10.0.0.1'), 'aa');
      const seen: [string, string | null][] = [];
      const off = store.watchStateDir({ type: T.Network, id, key: 'arp_table' }, (name, value) => seen.push([name, value]));
      await until(seen, (s) => s.length === 1);
      await store.setState(table('10.0.0.2'), 'bb');
      await until(seen, (s) => s.some(([n]) => n === '10.0.0.2'));
      await store.setState(table('10.0.0.1'), 'cc');
      await until(seen, (s) => s.some(([n, v]) => n === '10.0.0.1' && v === 'cc'));
      await store.deleteState(table('10.0.0.2'));
      await until(seen, (s) => s.some(([n, v]) => n === '10.0.0.2' && v === null));
      off();
      assert.deepEqual(seen, [['10.0.0.1', 'aa'], ['10.0.0.2', 'bb'], ['10.0.0.1', 'cc'], ['10.0.0.2', null]]);
    });

    it('writes index entries with the objects, and a unique key has one holder whichever store writes', async () => {
      const [net, subnet] = [randomUUID(), randomUUID()];
      const nport = (id: string, n: number, ip: string) => ({
        id, network_id: net, mac_address: `fa:16:3e:00:00:${n.toString(16).padStart(2, '0')}`, device_id: '', security_groups: [],
        fixed_ips: [{ subnet_id: subnet, ip_address: ip }],
      });
      // Concurrent writers through two stores, each taking the first address it sees free.
      const made = await Promise.all(Array.from({ length: 30 }, (_, n) => (n % 2 ? fx.peer : store).tx(async (tx) => {
        const used = await tx.members(IX.fixedIp, indexKey(subnet));
        let host = 1;
        while (used.has(`10.0.0.${host}`)) host++;
        const id = randomUUID();
        await tx.create(NT.Port, nport(id, n, `10.0.0.${host}`));
        return id;
      })));
      const ports = await store.find<{ id: string; fixed_ips: { ip_address: string }[] }>(IX.portsByNetwork, indexKey(net));
      assert.deepEqual(new Set(ports.map((p) => p.id)), new Set(made));
      assert.equal(new Set(ports.map((p) => p.fixed_ips[0]!.ip_address)).size, 30, 'no address given twice');
      assert.equal((await store.backend.members(IX.fixedIp, indexKey(subnet))).length, 30);
      // A writer that does not look first is refused by the index, not let through.
      await assert.rejects(store.tx((tx) => tx.create(NT.Port, nport(randomUUID(), 99, '10.0.0.1'))), UniqueViolationError);
      // A key moves between objects in one transaction; a delete releases its keys.
      const [a, b] = [ports.find((p) => p.fixed_ips[0]!.ip_address === '10.0.0.1')!.id, made.find((id) => id !== ports.find((p) => p.fixed_ips[0]!.ip_address === '10.0.0.1')!.id)!];
      await store.tx(async (tx) => {
        const pa = await tx.get<Obj>(NT.Port, a);
        const pb = await tx.get<Obj>(NT.Port, b);
        await tx.update(NT.Port, { ...pa, fixed_ips: [{ subnet_id: subnet, ip_address: '10.0.0.200' }] });
        await tx.update(NT.Port, { ...pb, fixed_ips: [{ subnet_id: subnet, ip_address: '10.0.0.1' }] });
        assert.deepEqual(await tx.lookup(IX.fixedIp, indexKey(subnet, '10.0.0.1')), [b], 'the transaction sees its own index changes');
      });
      assert.deepEqual(await fx.peer.lookup(IX.fixedIp, indexKey(subnet, '10.0.0.1')), [b]);
      assert.deepEqual(await fx.peer.lookup(IX.fixedIp, indexKey(subnet, '10.0.0.200')), [a]);
      await store.tx((tx) => tx.delete(NT.Port, a));
      assert.deepEqual(await store.lookup(IX.fixedIp, indexKey(subnet, '10.0.0.200')), []);
      assert.equal((await store.lookup(IX.portsByNetwork, indexKey(net))).length, 29);
    });

    it('lets concurrent writers of one shared object all land, retrying inside the store', async () => {
      const r = router();
      await store.tx((tx) => tx.create(T.Router, r));
      await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? fx.peer : store).tx((tx) => tx.create(T.Port, port(randomUUID(), { routerId: r.id })))));
      assert.equal((await store.get<Obj & { portIds: string[] }>(T.Router, r.id)).portIds.length, 60);
    });

    it('allocates unique tunnel keys under concurrency', async () => {
      const keys = await Promise.all(Array.from({ length: 200 }, () => store.nextTunnelKey()));
      assert.equal(new Set(keys).size, 200);
      assert.ok(keys.every((k) => Number.isInteger(k) && k > 0));
    });
  });
}

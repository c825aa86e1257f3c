import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';

import { KvBuckets } from '@baton/contracts';
import type { WorkflowDefinition } from '@baton/contracts';
import { startNatsServer, waitFor } from '@baton/testing';
import type { NatsServerHandle } from '@baton/testing';
import { connectNats } from '@baton/transport-jetstream';

import { WorkflowRegistry } from '../src/definitions/workflow-registry';

const def = (version: number, name = 'Orders'): WorkflowDefinition => ({
  id: 'orders',
  name,
  version,
  triggers: [{ type: 'event', subject: 'events.order.*' }],
  steps: [{ id: 'a', type: 'task', action: 'x.y' }],
});

describe('WorkflowRegistry on a KV bucket', () => {
  let server: NatsServerHandle;
  let ncA: NatsConnection;
  let ncB: NatsConnection;

  beforeAll(async () => {
    server = await startNatsServer();
    ncA = await connectNats({ servers: server.url, name: 'registry-a' });
    ncB = await connectNats({ servers: server.url, name: 'registry-b' });
  });

  afterAll(async () => {
    await ncA?.close();
    await ncB?.close();
    await server?.cleanup();
  });

  const open = async (nc: NatsConnection) => {
    const registry = new WorkflowRegistry(await new Kvm(nc).create(KvBuckets.WORKFLOWS, { history: 5 }));
    await registry.start();
    return registry;
  };

  it('shares definitions across instances, keeps (id, version) immutable, and survives a restart', async () => {
    const a = await open(ncA);
    const b = await open(ncB);
    try {
      expect((await a.register(def(1))).outcome).toBe('created');
      // Instance B sees it through its watch, without asking the store.
      await waitFor(() => b.list().find((w) => w.definition.id === 'orders'), { what: 'B sees orders v1' });
      expect(b.triggersFor('events.order.created').map((m) => m.workflow.version)).toEqual([1]);
      expect(b.triggersFor('events.invoice.created')).toEqual([]);

      expect((await b.register(def(1))).outcome).toBe('unchanged');
      await expect(b.register(def(1, 'Changed'))).rejects.toMatchObject({ code: 'CONFLICT' });

      expect((await b.register(def(2))).outcome).toBe('created');
      await waitFor(() => (a.list()[0]?.definition.version === 2 ? true : undefined), { what: 'A sees v2' });
      expect(a.versions('orders').map((w) => w.definition.version)).toEqual([1, 2]);

      await a.delete('orders');
      await waitFor(() => (b.list().length === 0 ? true : undefined), { what: 'B sees the deletion' });
      expect((await b.get('orders', 1))?.deleted).toBe(true);
      expect(await b.get('orders')).toBeUndefined();
      expect((await b.register(def(2))).outcome).toBe('unchanged');
      await waitFor(async () => ((await a.get('orders'))?.definition.version === 2 ? true : undefined), {
        what: 'A sees v2 revived',
      });
    } finally {
      a.stop();
      b.stop();
    }

    await server.restart();
    const ncC = await connectNats({ servers: server.url, name: 'registry-c' });
    try {
      const c = await open(ncC);
      expect(c.versions('orders').map((w) => w.definition.version)).toEqual([1, 2]);
      expect((await c.get('orders'))?.definition.version).toBe(2);
      c.stop();
    } finally {
      await ncC.close();
    }
  });
});

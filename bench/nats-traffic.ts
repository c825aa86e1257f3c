/**
 * Messages each client connection of a nats-server sent and received so far, from the server's monitoring
 * endpoint (`/connz`), summed per connection name: with {@link trafficDelta}, what one unit of work costs
 * in messages through the server, by party. Connections without a name are counted as `(unnamed)`.
 */
export interface Traffic {
  /** Messages the connections published to the server (PUB, HPUB: publishes, acks, pulls, requests). */
  in: number;
  /** Messages the server delivered to the connections (deliveries, PubAcks, replies). */
  out: number;
}

interface Connz {
  connections?: { name?: string; in_msgs?: number; out_msgs?: number }[];
}

export async function trafficSample(monitorPort: number): Promise<Record<string, Traffic>> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/connz?limit=1024`);
  if (!res.ok) throw new Error(`nats-server /connz answered ${res.status}`);
  const body = (await res.json()) as Connz;
  const out: Record<string, Traffic> = {};
  for (const c of body.connections ?? []) {
    const name = c.name || '(unnamed)';
    const t = (out[name] ??= { in: 0, out: 0 });
    t.in += c.in_msgs ?? 0;
    t.out += c.out_msgs ?? 0;
  }
  return out;
}

/** Messages per connection name between two samples, divided by `units` (e.g. executions). */
export function trafficDelta(
  before: Record<string, Traffic>,
  after: Record<string, Traffic>,
  units = 1,
): Record<string, Traffic> {
  const out: Record<string, Traffic> = {};
  for (const [name, t] of Object.entries(after)) {
    const b = before[name] ?? { in: 0, out: 0 };
    out[name] = { in: (t.in - b.in) / units, out: (t.out - b.out) / units };
  }
  return out;
}

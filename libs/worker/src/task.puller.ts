import { type Msg, type NatsConnection, type Subscription, createInbox } from '@nats-io/nats-core';

import type { WorkerLogger } from './worker.types';

/** Settings of a {@link TaskPuller}. */
export interface TaskPullerOptions {
  nc: NatsConnection;
  stream: string;
  durable: string;
  /** Upper bound of messages held at once: being processed plus asked for in open pull requests. */
  concurrency: number;
  /** Lifetime of one pull request (default 30000 ms). */
  expiresMs?: number;
  /** Idle heartbeat asked of the server for open pull requests (default 5000 ms). */
  heartbeatMs?: number;
  logger: WorkerLogger;
  /** A task message arrived; `release()` must be called once when it is settled. */
  onMessage(msg: Msg, release: () => void): void;
  /** The consumer looks gone (deleted, or the server stopped answering): bind it again, then `resume()`. */
  onStale(reason: string): void;
}

interface PullRequest {
  id: number;
  sub?: Subscription;
  /** Messages the server may still send for this request. */
  remaining: number;
  ended: boolean;
  expiry?: NodeJS.Timeout;
  watchdog?: NodeJS.Timeout;
}

/**
 * Pulls task messages from a durable JetStream consumer with plain NATS pull requests
 * (`$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`), keeping `processing + requested <= concurrency`
 * at all times: it asks only for free slots, so this process never holds more messages than it can run.
 *
 * Each request has its own inbox, so its end (408 expired, 409, missed heartbeats) is known exactly and
 * its unfilled slots are returned. Requests are dropped on pause (disconnect, re-binding) and drained on
 * stop; a message that still arrives for a closed request is handed back at once (`-NAK`).
 */
export class TaskPuller {
  private state: 'paused' | 'running' | 'stopped' = 'paused';
  private processing = 0;
  private requestedCount = 0;
  private readonly requests = new Set<PullRequest>();
  private pumpTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private failures = 0;
  private nextId = 1;
  private readonly expiresMs: number;
  private readonly heartbeatMs: number;
  private readonly nextSubject: string;

  constructor(private readonly options: TaskPullerOptions) {
    this.expiresMs = options.expiresMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.min(5_000, Math.floor(this.expiresMs / 2));
    this.nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${options.stream}.${options.durable}`;
  }

  /** Messages received and not yet released. */
  get inFlight(): number {
    return this.processing;
  }

  /** Messages asked for in open pull requests. */
  get requested(): number {
    return this.requestedCount;
  }

  /** Starts (or restarts) pulling. */
  resume(): void {
    if (this.state === 'stopped') return;
    this.state = 'running';
    this.schedulePump(0);
  }

  /** Stops pulling and drops open requests (the connection is down, or the consumer is being re-bound). */
  pause(): void {
    if (this.state !== 'running') return;
    this.state = 'paused';
    this.clearPump();
    for (const request of [...this.requests]) void this.end(request, false);
  }

  /** Stops pulling for good: drains open requests so that no message is left in flight to a dead inbox. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    this.clearPump();
    await Promise.all([...this.requests].map((request) => this.end(request, true)));
  }

  private schedulePump(delayMs: number): void {
    if (this.state !== 'running' || this.pumpTimer !== undefined) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, delayMs);
  }

  private clearPump(): void {
    if (this.pumpTimer !== undefined) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
  }

  private pump(): void {
    if (this.state !== 'running') return;
    const wait = this.retryAt - Date.now();
    if (wait > 0) {
      this.schedulePump(wait);
      return;
    }
    const free = this.options.concurrency - this.processing - this.requestedCount;
    if (free > 0) this.issue(free);
  }

  private issue(batch: number): void {
    const { nc } = this.options;
    const request: PullRequest = { id: this.nextId++, remaining: batch, ended: false };
    const inbox = createInbox();
    try {
      request.sub = nc.subscribe(inbox, { callback: (err, msg) => this.onReply(request, err, msg) });
      nc.publish(
        this.nextSubject,
        JSON.stringify({
          batch,
          expires: this.expiresMs * 1_000_000,
          idle_heartbeat: this.heartbeatMs * 1_000_000,
        }),
        { reply: inbox },
      );
    } catch (err) {
      request.sub?.unsubscribe();
      this.backoff(`could not send a pull request: ${(err as Error).message}`);
      return;
    }
    this.requests.add(request);
    this.requestedCount += batch;
    request.expiry = setTimeout(
      () => {
        // The server ends every request with a 408 at `expires`; this only covers a lost status message.
        void this.end(request, false);
        this.schedulePump(0);
      },
      this.expiresMs + this.heartbeatMs + 1_000,
    );
    this.armWatchdog(request);
  }

  private armWatchdog(request: PullRequest): void {
    if (request.watchdog !== undefined) clearTimeout(request.watchdog);
    request.watchdog = setTimeout(
      () => {
        if (request.ended || this.state !== 'running') return;
        void this.end(request, false);
        this.options.onStale('no heartbeat from the server for an open pull request');
      },
      this.heartbeatMs * 2 + 1_000,
    );
  }

  private onReply(request: PullRequest, err: Error | null, msg: Msg): void {
    if (err !== null) {
      void this.end(request, false);
      this.backoff(`pull request subscription failed: ${err.message}`);
      return;
    }
    const code = msg.headers?.code ?? 0;
    if (code === 0) {
      if (request.ended) {
        // Arrived for a request already closed (pause or stop): give it back at once.
        try {
          msg.respond(new TextEncoder().encode('-NAK'));
        } catch {
          // connection closed: redelivered after the ack wait
        }
        return;
      }
      this.armWatchdog(request);
      request.remaining--;
      this.requestedCount--;
      this.processing++;
      this.failures = 0;
      if (request.remaining <= 0) void this.end(request, false);
      let released = false;
      this.options.onMessage(msg, () => {
        if (released) return;
        released = true;
        this.processing--;
        this.schedulePump(0);
      });
      return;
    }
    if (request.ended) return;
    this.armWatchdog(request);
    const description = msg.headers?.description ?? '';
    switch (code) {
      case 100:
        return;
      case 404:
      case 408:
        void this.end(request, false);
        this.schedulePump(0);
        return;
      case 409:
        void this.end(request, false);
        if (/consumer deleted/i.test(description)) this.options.onStale('the consumer was deleted');
        else this.backoff(`pull request ended: 409 ${description}`);
        return;
      case 503:
        void this.end(request, false);
        this.options.onStale('no responders for the pull request (JetStream unavailable)');
        return;
      default:
        void this.end(request, false);
        this.backoff(`pull request failed: ${code} ${description}`);
    }
  }

  private backoff(reason: string): void {
    this.failures++;
    const delay = Math.min(5_000, 250 * 2 ** Math.min(this.failures - 1, 10));
    this.retryAt = Date.now() + delay;
    this.options.logger.warn({ durable: this.options.durable, retryInMs: delay }, reason);
    this.schedulePump(delay);
  }

  private async end(request: PullRequest, drain: boolean): Promise<void> {
    if (request.ended) return;
    request.ended = true;
    if (request.expiry !== undefined) clearTimeout(request.expiry);
    if (request.watchdog !== undefined) clearTimeout(request.watchdog);
    this.requests.delete(request);
    this.requestedCount -= request.remaining;
    request.remaining = 0;
    const sub = request.sub;
    if (sub === undefined || sub.isClosed()) return;
    try {
      if (drain && !this.options.nc.isClosed()) await sub.drain();
      else sub.unsubscribe();
    } catch {
      // the connection is closing: the server forgets the request with the connection
    }
  }
}

/**
 * A bounded set of sessions shared by concurrent sends: at most `maxConnections` open,
 * each carrying up to `maxPipelinedMessages` transactions at once when the server
 * pipelines, replaced after `maxMessagesPerConnection`, closed when idle.
 *
 * @module
 */

import { fromAbortReason } from "./classify.ts";
import { SmtpSession } from "./client.ts";
import type { ResolvedOptions } from "./options.ts";
import type { Connector } from "./socket.ts";

/** One pooled session and its load. */
export interface Lease {
  /** The session to send on. */
  readonly session: SmtpSession;
}

interface Slot extends Lease {
  /** Transactions it may carry at once; 0 until first asked. */
  capacity: number;
  inFlight: number;
  started: number;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Sessions for one transport. */
export class SessionPool {
  readonly #options: ResolvedOptions;
  readonly #connector: Connector;
  readonly #slots = new Set<Slot>();
  readonly #wakers = new Set<() => void>();
  #opening = 0;
  readonly #quitting = new Set<Promise<void>>();

  /** A pool that is never used, kept for its object shape (see `SmtpSession.idle`). */
  static readonly idle: SessionPool = new SessionPool({} as ResolvedOptions, {} as Connector);

  /** @param options resolved transport options; @param connector opens sockets */
  constructor(options: ResolvedOptions, connector: Connector) {
    this.#options = options;
    this.#connector = connector;
  }

  #capacity(slot: Slot): number {
    if (slot.capacity === 0) slot.capacity = slot.session.capabilities.has("PIPELINING") ? this.#options.maxPipelinedMessages : 1;
    return slot.capacity;
  }

  /** A session with room for one more transaction; opens one when allowed, else waits. */
  async acquire(signal?: AbortSignal): Promise<Lease> {
    for (;;) {
      if (signal?.aborted) {
        this.#wake(); // pass on any room this waiter was woken for
        throw fromAbortReason(signal.reason, "connect");
      }
      for (const slot of this.#slots) {
        if (!slot.session.usable) continue;
        if (slot.inFlight < this.#capacity(slot) && slot.started < this.#options.maxMessagesPerConnection) {
          clearTimeout(slot.idleTimer);
          slot.inFlight++;
          slot.started++;
          return slot;
        }
      }
      if (this.#slots.size + this.#opening < this.#options.maxConnections) {
        this.#opening++;
        try {
          const session = await SmtpSession.open(this.#options, this.#connector, signal);
          // Every field from the start: one object shape for every slot.
          const slot: Slot = { session, capacity: 0, inFlight: 1, started: 1, idleTimer: undefined };
          this.#slots.add(slot);
          return slot;
        } finally {
          this.#opening--;
          this.#wake(true);
        }
      }
      await this.#waitForRoom(signal);
    }
  }

  #waitForRoom(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // Without a signal, waking is all there is to it.
      if (signal === undefined) {
        this.#wakers.add(resolve as () => void);
        return;
      }
      const onAbort = (): void => {
        this.#wakers.delete(wake);
        reject(fromAbortReason(signal?.reason, "connect"));
      };
      const wake = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      this.#wakers.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Wakes one waiting send (a release frees room for one), or all of them when `all`. */
  #wake(all = false): void {
    for (const wake of this.#wakers) {
      this.#wakers.delete(wake);
      wake();
      if (!all) return;
    }
  }

  /**
   * Whether `slot` is closed as soon as nothing runs on it: its message count is spent, or
   * no idle time is kept and no send waits for room.
   */
  #closesWhenIdle(slot: Slot): boolean {
    return slot.started >= this.#options.maxMessagesPerConnection || (this.#options.idleTimeout === 0 && this.#wakers.size === 0);
  }

  /** Gives a lease back; closes its session (in the background) when it is spent, broken or idle. */
  release(lease: Lease): void {
    const slot = lease as Slot;
    slot.inFlight--;
    const idle = slot.inFlight === 0;
    const closing = !slot.session.usable || (idle && this.#closesWhenIdle(slot));
    // Kept open (idleTimeout > 0) for a later send; one already waiting takes it at once.
    if (idle && !closing && this.#wakers.size === 0) {
      slot.idleTimer = setTimeout(() => {
        if (slot.inFlight === 0 && this.#slots.delete(slot)) this.#quit(slot);
      }, this.#options.idleTimeout);
    }
    if (!slot.session.usable) this.#wake(true);
    else this.#wake();
    if (closing && idle) {
      this.#slots.delete(slot);
      this.#quit(slot);
    }
  }

  /**
   * QUIT for the last write of `lease`'s transaction when its session would be closed right
   * after it anyway (the rule `release` applies, with nothing else running on it) and the
   * server pipelines; else undefined. The session then takes nothing new, and is closed
   * when the lease comes back.
   */
  quitWithLastWrite(lease: Lease): Uint8Array | undefined {
    const slot = lease as Slot;
    const session = slot.session;
    if (slot.inFlight !== 1 || !session.usable || !session.capabilities.has("PIPELINING")) return undefined;
    return this.#closesWhenIdle(slot) ? session.pipelineQuit() : undefined;
  }

  // QUIT goes on in the background: the caller already has its answer. close() waits for it.
  #quit(slot: Slot): void {
    const quitting = slot.session.quit();
    this.#quitting.add(quitting);
    void quitting.finally(() => this.#quitting.delete(quitting));
  }

  /** Closes every session (QUIT); sends still in flight finish first or fail. */
  async close(): Promise<void> {
    const slots = [...this.#slots];
    this.#slots.clear();
    this.#wake(true);
    await Promise.all([
      ...slots.map((slot) => {
        clearTimeout(slot.idleTimer);
        return slot.session.quit();
      }),
      ...this.#quitting,
    ]);
  }
}

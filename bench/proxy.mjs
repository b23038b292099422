// A TCP proxy on 127.0.0.1 that delays every chunk by a fixed time in each direction
// (order preserved: one FIFO queue and one timer per direction) and counts round trips.
//
// Round trip ("turn"), per connection: a chunk arriving from the client counts as one turn
// when the proxy has delivered server bytes to the client since the client's previous
// chunk (or, for the first chunk, since the connection opened). That is: the client spoke
// after hearing the server. The greeting makes the first command a turn; every further
// wait for a reply before writing again is one more. Writing more without having been
// sent anything (pipelining, a body streamed in many chunks) costs nothing. The TCP
// handshake itself is not counted.

import net from "node:net";
import { performance } from "node:perf_hooks";

/** Forwards chunks to `dest` `delayMs` after they arrived, in order. */
class DelayLine {
  constructor(dest, delayMs, onDeliver) {
    this.dest = dest;
    this.delayMs = delayMs;
    this.onDeliver = onDeliver;
    this.queue = [];
    this.head = 0;
    this.timer = null;
    this.ending = false;
  }

  push(chunk) {
    this.queue.push({ due: performance.now() + this.delayMs, chunk });
    if (this.timer === null) this.#schedule();
  }

  /** Ends the destination once everything queued has been delivered. */
  end() {
    this.ending = true;
    if (this.timer === null) this.#release();
  }

  #schedule() {
    const wait = this.queue[this.head].due - performance.now();
    this.timer = setTimeout(() => this.#release(), Math.max(0, Math.ceil(wait)));
  }

  #release() {
    this.timer = null;
    const now = performance.now() + 0.5; // libuv timers run on millisecond ticks
    while (this.head < this.queue.length && this.queue[this.head].due <= now) {
      const { chunk } = this.queue[this.head];
      this.queue[this.head++] = undefined;
      if (!this.dest.destroyed) {
        this.dest.write(chunk);
        this.onDeliver?.();
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
      if (this.ending && !this.dest.destroyed) this.dest.end();
    } else {
      this.#schedule();
    }
  }

  cancel() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue = [];
    this.head = 0;
  }
}

/**
 * @param {{targetPort: number, delayMs?: number,
 *   onChunk?: (connection: number, from: "client"|"server", chunk: Buffer, turn: boolean) => void}} options
 *   `onChunk` sees every chunk as it arrives (for transcripts; see trace.mjs)
 */
export function createDelayProxy({ targetPort, delayMs = 10, onChunk }) {
  let stats = emptyStats();
  const sockets = new Set();
  // Half-open allowed on both legs, so that an end of stream travels with the same delay
  // as the data queued before it instead of cutting that data off.
  const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
    const connection = ++stats.connections;
    stats.open++;
    const upstream = net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    let heardServer = false;
    const toServer = new DelayLine(upstream, delayMs);
    const toClient = new DelayLine(client, delayMs, () => {
      heardServer = true;
    });
    client.on("data", (chunk) => {
      const cur = stats;
      cur.clientChunks++;
      cur.clientBytes += chunk.length;
      const turn = heardServer;
      if (turn) {
        cur.turns++;
        heardServer = false;
      }
      onChunk?.(connection, "client", chunk, turn);
      toServer.push(chunk);
    });
    upstream.on("data", (chunk) => {
      stats.serverChunks++;
      stats.serverBytes += chunk.length;
      onChunk?.(connection, "server", chunk, false);
      toClient.push(chunk);
    });
    client.on("end", () => toServer.end());
    upstream.on("end", () => toClient.end());
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) stats.open--; // both sides gone
    };
    const destroyBoth = () => {
      toServer.cancel();
      toClient.cancel();
      client.destroy();
      upstream.destroy();
    };
    client.on("error", destroyBoth);
    upstream.on("error", destroyBoth);
    client.on("close", () => {
      sockets.delete(client);
      onClose();
    });
    upstream.on("close", () => {
      sockets.delete(upstream);
      onClose();
    });
  });
  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server.address().port));
      });
    },
    stats: () => stats,
    reset() {
      const open = stats.open;
      stats = emptyStats();
      stats.open = open;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function emptyStats() {
  return { connections: 0, open: 0, turns: 0, clientChunks: 0, serverChunks: 0, clientBytes: 0, serverBytes: 0 };
}

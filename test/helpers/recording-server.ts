/**
 * A small, correct SMTP server for testing the client's wire behaviour: it records every
 * chunk the client wrote and every command, supports PIPELINING and CHUNKING (BDAT) when
 * asked, and keeps each received message. Loopback only, port 0.
 *
 * @module
 */

import type { Socket } from "node:net";
import { startRawServer, type RawServer } from "./smtp-server.ts";

/** What the server offers. */
export interface RecordingOptions {
  /** EHLO extensions, for example ["PIPELINING", "CHUNKING", "SIZE 1000"]. */
  extensions?: string[];
  /** Holds the replies that accept a message this long (ms) before sending them, in order. */
  acceptDelayMs?: number;
}

/** A running recording server. */
export interface RecordingServer extends RawServer {
  /** Every chunk received, per connection, in order. */
  chunks: string[][];
  /** Every command line received (not message content), across connections. */
  commands: string[];
  /** Every message received (DATA un-stuffed, or BDAT bytes). */
  messages: string[];
}

/** Starts the recording server. */
export async function startRecordingServer(options: RecordingOptions = {}): Promise<RecordingServer> {
  const chunks: string[][] = [];
  const commands: string[] = [];
  const messages: string[] = [];
  const extensions = options.extensions ?? [];
  const server = await startRawServer((socket: Socket) => {
    const mine: string[] = [];
    chunks.push(mine);
    let buffer = "";
    let mode: "command" | "data" | "bdat" = "command";
    let bdatLeft = 0;
    let body = "";
    // Replies leave in order, even when one batch is held back (acceptDelayMs).
    let sending: Promise<void> = Promise.resolve();
    socket.write("220 recording.test ESMTP\r\n");
    socket.on("data", (chunk: Buffer) => {
      const text = chunk.toString("latin1");
      mine.push(text);
      buffer += text;
      const out: string[] = [];
      let accepted = false;
      for (;;) {
        if (mode === "bdat") {
          const take = Math.min(bdatLeft, buffer.length);
          body += buffer.slice(0, take);
          buffer = buffer.slice(take);
          bdatLeft -= take;
          if (bdatLeft > 0) break;
          mode = "command";
          messages.push(body);
          out.push("250 2.0.0 Ok: queued\r\n");
          accepted = true;
          continue;
        }
        const at = buffer.indexOf("\r\n");
        if (at === -1) break;
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (mode === "data") {
          if (line === ".") {
            mode = "command";
            messages.push(body);
            out.push("250 2.0.0 Ok: queued\r\n");
            accepted = true;
          } else {
            body += (line.startsWith(".") ? line.slice(1) : line) + "\r\n";
          }
          continue;
        }
        commands.push(line);
        const verb = line.split(" ")[0]!.toUpperCase();
        if (verb === "EHLO") out.push(["250-recording.test", ...extensions.map((e) => `250-${e}`), "250 OK"].join("\r\n") + "\r\n");
        else if (verb === "DATA") {
          mode = "data";
          body = "";
          out.push("354 go\r\n");
        } else if (verb === "BDAT") {
          mode = "bdat";
          bdatLeft = Number(line.split(" ")[1]);
          body = "";
        } else if (verb === "QUIT") {
          out.push("221 bye\r\n");
        } else out.push("250 OK\r\n");
      }
      if (out.length === 0) return;
      const replies = out.join("");
      const hold = accepted ? options.acceptDelayMs ?? 0 : 0;
      sending = sending
        .then(() => (hold > 0 ? new Promise<void>((resolve) => setTimeout(resolve, hold)) : undefined))
        .then(() => {
          if (!socket.destroyed) socket.write(replies);
        });
    });
  });
  return Object.assign(server, { chunks, commands, messages });
}

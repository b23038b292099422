// The protocol's odd corners against a raw scripted server that replies byte-exactly.
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, type TransportOptions } from "../../entries/node.ts";
import { getTestCerts } from "../helpers/certs.ts";
import { startRawServer, type RawServer } from "../helpers/smtp-server.ts";

const servers: RawServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Calls `onLine` for each CRLF line the client sends; `onLine` answers with `send`. */
function lines(socket: Socket, onLine: (line: string, send: (text: string) => void, raw: Socket) => void): void {
  let buffer = "";
  let inData = false;
  const send = (text: string): void => {
    // The body follows only when the server said 354 (RFC 5321 §4.1.1.4).
    if (text.startsWith("354")) inData = true;
    socket.write(text);
  };
  socket.on("data", (chunk) => {
    buffer += chunk.toString("latin1");
    let at: number;
    while ((at = buffer.indexOf("\r\n")) !== -1) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (inData) {
        if (line === ".") {
          inData = false;
          onLine(".", send, socket);
        }
        continue;
      }
      onLine(line, send, socket);
    }
  });
}

async function raw(handler: (socket: Socket) => void): Promise<RawServer> {
  const server = await startRawServer(handler);
  servers.push(server);
  return server;
}

const base = (port: number, extra: Partial<TransportOptions> = {}): TransportOptions => ({
  host: "127.0.0.1", port, encryption: "none", timeouts: { greeting: 2000, command: 2000, data: 2000 }, ...extra,
});

/** A well-behaved server loop with hooks for the interesting command. */
function smtp(ehlo: string[], answer: (line: string) => string | undefined = () => undefined) {
  return (socket: Socket): void => {
    socket.write("220 raw.test ESMTP\r\n");
    lines(socket, (line, send) => {
      const custom = answer(line);
      if (custom !== undefined) return send(custom);
      if (line.startsWith("EHLO")) return send(["250-raw.test", ...ehlo.map((e) => `250-${e}`), "250 OK"].join("\r\n") + "\r\n");
      if (line === "DATA") return send("354 go\r\n");
      if (line === "QUIT") return send("221 bye\r\n");
      send("250 OK\r\n");
    });
  };
}

describe("protocol corners", () => {
  it("detects plaintext injected after the STARTTLS 220 and never upgrades", async () => {
    const certs = getTestCerts();
    let upgraded = false;
    const server = await raw((socket) => {
      socket.write("220 raw.test ESMTP\r\n");
      lines(socket, (line, send) => {
        if (line.startsWith("EHLO")) return send("250-raw.test\r\n250 STARTTLS\r\n");
        if (line === "STARTTLS") {
          send("220 go ahead\r\n250 INJECTED\r\n");
          upgraded = true;
          new TLSSocket(socket, { isServer: true, key: certs.serverKey, cert: certs.serverCert });
        }
      });
    });
    const t = createTransport(base(server.port, { encryption: "starttls", host: "localhost", ca: certs.caPem }));
    const error = await t.verify().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "tls" });
    expect(upgraded).toBe(true);
  });

  it("falls back to HELO when EHLO is refused", async () => {
    const seen: string[] = [];
    const server = await raw(smtp([], (line) => {
      seen.push(line.split(" ")[0]!);
      return line.startsWith("EHLO") ? "502 5.5.1 EHLO not implemented\r\n" : undefined;
    }));
    const t = createTransport(base(server.port));
    const receipt = await t.send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t" });
    expect(receipt.accepted).toEqual(["b@example.com"]);
    expect(seen.slice(0, 3)).toEqual(["EHLO", "HELO", "MAIL"]);
  });

  it("sends MAIL, every RCPT and DATA in one write when the server offers PIPELINING", async () => {
    const writes: string[] = [];
    const server = await raw((socket) => {
      socket.on("data", (chunk) => writes.push(chunk.toString("latin1")));
      smtp(["PIPELINING"])(socket);
    });
    const to = Array.from({ length: 10 }, (_, i) => `r${i}@example.com`);
    const t = createTransport(base(server.port));
    const receipt = await t.send({ from: "a@example.com", to, subject: "s", text: "t" });
    expect(receipt.accepted).toEqual(to);
    const envelope = writes.find((w) => w.startsWith("MAIL FROM"));
    expect(envelope?.split("\r\n").filter(Boolean)).toEqual([
      "MAIL FROM:<a@example.com>", ...to.map((r) => `RCPT TO:<${r}>`), "DATA",
    ]);
  });

  it("reports each refused recipient and still delivers to the others", async () => {
    const server = await raw(smtp(["PIPELINING", "ENHANCEDSTATUSCODES"], (line) =>
      line === "RCPT TO:<gone@example.com>" ? "550 5.1.1 Mailbox unavailable\r\n" : undefined));
    const t = createTransport(base(server.port));
    const receipt = await t.send({ from: "a@example.com", to: ["b@example.com", "gone@example.com"], subject: "s", text: "t" });
    expect(receipt.accepted).toEqual(["b@example.com"]);
    expect(receipt.rejected).toEqual([
      { address: "gone@example.com", code: 550, enhancedCode: "5.1.1", message: "Mailbox unavailable", retryable: false },
    ]);
  });

  it("with every recipient refused under PIPELINING, sends no body and reports ERECIPIENTS", async () => {
    let bodyLines = 0;
    const server = await raw((socket) => {
      socket.write("220 raw.test ESMTP\r\n");
      lines(socket, (line, send) => {
        if (line.startsWith("EHLO")) return send("250-raw.test\r\n250 PIPELINING\r\n");
        if (line.startsWith("RCPT")) return send("550 5.1.1 no\r\n");
        if (line === "DATA") return send("554 5.5.1 no valid recipients\r\n");
        if (line === ".") bodyLines++;
        send(line === "QUIT" ? "221 bye\r\n" : "250 OK\r\n");
      });
    });
    const t = createTransport(base(server.port));
    const error = await t.send({ from: "a@example.com", to: ["x@example.com", "y@example.com"], subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "SmtpEnvelopeError", code: "ERECIPIENTS", retryable: false });
    expect((error as { rejected: unknown[] }).rejected).toHaveLength(2);
    expect(bodyLines).toBe(0);
  });

  it("a 421 greeting is a retryable service error", async () => {
    const server = await raw((socket) => socket.end("421 4.3.2 Too busy\r\n"));
    const error = await createTransport(base(server.port)).verify().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ESERVICE", retryable: true, phase: "greeting", replyCode: 421, enhancedCode: "4.3.2" });
  });

  it("a connection lost after the final dot is indeterminate, not a success or a plain failure", async () => {
    // Destroy the connection as soon as the final dot arrives.
    const killer = await raw((socket) => {
      socket.write("220 raw.test ESMTP\r\n");
      lines(socket, (line, send, s) => {
        if (line === ".") return void s.destroy();
        if (line === "DATA") return send("354 go\r\n");
        send(line.startsWith("EHLO") ? "250 raw.test\r\n" : "250 OK\r\n");
      });
    });
    const error = await createTransport(base(killer.port)).send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "SmtpIndeterminateError", code: "EINDETERMINATE", phase: "data" });
  });

  it("implicit TLS against a plain SMTP port says to try starttls", async () => {
    const server = await raw(smtp([]));
    const error = await createTransport(base(server.port, { encryption: "tls", host: "localhost" })).verify().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ETLSMODE" });
    expect((error as { hint: string }).hint).toMatch(/starttls/);
  });

  it("a client that speaks plaintext to an implicit-TLS port times out with a hint to use tls", async () => {
    const certs = getTestCerts();
    const server = await raw((socket) => {
      const tls = new TLSSocket(socket, { isServer: true, key: certs.serverKey, cert: certs.serverCert });
      tls.on("error", () => {});
    });
    const error = await createTransport(base(server.port, { encryption: "starttls", timeouts: { greeting: 300 } })).verify().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "ETIMEDOUT", phase: "greeting" });
    expect((error as { hint: string }).hint).toMatch(/"tls"/);
  });
});

// The transport checks its options at once and loads the engine (composer, session,
// DKIM) only when it is used: closing an unused transport opens nothing, and the DKIM
// options it was given are a snapshot.
import { describe, expect, it } from "vitest";
import { loadEngine } from "../../src/engine-loader.ts";
import { createTransport, type Connector, type DkimOptions } from "../../src/mod.ts";
import { dkimOptionsOf, resolveDkim } from "../../src/dkim/options.ts";
import { testKey } from "./dkim/support.ts";

function countingConnector(): Connector & { calls: number } {
  const connector = {
    name: "counting",
    capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
    calls: 0,
    connect(): never {
      connector.calls++;
      throw new Error("connect must not be called");
    },
  };
  return connector;
}

describe("transport facade", () => {
  it("closes an unused transport without connecting, and refuses to send afterwards", async () => {
    const connector = countingConnector();
    const smtp = createTransport({ host: "smtp.example.com", encryption: "none", connector });
    await smtp.close();
    await expect(smtp.send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t" })).rejects.toMatchObject({ code: "ECLOSED" });
    await expect(smtp.verify()).rejects.toMatchObject({ code: "ECLOSED" });
    expect(connector.calls).toBe(0);
  });

  it("a send whose engine is still loading when close() is called fails ECLOSED without connecting", async () => {
    const connector = countingConnector();
    const smtp = createTransport({ host: "smtp.example.com", encryption: "none", connector });
    const sending = smtp.send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t" });
    await smtp.close();
    await expect(sending).rejects.toMatchObject({ code: "ECLOSED" });
    expect(connector.calls).toBe(0);
  });

  it("loads the engine once for every caller", async () => {
    const [a, b] = await Promise.all([loadEngine(), loadEngine()]);
    expect(a).toBe(b);
    expect(typeof a.TransportEngine).toBe("function");
  });

  it("keeps a frozen snapshot of the dkim options that resolves to the same settings", () => {
    const options: DkimOptions = { domainName: "Example.COM", keySelector: "sel", privateKey: testKey("rsa").pem, headerFields: ["From", "Subject", "from"] };
    const resolved = resolveDkim(options);
    const snapshot = dkimOptionsOf(resolved);
    expect(Object.isFrozen(snapshot)).toBe(true);
    expect(Object.isFrozen(snapshot.headerFields)).toBe(true);
    (options as { domainName: string }).domainName = "changed.example";
    const again = resolveDkim(snapshot);
    expect(again).toMatchObject({ domainName: "example.com", keySelector: "sel", algorithm: "rsa-sha256", headerFields: ["from", "subject"] });
    expect(again.key.kind).toBe("pem");
  });
});

// Caps on recipients, attachments and replies: refused before any socket opens.
import { describe, expect, it } from "vitest";
import { createTransport, SmtpValidationError, type Connector } from "../../../src/mod.ts";
import { ReplyReader } from "../../../src/protocol/reply-reader.ts";

const connector: Connector & { calls: number } = {
  name: "spy",
  capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
  calls: 0,
  connect(): never {
    connector.calls++;
    throw new Error("must not connect");
  },
};

async function refusal(limits: Record<string, number>, patch: Record<string, unknown>): Promise<SmtpValidationError> {
  const smtp = createTransport({ host: "smtp.example.com", connector, limits });
  const error = await smtp.send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t", ...patch }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SmtpValidationError);
  return error as SmtpValidationError;
}

describe("limits", () => {
  it("refuses more recipients than maxRecipients, counting to, cc and bcc", async () => {
    const error = await refusal({ maxRecipients: 3 }, { to: ["a@x.test", "b@x.test"], cc: "c@x.test", bcc: ["d@x.test"] });
    expect(error.field).toBe("to");
    expect(error.message).toMatch(/4 recipients exceed the limit of 3/);
  });

  it("refuses more attachments than maxAttachments", async () => {
    const attachments = Array.from({ length: 4 }, (_, i) => ({ filename: `f${i}.txt`, content: "QUJD" }));
    const error = await refusal({ maxAttachments: 3 }, { attachments });
    expect(error).toMatchObject({ field: "attachments", code: "EATTACHMENT" });
  });

  it("refuses an attachment over maxAttachmentBytes, by its decoded size", async () => {
    const error = await refusal({ maxAttachmentBytes: 1000 }, {
      attachments: [{ filename: "ok.bin", content: "A".repeat(1332) }, { filename: "big.bin", content: new Uint8Array(1001) }],
    });
    expect(error).toMatchObject({ field: "attachments[1].content", code: "EATTACHMENT" });
  });

  it("validates the limits themselves", () => {
    expect(() => createTransport({ host: "smtp.example.com", connector, limits: { maxRecipients: 0 } })).toThrow(/limits.maxRecipients/);
  });

  it("the default limits let an ordinary message through to the connector", async () => {
    const smtp = createTransport({ host: "smtp.example.com", connector });
    const before = connector.calls;
    await smtp.send({ from: "a@example.com", to: "b@example.com", subject: "s", text: "t" }).catch(() => undefined);
    expect(connector.calls).toBe(before + 1);
  });

  it("the reply reader enforces the configured reply caps", () => {
    const reader = new ReplyReader({ maxLineLength: 16, maxLines: 2 });
    reader.push(new TextEncoder().encode("250 " + "x".repeat(20) + "\r\n"));
    expect(() => reader.next()).toThrow(/longer than 16 octets/);
  });
});

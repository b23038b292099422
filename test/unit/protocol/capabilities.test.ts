import { describe, expect, it } from "vitest";
import { Capabilities } from "../../../src/protocol/capabilities.ts";

describe("Capabilities", () => {
  it("parses keywords, parameters, SIZE and AUTH in both spellings", () => {
    const caps = Capabilities.fromReply({
      code: 250,
      lines: ["mx.example.com Hello", "PIPELINING", "SIZE 10485760", "auth login Plain", "AUTH=CRAM-MD5", "8BITMIME"],
    });
    expect(caps.serverName).toBe("mx.example.com");
    expect(caps.has("pipelining")).toBe(true);
    expect(caps.has("STARTTLS")).toBe(false);
    expect(caps.sizeLimit).toBe(10485760);
    expect(caps.authMechanisms).toEqual(["LOGIN", "PLAIN", "CRAM-MD5"]);
  });

  it("treats SIZE without a number as no limit and a missing SIZE as unknown", () => {
    expect(Capabilities.fromReply({ code: 250, lines: ["x", "SIZE"] }).sizeLimit).toBe(0);
    expect(Capabilities.fromReply({ code: 250, lines: ["x"] }).sizeLimit).toBeUndefined();
  });
});

// validateCredential ("Create" in NINA) against each port of the real Postfix: the report
// must describe the session that was really negotiated.
import { describe, it } from "vitest";
import { SmtpAuthError, validateCredential } from "../../entries/node.ts";
import { credential, interopEnv, modes, type AuthMethod } from "./helpers.ts";

const env = interopEnv();

describe.concurrent("validateCredential on every port", () => {
  const cases = modes().flatMap((mode) => (["login", "plain"] as AuthMethod[]).map((authMethod) => ({ ...mode, authMethod })));

  it.for(cases)("$label: port $port, $encryption, AUTH $authMethod", async ({ port, encryption, authMethod }, { expect }) => {
    const report = await validateCredential(credential(port, encryption, authMethod), { ca: env.ca, timeout: 20_000 });
    expect(report.valid).toBe(true);
    expect(report.host).toBe("localhost");
    expect(report.port).toBe(port);
    expect(report.encryption).toBe(encryption);
    expect(report.authenticated).toBe(true);
    expect(report.authMethod).toBe(authMethod);
    expect(report.authMechanisms).toEqual(expect.arrayContaining(["PLAIN", "LOGIN"]));
    expect(report.sizeLimit).toBe(env.sizeLimit);
    expect(report.serverName).toBe("localhost.localdomain");
    expect(report.greeting).toContain("ESMTP nina-interop");
    expect(Object.keys(report.extensions)).toEqual(expect.arrayContaining(["PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "AUTH"]));
    // The plain port hides CHUNKING so that the DATA path meets Postfix too; the TLS ports offer it.
    if (encryption === "none") expect(report.extensions).not.toHaveProperty("CHUNKING");
    else expect(report.extensions).toHaveProperty("CHUNKING");
    expect(report.extensions.SIZE).toEqual([String(env.sizeLimit)]);
    if (encryption === "none") {
      expect(report.secure).toBe(false);
      expect(report.tls).toBeUndefined();
      expect(report.extensions).not.toHaveProperty("STARTTLS");
    } else {
      expect(report.secure).toBe(true);
      expect(report.tls?.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(report.tls?.cipher).toBeTruthy();
      // After TLS, Postfix no longer offers STARTTLS.
      expect(report.extensions).not.toHaveProperty("STARTTLS");
    }
    // Plain JSON, as NINA stores it, and no secret in it.
    const json = JSON.stringify(report);
    expect(JSON.parse(json)).toEqual(report);
    expect(json).not.toContain(env.password);
  });

  it("a wrong password is never reported valid (EAUTH)", async ({ expect }) => {
    await expect(validateCredential(credential(env.ports.smtps, "tls", "plain", "wrong-password"), { ca: env.ca, timeout: 20_000 }))
      .rejects.toSatisfy((error: unknown) => error instanceof SmtpAuthError && error.code === "EAUTH");
  });
});

/**
 * SMTP AUTH beyond PLAIN and LOGIN, inside every runtime, against the Node side's
 * `smtpAuth` smtp-server (it offers PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER, in that
 * order): CRAM-MD5 (the client's HMAC-MD5 is pure JS in src/protocol/md5.ts; the server
 * checks it), XOAUTH2 and OAUTHBEARER with a static bearer token, and `"auto"`.
 *
 * @module
 */

import type { AuthOptions } from "../../src/mod.ts";
import { equal, ok, rejects } from "./assert.ts";
import type { AuthAttempt, Case, Ctx } from "./context.ts";
import { FROM, TO, expectCode, transport, withTransport } from "./smtp-cases.ts";

/** The server's AUTH attempts made after `before` of them. */
async function attemptsSince(ctx: Ctx, before: number): Promise<AuthAttempt[]> {
  return (await ctx.control.authAttempts()).slice(before);
}

/**
 * Verifies with `auth`, checks the mechanism the client reports and the single attempt the
 * server saw, then sends a message and checks that it arrived as the authenticated user.
 */
async function loginAndSend(
  ctx: Ctx,
  auth: AuthOptions,
  expected: { mechanism: string; check?: (attempt: AuthAttempt) => void },
): Promise<void> {
  const { username } = ctx.config.user;
  const before = (await ctx.control.authAttempts()).length;
  const subject = `auth-${expected.mechanism.toLowerCase()}-${auth.method ?? "default"}-${ctx.runtime}-${Date.now()}`;
  await withTransport(transport(ctx, ctx.config.ports.smtpAuth, "starttls", { auth }), async (t) => {
    const report = await t.verify();
    equal(report.authenticated, true, "authenticated");
    equal(report.authMethod, expected.mechanism.toLowerCase(), "mechanism the client reports");
    ok(
      ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"].every((m) => report.authMechanisms.includes(m)),
      `AUTH offered: ${report.authMechanisms}`,
    );
    const attempts = await attemptsSince(ctx, before);
    equal(attempts.length, 1, `AUTH attempts the server saw (${JSON.stringify(attempts.map((a) => a.method))})`);
    const seen = attempts[0]!;
    equal(seen.method, expected.mechanism, "mechanism the server saw");
    equal(seen.username, username, "user name the server saw");
    equal(seen.ok, true, "the server accepted the credential");
    expected.check?.(seen);
    const receipt = await t.send({ from: FROM, to: TO, subject, text: `Sent after AUTH ${expected.mechanism}` });
    const captured = await ctx.control.fetchCaptured(receipt.messageId);
    ok(captured, `captured ${receipt.messageId}`);
    equal(captured.user, username, "session user of the captured message");
    equal(captured.subject, subject, "subject");
  });
}

/** The AUTH cases. */
export const authCases: Case[] = [
  {
    name: "auth: CRAM-MD5 (the server checks the HMAC), then a message sent as that user",
    async run(ctx) {
      const { username, password } = ctx.config.user;
      await loginAndSend(ctx, { username, password, method: "cram-md5" }, { mechanism: "CRAM-MD5" });
    },
  },
  {
    name: "auth: CRAM-MD5 with a wrong password is refused (EAUTH), the password not in the error",
    async run(ctx) {
      const { username } = ctx.config.user;
      const before = (await ctx.control.authAttempts()).length;
      const wrong = "not-the-cram-password";
      await withTransport(
        transport(ctx, ctx.config.ports.smtpAuth, "starttls", { auth: { username, password: wrong, method: "cram-md5" } }),
        async (t) => {
          const err = await rejects(t.verify(), "verify with a wrong CRAM-MD5 password");
          expectCode(ctx, err, ["EAUTH"], "wrong CRAM-MD5 password");
          ok(!String((err as Error).message).includes(wrong), "the password is not in the message");
        },
      );
      const attempts = await attemptsSince(ctx, before);
      equal(attempts.map((a) => `${a.method}:${a.ok}`).join(","), "CRAM-MD5:false", "what the server saw");
    },
  },
  {
    name: 'auth: "auto" with a password picks CRAM-MD5 although PLAIN and LOGIN are offered first',
    async run(ctx) {
      const { username, password } = ctx.config.user;
      await loginAndSend(ctx, { username, password, method: "auto" }, { mechanism: "CRAM-MD5" });
    },
  },
  {
    name: "auth: XOAUTH2 with a static token; the server saw that token",
    async run(ctx) {
      const { username, accessToken } = ctx.config.user;
      await loginAndSend(ctx, { username, accessToken, method: "xoauth2" }, {
        mechanism: "XOAUTH2",
        check: (seen) => equal(seen.accessToken, accessToken, "token the server saw"),
      });
    },
  },
  {
    name: "auth: OAUTHBEARER with a static token; the server saw that token, the host and the port",
    async run(ctx) {
      const { username, accessToken } = ctx.config.user;
      await loginAndSend(ctx, { username, accessToken, method: "oauthbearer" }, {
        mechanism: "OAUTHBEARER",
        check: (seen) => {
          equal(seen.accessToken, accessToken, "token the server saw");
          equal(seen.host, ctx.config.hostname, "host in the OAUTHBEARER message");
          equal(seen.port, String(ctx.config.ports.smtpAuth), "port in the OAUTHBEARER message");
        },
      });
    },
  },
  {
    name: 'auth: "auto" with a token picks OAUTHBEARER',
    async run(ctx) {
      const { username, accessToken } = ctx.config.user;
      await loginAndSend(ctx, { username, accessToken }, {
        mechanism: "OAUTHBEARER",
        check: (seen) => equal(seen.accessToken, accessToken, "token the server saw"),
      });
    },
  },
  {
    name: "auth: a refused XOAUTH2 token fails with EAUTH after the error challenge, the token not in the error",
    async run(ctx) {
      const { username } = ctx.config.user;
      const before = (await ctx.control.authAttempts()).length;
      const stale = "ya29.expired-conformance-token";
      await withTransport(
        transport(ctx, ctx.config.ports.smtpAuth, "starttls", { auth: { username, accessToken: stale, method: "xoauth2" } }),
        async (t) => {
          const err = await rejects(t.verify(), "verify with a token the server refuses");
          expectCode(ctx, err, ["EAUTH"], "refused token");
          ok(!String((err as Error).message).includes(stale), "the token is not in the message");
          ok(/401/.test(String((err as Error).message)), `the OAuth2 status is reported: ${(err as Error).message}`);
        },
      );
      const attempts = await attemptsSince(ctx, before);
      equal(attempts.length, 1, "one AUTH attempt (no token provider, so no retry)");
      equal(attempts[0]!.accessToken, stale, "token the server saw");
      equal(attempts[0]!.ok, false, "refused");
    },
  },
];

// SASL payload builders, byte for byte: each expectation is written out from the RFC or
// the provider's documented format and encoded with Buffer, independently of the builders.
import { describe, expect, it } from "vitest";
import {
  OAUTH_ERROR_ACK,
  PASSWORD_MECHANISMS,
  TOKEN_MECHANISMS,
  bytesFromBase64,
  cramMd5Response,
  oauthBearerToken,
  parseOAuthError,
  plainToken,
  saslName,
  strongestOffered,
  xoauth2Token,
} from "../../../src/protocol/sasl.ts";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const decoded = (base64: string): string => Buffer.from(base64, "base64").toString("utf8");

describe("PLAIN (RFC 4616)", () => {
  it("is base64 of NUL user NUL password with an empty authzid, UTF-8 encoded", () => {
    expect(plainToken("tim", "tanstaaftanstaaf")).toBe(b64("\0tim\0tanstaaftanstaaf"));
    expect(plainToken("j\u00fcrgen@example.com", "p\u00e4ss\u{1f511}")).toBe(b64("\0j\u00fcrgen@example.com\0p\u00e4ss\u{1f511}"));
  });
});

describe("CRAM-MD5 (RFC 2195)", () => {
  it("reproduces the RFC's example exchange", () => {
    // RFC 2195 §2: challenge <1896.697170952@postoffice.reston.mci.net>, user tim,
    // password tanstaaftanstaaf, digest b913a602c7eda7a495b4e6e7334d3890.
    const challenge = "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
    expect(decoded(challenge)).toBe("<1896.697170952@postoffice.reston.mci.net>");
    const response = cramMd5Response("tim", "tanstaaftanstaaf", challenge);
    expect(response).toBe("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
    expect(decoded(response)).toBe("tim b913a602c7eda7a495b4e6e7334d3890");
  });

  it("keys the HMAC with the password's UTF-8 bytes and takes the challenge's raw bytes", async () => {
    const { createHmac } = await import("node:crypto");
    const challengeBytes = Buffer.from([0x3c, 0xff, 0x00, 0x80, 0x3e]);
    const password = "p\u00e4ss\u{1f511}";
    const expected = createHmac("md5", Buffer.from(password, "utf8")).update(challengeBytes).digest("hex");
    expect(decoded(cramMd5Response("u", password, challengeBytes.toString("base64")))).toBe(`u ${expected}`);
  });

  it("throws on a challenge that is not base64", () => {
    expect(() => cramMd5Response("u", "p", "not base64!")).toThrow();
  });
});

describe("XOAUTH2 (Google / Microsoft format)", () => {
  it("is base64 of user=…^Aauth=Bearer …^A^A", () => {
    const token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
    const payload = xoauth2Token("someuser@example.com", token);
    expect(decoded(payload)).toBe(`user=someuser@example.com\x01auth=Bearer ${token}\x01\x01`);
    // The example in Google's XOAUTH2 documentation.
    expect(payload).toBe(
      "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
    );
  });
});

describe("OAUTHBEARER (RFC 7628)", () => {
  it("is the GS2 header with the user, then host, port and auth pairs, each ended by ^A, then ^A", () => {
    const token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
    const payload = oauthBearerToken("user@example.com", token, { host: "server.example.com", port: 587 });
    expect(decoded(payload)).toBe(
      `n,a=user@example.com,\x01host=server.example.com\x01port=587\x01auth=Bearer ${token}\x01\x01`,
    );
    expect(payload).toBe(b64(`n,a=user@example.com,\x01host=server.example.com\x01port=587\x01auth=Bearer ${token}\x01\x01`));
  });

  it("escapes , and = in the user name (saslname, RFC 5801 §4)", () => {
    const payload = oauthBearerToken("a,b=c@example.com", "t0k", { host: "h.example", port: 465 });
    expect(decoded(payload)).toBe("n,a=a=2Cb=3Dc@example.com,\x01host=h.example\x01port=465\x01auth=Bearer t0k\x01\x01");
  });

  it("answers an error challenge with base64 of the single byte 0x01 (§3.2.3); XOAUTH2 with an empty line", () => {
    expect(OAUTH_ERROR_ACK.OAUTHBEARER).toBe("AQ==");
    expect(Buffer.from(OAUTH_ERROR_ACK.OAUTHBEARER, "base64")).toEqual(Buffer.from([1]));
    expect(OAUTH_ERROR_ACK.XOAUTH2).toBe("");
  });
});

describe("saslName", () => {
  it.each([
    ["plain@example.com", "plain@example.com"],
    ["a,b", "a=2Cb"],
    ["a=b", "a=3Db"],
    ["=2C", "=3D2C"],
    [",=,", "=2C=3D=2C"],
  ])("%j → %j", (name, escaped) => {
    expect(saslName(name)).toBe(escaped);
  });
});

describe("parseOAuthError", () => {
  it("reads Google's error challenge", () => {
    const challenge = b64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}');
    expect(parseOAuthError(challenge)).toEqual({ status: "401", schemes: "bearer", scope: "https://mail.google.com/" });
  });

  it("takes a numeric status and ignores unknown or non-string fields", () => {
    expect(parseOAuthError(b64('{"status":400,"scope":["x"],"openid-configuration":"https://x"}'))).toEqual({ status: "400" });
  });

  it.each([["", ""], ["not base64", "!!"], ["not JSON", b64("hello")], ["a JSON array", b64("[1]")], ["null", b64("null")]])(
    "is undefined for %s",
    (_label, challenge) => {
      expect(parseOAuthError(challenge)).toBeUndefined();
    },
  );
});

describe("bytesFromBase64", () => {
  it("decodes to raw bytes", () => {
    expect(bytesFromBase64("AP+A")).toEqual(Uint8Array.from([0, 255, 128]));
    expect(bytesFromBase64(" AQ== ")).toEqual(Uint8Array.from([1]));
  });
});

describe("mechanism preference", () => {
  it("orders password mechanisms CRAM-MD5, PLAIN, LOGIN and token ones OAUTHBEARER, XOAUTH2", () => {
    expect(PASSWORD_MECHANISMS).toEqual(["CRAM-MD5", "PLAIN", "LOGIN"]);
    expect(TOKEN_MECHANISMS).toEqual(["OAUTHBEARER", "XOAUTH2"]);
  });

  it("picks the strongest offered, whatever the server's order", () => {
    expect(strongestOffered(PASSWORD_MECHANISMS, ["LOGIN", "PLAIN", "CRAM-MD5"])).toBe("CRAM-MD5");
    expect(strongestOffered(PASSWORD_MECHANISMS, ["LOGIN", "PLAIN"])).toBe("PLAIN");
    expect(strongestOffered(PASSWORD_MECHANISMS, ["LOGIN", "XOAUTH2"])).toBe("LOGIN");
    expect(strongestOffered(TOKEN_MECHANISMS, ["XOAUTH2", "OAUTHBEARER"])).toBe("OAUTHBEARER");
    expect(strongestOffered(TOKEN_MECHANISMS, ["LOGIN", "XOAUTH2"])).toBe("XOAUTH2");
    expect(strongestOffered(TOKEN_MECHANISMS, ["LOGIN", "PLAIN"])).toBeUndefined();
  });
});

/**
 * Test certificates, made once per process with the `openssl` CLI into a fresh temporary
 * directory: a private CA, a leaf it signed for `localhost`/`127.0.0.1`/`::1`, a self-signed
 * leaf with the same names, and a CA-signed leaf for `wrong.example` only. EC P-256 keys.
 *
 * The OpenSSL configuration is written next to the files and used for every command, so the
 * system's `openssl.cnf` defaults never leak into the certificates.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM strings for the test certificates, and the directory holding their files. */
export interface TestCerts {
  /** The test CA's certificate (`CA:TRUE`): trust it with `ca: [caPem]`. */
  caPem: string;
  /** Key of the CA-signed `localhost` leaf. */
  serverKey: string;
  /** CA-signed leaf: SAN `DNS:localhost, IP:127.0.0.1, IP:::1`, EKU serverAuth. */
  serverCert: string;
  /** Key of the self-signed leaf. */
  selfSignedKey: string;
  /** Self-signed leaf (`CA:FALSE`) with the same SANs as `serverCert`. */
  selfSignedCert: string;
  /** Key of the `wrong.example` leaf. */
  wrongHostKey: string;
  /** CA-signed leaf valid for `DNS:wrong.example` only. */
  wrongHostCert: string;
  /** The temporary directory holding the PEM files; removed when the process exits. */
  dir: string;
}

const CONFIG = `
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_self ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
[ v3_wrong ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

let cached: TestCerts | undefined;

/** Generates the test certificates on first use and returns the same ones afterwards. */
export function getTestCerts(): TestCerts {
  cached ??= generate();
  return cached;
}

function generate(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "nina-smtp-certs-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, "openssl.cnf");
  writeFileSync(config, CONFIG);
  const run = (args: string[]): void => {
    try {
      execFileSync("openssl", args, {
        cwd: dir,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, OPENSSL_CONF: config },
      });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err });
    }
  };
  const key = (name: string): void =>
    run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
  // A self-signed certificate straight from `req -x509`.
  const selfSigned = (name: string, cn: string, section: string): void =>
    run([
      "req", "-config", config, "-new", "-x509", "-key", `${name}.key`, "-sha256", "-days", "3650",
      "-subj", `/CN=${cn}`, "-extensions", section, "-out", `${name}.pem`,
    ]);
  // A CSR, then a certificate signed by the test CA.
  const caSigned = (name: string, cn: string, section: string, serial: string): void => {
    run(["req", "-config", config, "-new", "-key", `${name}.key`, "-subj", `/CN=${cn}`, "-out", `${name}.csr`]);
    run([
      "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", serial,
      "-sha256", "-days", "825", "-extfile", config, "-extensions", section, "-out", `${name}.pem`,
    ]);
  };

  for (const name of ["ca", "server", "self", "wrong"]) key(name);
  selfSigned("ca", "nina-smtp test CA", "v3_ca");
  caSigned("server", "localhost", "v3_leaf", "0x1001");
  selfSigned("self", "localhost", "v3_self");
  caSigned("wrong", "wrong.example", "v3_wrong", "0x1002");

  const read = (file: string): string => readFileSync(join(dir, file), "utf8");
  return {
    caPem: read("ca.pem"),
    serverKey: read("server.key"),
    serverCert: read("server.pem"),
    selfSignedKey: read("self.key"),
    selfSignedCert: read("self.pem"),
    wrongHostKey: read("wrong.key"),
    wrongHostCert: read("wrong.pem"),
    dir,
  };
}

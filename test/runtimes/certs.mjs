// Test certificates for the runtime harness, made with the openssl CLI in a temp folder:
// a CA, a CA-signed leaf for localhost/127.0.0.1, a CA-signed leaf for wrong.example only,
// and a self-signed leaf for localhost/127.0.0.1. ECDSA P-256, valid for two days.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function openssl(args, cwd) {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

const KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function leafSignedByCa(dir, name, san) {
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${san}`,
    ].join("\n"),
  );
  openssl(["req", ...KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
  openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-days", "2", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.pem`],
    dir,
  );
}

/** Makes the certificates; returns PEM strings and a cleanup function. */
export function makeCerts() {
  const dir = mkdtempSync(join(tmpdir(), "nina-smtp-rt-certs-"));
  openssl(
    ["req", "-x509", ...KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-sha256",
      "-subj", "/CN=nina-smtp runtime test CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    dir,
  );
  leafSignedByCa(dir, "good", "DNS:localhost,IP:127.0.0.1");
  leafSignedByCa(dir, "wrong", "DNS:wrong.example");
  openssl(
    ["req", "-x509", ...KEY, "-keyout", "self.key", "-out", "self.pem", "-days", "2", "-sha256",
      "-subj", "/CN=localhost",
      "-addext", "basicConstraints=critical,CA:FALSE",
      "-addext", "extendedKeyUsage=serverAuth",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    dir,
  );
  const read = (f) => readFileSync(join(dir, f), "utf8");
  const certs = {
    dir,
    caPem: read("ca.pem"),
    good: { key: read("good.key"), cert: read("good.pem") },
    wrong: { key: read("wrong.key"), cert: read("wrong.pem") },
    self: { key: read("self.key"), cert: read("self.pem") },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return certs;
}

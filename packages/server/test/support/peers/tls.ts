/**
 * A certificate authority made for one test run, and a server certificate it signs, with the openssl command
 * line (Node 20 can read X.509 certificates but not make them). Nothing is trusted system-wide: a client trusts
 * the CA only where it is told to (NODE_EXTRA_CA_CERTS for a child process).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../harness.js";

export interface TestCertificates {
  /** The CA's certificate (PEM) and its file. */
  caCert: string;
  caFile: string;
  /** The server's key and certificate (PEM), for `hostname`. */
  key: string;
  cert: string;
}

export function testCertificates(hostname: string): TestCertificates {
  const dir = makeTempDir("shardvault-test-ca-");
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Shardvault test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${hostname}`);
  writeFileSync(at("server.ext"), `subjectAltName=DNS:${hostname}\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n`);
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext");
  return { caCert: readFileSync(at("ca.pem"), "utf8"), caFile: at("ca.pem"), key: readFileSync(at("server.key"), "utf8"), cert: readFileSync(at("server.pem"), "utf8") };
}

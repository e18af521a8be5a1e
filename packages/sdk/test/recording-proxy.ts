/**
 * A recording HTTP proxy for tests: put between a client and a real server, it forwards every request as it
 * came and keeps the exact bytes that crossed it (request line, headers, body; and the answers), so a test can
 * say what the server was, and was not, sent. The SDK and CLI tests of client-side reconstruction use it.
 */
import assert from "node:assert/strict";
import { createServer, request as forward, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  method: string;
  url: string;
  /** The request's headers, as sent (names lower-cased by Node). */
  headers: IncomingHttpHeaders;
  /** Request line, every raw header line and the body: everything the server received. */
  sent: Buffer;
  status: number;
  /** The answer's body. */
  answer: Buffer;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  /** `work`'s result and the exchanges it caused, the token exchanges (`/v1/auth/…`) aside. */
  during<T>(work: () => Promise<T>): Promise<{ result: T; exchanges: Exchange[] }>;
  close(): Promise<void>;
}

function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  const proxy = createServer(async (req, res) => {
    const body = await collect(req);
    const rawHeaders: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    const sent = Buffer.concat([Buffer.from(`${req.method} ${req.url} HTTP/1.1\r\n${rawHeaders.join("\r\n")}\r\n\r\n`, "latin1"), body]);
    const out = forward({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, async (answer) => {
      const answerBody = await collect(answer);
      exchanges.push({ method: req.method!, url: req.url!, headers: req.headers, sent, status: answer.statusCode!, answer: answerBody });
      res.writeHead(answer.statusCode!, answer.headers);
      res.end(answerBody);
    });
    out.on("error", (error) => {
      res.writeHead(502).end(String(error));
    });
    out.end(body);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    async during(work) {
      const from = exchanges.length;
      const result = await work();
      return { result, exchanges: exchanges.slice(from).filter((e) => !e.url.startsWith("/v1/auth/")) };
    },
    close: () =>
      new Promise((resolve) => {
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

/** The 32 share bytes inside an encoded client share (format 1: version, scheme, index, share, tag, check). */
export function rawShareBytes(clientShare: string): Buffer {
  const bytes = Buffer.from(clientShare, "base64");
  assert.equal(bytes.length, 47, "a client share of format 1");
  return bytes.subarray(3, 35);
}

/** Every spelling of the value and the client share a request could carry them in. */
function spellings(value: string, clientShare: string): Array<[what: string, bytes: Buffer]> {
  const share = rawShareBytes(clientShare);
  const valueBytes = Buffer.from(value, "utf8");
  return [
    ["the value", valueBytes],
    ["the value in base64", Buffer.from(valueBytes.toString("base64"))],
    ["the value in hex", Buffer.from(valueBytes.toString("hex"))],
    ["the client share", Buffer.from(clientShare)],
    ["the client share, URL-encoded", Buffer.from(encodeURIComponent(clientShare))],
    ["the raw share bytes", share],
    ["the share bytes in base64", Buffer.from(share.toString("base64"))],
    ["the share bytes in base64url", Buffer.from(share.toString("base64url"))],
    ["the share bytes in hex", Buffer.from(share.toString("hex"))],
    ["the share bytes in upper-case hex", Buffer.from(share.toString("hex").toUpperCase())],
  ];
}

/** Fails when any request of `exchanges` carried the value or the client share, in any of their spellings. */
export function assertNeverSent(exchanges: readonly Exchange[], value: string, clientShare: string): void {
  assert.ok(exchanges.length > 0, "requests were recorded");
  for (const exchange of exchanges) {
    for (const [what, bytes] of spellings(value, clientShare)) {
      assert.ok(!exchange.sent.includes(bytes), `${exchange.method} ${exchange.url} carried ${what}`);
    }
  }
}

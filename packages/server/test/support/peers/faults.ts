/**
 * What every local wire peer (AWS KMS, GCP Cloud KMS over REST or gRPC, Azure Key Vault) shares: the listener,
 * request counting and fault injection:
 *
 *   await peer.fault({ latencyMs: 50 });   // every answer 50 ms late
 *   await peer.fault({ throttle: 2 });     // the next two requests get the provider's throttling answer
 *   await peer.fault({ error5xx: 1 });     // the next request gets a 5xx (gRPC: UNAVAILABLE)
 *   await peer.fault({ loseAnswer: 1 });   // the next request is carried out, but its answer is replaced by a 5xx
 *   await peer.fault({ hang: true });      // requests are read and never answered
 *   await peer.fault({ hold: true });      // requests are read and held until `peer.release()` serves them
 *   await peer.fault({ refuse: true });    // the listener closes and open connections are dropped: connections are refused
 *   await peer.reset();                    // no faults, listening again on the same port, counters kept
 *
 * `peer.count("Encrypt")` counts requests per operation as the peer received them, faulted ones included;
 * `peer.abandoned` counts requests the client gave up on before their answer (an abort reaching the wire).
 *
 * `startWirePeer` serves HTTP/1.1 (or HTTPS, given a certificate); another transport (the gRPC peer) builds on
 * `createFaultState` and `peerFrom`.
 */
import { createServer as createHttpServer, ServerResponse, type IncomingMessage, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";

export interface Faults {
  latencyMs?: number;
  /** The next n requests are throttled. */
  throttle?: number;
  /** The next n requests get a 5xx. */
  error5xx?: number;
  /** The next n requests are carried out, then answered with a 5xx (an answer lost on the way back). */
  loseAnswer?: number;
  hang?: boolean;
  /** Requests are held (counted, unanswered) until `release()`, then served as usual. */
  hold?: boolean;
  refuse?: boolean;
}

export interface WirePeer {
  /** `http://127.0.0.1:PORT` (`https://…` for a TLS peer) */
  readonly url: string;
  readonly port: number;
  fault(faults: Faults): Promise<void>;
  reset(): Promise<void>;
  /** Requests received for one operation, or for all when none is named. */
  count(operation?: string): number;
  /** Zeroes the request counters. */
  resetCounts(): void;
  /** Requests whose connection the client closed before the answer (an abort reaching the wire). */
  readonly abandoned: number;
  /** Ends the hold fault: the held requests are served, in the order they came. */
  release(): void;
  stop(): Promise<void>;
}

/** What a peer does with one request once its faults have had their say. */
export type Verdict = "serve" | "throttle" | "error" | "loseAnswer" | "hang";

export interface FaultState {
  readonly faults: Faults;
  /** Counts the request under `operation`, waits out a hold and the latency, and says what to do with it. */
  admit(operation: string): Promise<Verdict>;
  /** A client gave up on a request before its answer. */
  abandoned(): void;
}

/** The listening side of a peer, whatever its protocol. */
export interface PeerTransport {
  readonly scheme: string;
  /** Listens on `port` (a free one when 0) and answers the port. */
  listen(port: number): Promise<number>;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
  /** Ends the requests the hang fault is keeping (without an answer). */
  endHanging(): void;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The fault state and counters of one peer, and the peer built from it over `transport` (listening at once).
 */
export async function peerFrom(transport: (state: FaultState) => PeerTransport): Promise<WirePeer> {
  let faults: Faults = {};
  const counts = new Map<string, number>();
  let held: Array<() => void> = [];
  let abandoned = 0;
  let port = 0;
  let listening = false;

  const state: FaultState = {
    get faults() {
      return faults;
    },
    async admit(operation) {
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      if (faults.hold) await new Promise<void>((resolve) => held.push(resolve));
      if (faults.latencyMs) await delay(faults.latencyMs);
      if (faults.hang) return "hang";
      if (faults.throttle && faults.throttle > 0) {
        faults.throttle--;
        return "throttle";
      }
      if (faults.error5xx && faults.error5xx > 0) {
        faults.error5xx--;
        return "error";
      }
      if (faults.loseAnswer && faults.loseAnswer > 0) {
        faults.loseAnswer--;
        return "loseAnswer";
      }
      return "serve";
    },
    abandoned() {
      abandoned++;
    },
  };
  const listener = transport(state);

  async function listen(): Promise<void> {
    port = await listener.listen(port);
    listening = true;
  }

  async function close(): Promise<void> {
    if (!listening) return;
    listening = false;
    await listener.close();
  }

  function release(): void {
    faults.hold = false;
    const waiting = held;
    held = [];
    for (const serve of waiting) serve();
  }

  await listen();
  return {
    get url() {
      return `${listener.scheme}://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get abandoned() {
      return abandoned;
    },
    release,
    async fault(next: Faults) {
      faults = { ...faults, ...next };
      if (next.hang === false) listener.endHanging();
      if (next.refuse) await close();
      else if (next.refuse === false && !listening) await listen();
    },
    async reset() {
      release();
      faults = {};
      listener.endHanging();
      if (!listening) await listen();
    },
    count(operation?: string) {
      if (operation === undefined) return [...counts.values()].reduce((a, b) => a + b, 0);
      return counts.get(operation) ?? 0;
    },
    resetCounts() {
      counts.clear();
      abandoned = 0;
    },
    async stop() {
      release();
      faults = {};
      listener.endHanging();
      await close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP/1.1 peers

export interface PeerRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: Buffer;
  /** The operation name this request was counted under. */
  operation: string;
}

export interface WirePeerHooks {
  /** The operation a request is for (counted under this name); may read the body. */
  operation(req: IncomingMessage, url: URL, body: Buffer): string;
  /** The provider's throttling answer. */
  throttled(res: ServerResponse): void;
  /** The provider's 5xx answer. */
  serverError(res: ServerResponse): void;
  handle(request: PeerRequest): void | Promise<void>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An HTTP/1.1 peer; with `tls` (a PEM key and certificate chain) it speaks HTTPS only. */
export function startWirePeer(hooks: WirePeerHooks, opts: { tls?: { key: string; cert: string } } = {}): Promise<WirePeer> {
  return peerFrom((state) => {
    const sockets = new Set<Socket>();
    const hanging = new Set<ServerResponse>();
    let server: Server;

    async function serve(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      let operation = "unknown";
      try {
        operation = hooks.operation(req, url, body);
      } catch {
        // counted as unknown; the handler answers
      }
      try {
        switch (await state.admit(operation)) {
          case "hang":
            hanging.add(res);
            res.on("close", () => hanging.delete(res));
            return;
          case "throttle":
            return hooks.throttled(res);
          case "error":
            return hooks.serverError(res);
          case "loseAnswer":
            // The operation takes effect; its answer goes to a response attached to no socket.
            await hooks.handle({ req, res: new ServerResponse(req), url, body, operation });
            return hooks.serverError(res);
          case "serve":
            return await hooks.handle({ req, res, url, body, operation });
        }
      } catch (error) {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: `peer failure: ${(error as Error).message}` } });
        else res.destroy();
      }
    }

    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => void serve(req, res, Buffer.concat(chunks)));
      res.on("close", () => {
        if (!res.writableFinished) state.abandoned();
      });
    };

    return {
      scheme: opts.tls ? "https" : "http",
      listen(port) {
        server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, onRequest) : createHttpServer(onRequest);
        server.on("connection", (socket: Socket) => {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
        });
        return new Promise((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve((server.address() as { port: number }).port);
          });
        });
      },
      close() {
        return new Promise((resolve) => {
          server.close(() => resolve());
          for (const socket of sockets) socket.destroy();
          sockets.clear();
        });
      },
      endHanging() {
        for (const res of hanging) res.destroy();
        hanging.clear();
      },
    };
  });
}

/** Adds a provider peer's own members to the base peer, getters kept live (Object.assign would copy values). */
export function extendPeer<B extends object, E extends object>(peer: B, extras: E): B & E {
  return Object.defineProperties(peer, Object.getOwnPropertyDescriptors(extras)) as B & E;
}

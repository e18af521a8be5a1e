/**
 * A local Google Cloud KMS speaking the service's gRPC protocol (HTTP/2, the `google.cloud.kms.v1.
 * KeyManagementService` service defined by the `.proto` files that ship inside `@google-cloud/kms`), served
 * with `@grpc/grpc-js`, so that the official client reaches it through its default transport. Plaintext
 * (h2c) on loopback; the bearer token is expected in the `authorization` metadata.
 *
 * Implemented: CreateCryptoKey, GetCryptoKey, ListCryptoKeyVersions, UpdateCryptoKeyVersion, GetKeyRing,
 * Encrypt, Decrypt (the rest answer UNIMPLEMENTED). The keys and what the operations do are the REST peer's
 * (gcp-kms-store.ts); errors carry the gRPC status of the same name (INVALID_ARGUMENT, FAILED_PRECONDITION,
 * UNAUTHENTICATED, RESOURCE_EXHAUSTED, UNAVAILABLE, …). Faults and counters are the wire peers' (faults.ts): a
 * hanging call is ended with UNAVAILABLE, a call the client cancels counts as abandoned, and refusing
 * connections shuts the server down until `reset`.
 */
import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { extendPeer, peerFrom } from "./faults.js";
import type { GcpKmsPeer } from "./gcp-kms-peer.js";
import { gcpKmsSlotConfig } from "./gcp-kms-peer.js";
import { createGcpKmsStore, GcpError, storeExtras, throttledError, unavailableError, type GcpKmsPeerExtras, type GcpKmsStoreOptions } from "./gcp-kms-store.js";

/** The service definition, from the client package's own protos (its JSON descriptor). */
function kmsService(): grpc.ServiceDefinition {
  const descriptor = createRequire(import.meta.url)("@google-cloud/kms/build/protos/protos.json");
  // The options the client loads them with: camelCase fields, enums by name.
  const definition = protoLoader.fromJSON(descriptor, { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { kms: { v1: { KeyManagementService: grpc.ServiceClientConstructor } } } };
  };
  return loaded.google.cloud.kms.v1.KeyManagementService.service;
}

const STATUS: Record<string, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
};

const statusOf = (error: GcpError): Partial<grpc.StatusObject> => ({ code: STATUS[error.status] ?? grpc.status.UNKNOWN, details: error.message });

/** RFC 3339 times (as the store answers them) as `google.protobuf.Timestamp`, anywhere in a message. */
function toProto(value: unknown, key = ""): unknown {
  if (typeof value === "string" && key === "createTime") {
    const ms = Date.parse(value);
    return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
  }
  if (Array.isArray(value)) return value.map((item) => toProto(item));
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toProto(v, k)]));
  }
  return value;
}

type Request = Record<string, any>;

export async function startGcpKmsGrpcPeer(opts: GcpKmsStoreOptions = {}): Promise<GcpKmsPeer> {
  const store = createGcpKmsStore(opts);
  const service = kmsService();
  const operations: Record<string, [string, (request: Request) => unknown]> = {
    createCryptoKey: ["CreateCryptoKey", (r) => store.createCryptoKey(r.parent, r.cryptoKeyId, r.cryptoKey?.purpose, r.cryptoKey?.labels)],
    getCryptoKey: ["GetCryptoKey", (r) => store.getCryptoKey(r.name)],
    listCryptoKeyVersions: ["ListCryptoKeyVersions", (r) => store.listCryptoKeyVersions(r.parent, r.filter || undefined)],
    updateCryptoKeyVersion: [
      "UpdateCryptoKeyVersion",
      (r) => store.updateCryptoKeyVersion(r.cryptoKeyVersion?.name ?? "", r.cryptoKeyVersion?.state, r.updateMask?.paths ?? []),
    ],
    getKeyRing: ["GetKeyRing", (r) => store.getKeyRing(r.name)],
    encrypt: ["Encrypt", (r) => store.encrypt(r.name, r.plaintext, r.additionalAuthenticatedData)],
    decrypt: ["Decrypt", (r) => store.decrypt(r.name, r.ciphertext, r.additionalAuthenticatedData)],
  };

  const peer = await peerFrom((state) => {
    let server: grpc.Server | undefined;
    const hanging = new Set<() => void>();

    const handler =
      (operation: string, run: (request: Request) => unknown): grpc.handleUnaryCall<Request, unknown> =>
      (call, callback) => {
        let answered = false;
        const answer = (error: Partial<grpc.StatusObject> | null, value?: unknown) => {
          if (answered) return;
          answered = true;
          callback(error, value);
        };
        call.on("cancelled", () => {
          if (answered) return;
          answered = true;
          state.abandoned();
        });
        const serve = () => {
          const [authorization] = call.metadata.get("authorization");
          store.authenticate(typeof authorization === "string" ? authorization : undefined);
          return toProto(run(call.request));
        };
        void (async () => {
          try {
            switch (await state.admit(operation)) {
              case "hang": {
                const end = () => answer({ code: grpc.status.UNAVAILABLE, details: "the connection was dropped" });
                hanging.add(end);
                return;
              }
              case "throttle":
                return answer(statusOf(throttledError()));
              case "error":
                return answer(statusOf(unavailableError()));
              case "loseAnswer":
                serve(); // carried out; the answer is lost on the way back
                return answer(statusOf(unavailableError()));
              case "serve":
                return answer(null, serve());
            }
          } catch (error) {
            if (error instanceof GcpError) return answer(statusOf(error));
            answer({ code: grpc.status.INTERNAL, details: `peer failure: ${(error as Error).message}` });
          }
        })();
      };

    const implementation = Object.fromEntries(Object.entries(operations).map(([method, [operation, run]]) => [method, handler(operation, run)]));

    return {
      scheme: "grpc",
      listen(port) {
        server = new grpc.Server();
        server.addService(service, implementation);
        return new Promise((resolve, reject) =>
          server!.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
        );
      },
      async close() {
        server?.forceShutdown();
        server = undefined;
      },
      endHanging() {
        for (const end of hanging) end();
        hanging.clear();
      },
    };
  });

  return extendPeer(peer, storeExtras(store, () => peer.port));
}

/** The `providers.<slot>` fields (and the environment they name) of a `gcp-kms` slot on a peer, over gRPC. */
export const gcpKmsGrpcSlotConfig = (peer: GcpKmsPeerExtras, extra: Record<string, unknown> = {}) => gcpKmsSlotConfig(peer, { transport: "grpc", ...extra });

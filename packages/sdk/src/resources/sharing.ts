/**
 * `client.sharing`: sharing one secret version, with 1claw's method names and argument order:
 * `create(secretId, options)`, `access(shareId)`, `revoke(shareId)`, `listOutbound()`, `listInbound()`,
 * `accept(shareId)`, `decline(shareId)`. Shardvault's additions: `access` takes the share's link too (and then
 * the link key from its `#k=` fragment, for client-custody vaults) and a passphrase; `create` takes the client
 * share a client-custody vault needs.
 */
import type { CreateShareBody, ShareCreated, SharedSecret, ShareList } from "../api-types.js";
import { clientValidationFailure } from "../errors.js";
import { idProblem } from "../paths.js";
import type { Transport } from "../transport.js";
import type { ReadOptions, ShardvaultResponse } from "../types.js";

export interface AccessOptions {
  /** The share's passphrase, when it has one (sent as its UTF-8 bytes in `X-Share-Passphrase`). */
  passphrase?: string;
  /** Client-custody shares: the link key, when the link itself is not given (the `k` of its `#k=` fragment). */
  shareKey?: string;
}

/** The share id and link key of a share's link (`https://…/share/{id}#k=…`); any other text is taken as an id. */
export function parseShareLink(link: string): { id: string; key?: string } {
  if (!/^https?:\/\//i.test(link)) return { id: link };
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { id: link };
  }
  const segments = url.pathname.split("/").filter(Boolean);
  const at = segments.lastIndexOf("share");
  const id = at >= 0 && at === segments.length - 2 ? decodeURIComponent(segments[at + 1]!) : "";
  const key = new URLSearchParams(url.hash.slice(1)).get("k") ?? undefined;
  return { id, ...(key ? { key } : {}) };
}

/** A header value carrying text as its UTF-8 bytes (each byte one character, as HTTP headers are read). */
const utf8Header = (text: string) => String.fromCharCode(...new TextEncoder().encode(text));

const sharePath = (shareId: string) => `/v1/share/${encodeURIComponent(shareId)}`;

export class SharingResource {
  constructor(private readonly http: Transport) {}

  /**
   * `POST /v1/secrets/{secret_id}/share`: a share of the version `secretId` names (the `id` a secret's read or
   * write answers). In a client-custody vault pass `{ clientShare }`: the answer's `share_url` then carries the
   * link key (`#k=…`), shown this once.
   */
  create(secretId: string, options: CreateShareBody, read: ReadOptions = {}): Promise<ShardvaultResponse<ShareCreated>> {
    const problem = idProblem("secretId", secretId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    const headers: Record<string, string> = { ...read?.headers };
    if (read?.clientShare !== undefined) headers["X-Client-Share"] = read.clientShare;
    const body = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined));
    return this.http.request({ method: "POST", path: `/v1/secrets/${encodeURIComponent(secretId)}/share`, body, headers });
  }

  /**
   * `GET /v1/share/{id}`: the shared value. Takes the id or the share's link (its `#k=` key is sent as
   * `X-Share-Key`; the fragment itself never is). Link shares need no credentials; shares made for a user or an
   * agent are opened with this client's.
   */
  access(shareUrlOrId: string, options: AccessOptions = {}): Promise<ShardvaultResponse<SharedSecret>> {
    if (typeof shareUrlOrId !== "string") return Promise.resolve(clientValidationFailure("invalid_id", "shareUrlOrId must be a string"));
    const { id, key } = parseShareLink(shareUrlOrId.trim());
    const problem = idProblem("the share id", id);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    const shareKey = options?.shareKey ?? key;
    const headers: Record<string, string> = {
      ...(shareKey !== undefined ? { "X-Share-Key": shareKey } : {}),
      ...(options?.passphrase !== undefined ? { "X-Share-Passphrase": utf8Header(options.passphrase) } : {}),
    };
    return this.http.request({ method: "GET", path: sharePath(id), headers });
  }

  /** `DELETE /v1/share/{id}`: revokes a share (its creator, an owner or an admin); it answers 404 from then on. */
  revoke(shareId: string): Promise<ShardvaultResponse<null>> {
    const problem = idProblem("shareId", shareId);
    if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
    return this.http.request({ method: "DELETE", path: sharePath(shareId) });
  }

  /** `GET /v1/shares/outbound`: the shares this principal made. */
  listOutbound(): Promise<ShardvaultResponse<ShareList>> {
    return this.http.request({ method: "GET", path: "/v1/shares/outbound" });
  }

  /** `GET /v1/shares/inbound`: the shares made for this principal. */
  listInbound(): Promise<ShardvaultResponse<ShareList>> {
    return this.http.request({ method: "GET", path: "/v1/shares/inbound" });
  }

  /** `POST /v1/shares/{id}/accept`: marks a share made for this principal accepted. */
  accept(shareId: string): Promise<ShardvaultResponse<null>> {
    return answer(this.http, shareId, "accept");
  }

  /** `POST /v1/shares/{id}/decline`: declines a share made for this principal; it no longer opens. */
  decline(shareId: string): Promise<ShardvaultResponse<null>> {
    return answer(this.http, shareId, "decline");
  }
}

/** The recipient's answer to a share made for it. */
function answer(http: Transport, shareId: string, what: "accept" | "decline"): Promise<ShardvaultResponse<null>> {
  const problem = idProblem("shareId", shareId);
  if (problem) return Promise.resolve(clientValidationFailure("invalid_id", problem));
  return http.request({ method: "POST", path: `/v1/shares/${encodeURIComponent(shareId)}/${what}` });
}

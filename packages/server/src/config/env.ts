/** The server's settings, read once from the environment at start-up. */
import { resolve } from "node:path";
import { LOG_LEVELS, type LogLevel } from "../log.js";

export interface Settings {
  host: string;
  port: number;
  dataDir: string;
  keysDir: string;
  databaseUrl: string | undefined;
  configFile: string | undefined;
  adminApiKey: string | undefined;
  tls: { cert: string; key: string } | undefined;
  tlsTerminatedUpstream: boolean;
  /** SHARDVAULT_LOG_LEVEL: the JSON logs' level (request logs are `info`). */
  logLevel: LogLevel;
  /** The origin (and path prefix) links are made with, e.g. share links; default: the request's own. */
  publicUrl: string | undefined;
  limits: Limits;
  /**
   * Testing aid (SHARDVAULT_JOB_PAUSE_AFTER_BATCHES): every background job waits, holding its job, once it
   * has committed this many batches, so a test can stop the process mid-job without racing the clock.
   */
  jobPauseAfterBatches: number | undefined;
}

export interface Limits {
  maxValueBytes: number;
  maxPathLength: number;
  maxMetadataBytes: number;
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SettingsError";
  }
}

const ADMIN_KEY = /^1ck_[A-Za-z0-9_-]{43,}$/;

function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new SettingsError(`${name} must be an integer ≥ ${min}`);
  return value;
}

/** SHARDVAULT_PUBLIC_URL: an http(s) URL with no query or fragment; kept without its trailing slash. */
function publicUrlSetting(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SettingsError("SHARDVAULT_PUBLIC_URL must be a URL, e.g. https://vault.example.com");
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search || url.hash || url.username || url.password) {
    throw new SettingsError("SHARDVAULT_PUBLIC_URL must be an http(s) URL without credentials, query or fragment");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const dataDir = resolve(env.SHARDVAULT_DATA_DIR || ".shardvault");
  // PORT=0 picks a free port (tests use it); the chosen one is printed.
  const port = integerSetting(env, "PORT", 8787, 0);
  if (port > 65535) throw new SettingsError("PORT must be at most 65535");
  const adminApiKey = env.SHARDVAULT_ADMIN_API_KEY || undefined;
  if (adminApiKey !== undefined && !ADMIN_KEY.test(adminApiKey)) {
    // The key itself is not repeated in the message.
    throw new SettingsError("SHARDVAULT_ADMIN_API_KEY must be 1ck_ followed by at least 43 base64url characters");
  }
  const cert = env.SHARDVAULT_TLS_CERT || undefined;
  const key = env.SHARDVAULT_TLS_KEY || undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw new SettingsError("SHARDVAULT_TLS_CERT and SHARDVAULT_TLS_KEY must be set together");
  }
  const logLevel = (env.SHARDVAULT_LOG_LEVEL || "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new SettingsError(`SHARDVAULT_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  return {
    publicUrl: publicUrlSetting(env.SHARDVAULT_PUBLIC_URL),
    host: env.HOST || "127.0.0.1",
    port,
    dataDir,
    keysDir: resolve(env.SHARDVAULT_KEYS_DIR || resolve(dataDir, "keys")),
    databaseUrl: env.DATABASE_URL || undefined,
    configFile: env.SHARDVAULT_CONFIG || undefined,
    adminApiKey,
    tls: cert && key ? { cert, key } : undefined,
    tlsTerminatedUpstream: env.SHARDVAULT_TLS_TERMINATED_UPSTREAM === "1",
    logLevel,
    jobPauseAfterBatches: env.SHARDVAULT_JOB_PAUSE_AFTER_BATCHES ? integerSetting(env, "SHARDVAULT_JOB_PAUSE_AFTER_BATCHES", 1) : undefined,
    limits: {
      maxValueBytes: integerSetting(env, "SHARDVAULT_MAX_VALUE_BYTES", 64 * 1024),
      maxPathLength: integerSetting(env, "SHARDVAULT_MAX_PATH_LENGTH", 512),
      maxMetadataBytes: integerSetting(env, "SHARDVAULT_MAX_METADATA_BYTES", 8 * 1024),
    },
  };
}

/** Loopback hosts may serve plain HTTP; any other needs TLS here or upstream. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

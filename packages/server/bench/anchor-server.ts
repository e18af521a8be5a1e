/**
 * The HTTP benchmark's anchors: what any database-backed route of this stack costs at least. A bare Fastify
 * server (no authentication, no crypto, no audit) on the server's own PostgreSQL adapter (same driver, same
 * pool size, statements prepared by name), on the benchmark's database, in a table of its own:
 *
 *   GET /anchor/select/:id  one prepared single-row SELECT by primary key, the row (a 1 KiB value) as JSON
 *   PUT /anchor/insert/*    one INSERT of the JSON body's 1 KiB value, 201 with the new row's id
 *
 * Started like the bench servers (a child process printing the same "listening on" line); only
 * `npm run bench:http` and `npm run bench:scale` start it.
 */
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import { openPostgres } from "../dist/db/postgres.js";

const db = await openPostgres(process.env.DATABASE_URL!);
await db.query("CREATE TABLE IF NOT EXISTS bench_anchor (id uuid PRIMARY KEY, path text NOT NULL, value text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())");

const app = Fastify({ logger: false });
app.get<{ Params: { id: string } }>("/anchor/select/:id", async (request, reply) => {
  const [row] = await db.query("SELECT id, path, value, created_at FROM bench_anchor WHERE id = $1", [request.params.id]);
  return row ? row : reply.code(404).send({ error: "not found" });
});
app.put<{ Body: { value: string } }>("/anchor/insert/*", async (request, reply) => {
  const id = randomUUID();
  await db.query("INSERT INTO bench_anchor (id, path, value) VALUES ($1, $2, $3)", [id, request.url, request.body.value]);
  return reply.code(201).send({ id });
});
// The benchmark's own set-up: one row to read.
app.post<{ Body: { value: string } }>("/anchor/rows", async (request, reply) => {
  const id = randomUUID();
  await db.query("INSERT INTO bench_anchor (id, path, value) VALUES ($1, $2, $3)", [id, "read", request.body.value]);
  return reply.code(201).send({ id });
});

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0) });
const address = app.server.address();
console.log(`[shardvault] listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`);
process.on("SIGTERM", () => void app.close().then(() => db.close()).then(() => process.exit(0)));

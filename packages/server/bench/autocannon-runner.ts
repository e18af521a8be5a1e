/**
 * Runs one autocannon load in its own process (spawned by support.ts) and prints autocannon's result as
 * JSON. With `uniquePaths`, every request goes to its own path (`…-<n>`): autocannon's CLI cannot vary
 * the URL, its API can.
 */
import autocannon from "autocannon";

const opts = JSON.parse(process.argv[2]!) as {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  connections: number;
  duration?: number;
  amount?: number;
  uniquePaths?: boolean;
};
const target = new URL(opts.url);
let counter = 0;
const result = await autocannon({
  url: target.origin,
  connections: opts.connections,
  ...(opts.amount ? { amount: opts.amount } : { duration: opts.duration ?? 10 }),
  requests: [
    {
      method: opts.method as "GET",
      path: target.pathname + target.search,
      headers: opts.headers,
      ...(opts.body ? { body: opts.body } : {}),
      ...(opts.uniquePaths ? { setupRequest: (req: any) => ({ ...req, path: `${target.pathname}-${counter++}` }) } : {}),
    },
  ],
});
process.stdout.write(JSON.stringify(result));

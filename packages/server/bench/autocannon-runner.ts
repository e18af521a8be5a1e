/**
 * Runs one autocannon load in its own process (spawned by support.ts) and prints autocannon's result as
 * JSON. With `uniquePaths`, every request goes to its own path (`…-<n>`); with `cyclePaths: N`, requests go
 * round the paths `…-0` to `…-<N-1>`: autocannon's CLI cannot vary the URL, its API can.
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
  cyclePaths?: number;
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
      ...(opts.uniquePaths || opts.cyclePaths
        ? { setupRequest: (req: any) => ({ ...req, path: `${target.pathname}-${opts.cyclePaths ? counter++ % opts.cyclePaths : counter++}${target.search}` }) }
        : {}),
    },
  ],
});
process.stdout.write(JSON.stringify(result));

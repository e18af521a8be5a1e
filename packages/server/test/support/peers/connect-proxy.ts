/**
 * An HTTP CONNECT proxy on loopback that tunnels to local peers by name: a client given
 * `HTTPS_PROXY=<proxy.url>` reaches `https://shardvault.vault.test` at a peer on 127.0.0.1, resolving no name
 * and leaving the machine never. Tunnels to any other host are refused (403).
 */
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";

export interface ConnectProxy {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The `host:port` targets tunnelled so far, in order, refused ones included. */
  readonly requested: string[];
  stop(): Promise<void>;
}

/** `routes`: hostname → the local port its tunnels go to (any port the client asks for). */
export async function startConnectProxy(routes: Record<string, number>): Promise<ConnectProxy> {
  const requested: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405, { "content-type": "text/plain" });
    res.end("CONNECT only");
  });
  server.on("connect", (req, client: Socket, head: Buffer) => {
    const target = req.url ?? "";
    requested.push(target);
    const port = routes[target.replace(/:\d+$/, "")];
    if (port === undefined) {
      client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    const upstream = connect(port, "127.0.0.1", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requested,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

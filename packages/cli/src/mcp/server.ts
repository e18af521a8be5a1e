/** The MCP server over standard input and output (JSON-RPC lines; nothing else may be written to stdout). */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CliError } from "../errors.js";
import type { Tool } from "./tools.js";

/** Serves `tools` until standard input ends (the client went away). */
export async function serveStdio(tools: readonly Tool[], version: string): Promise<void> {
  const server = new McpServer({ name: "shardvault", version });
  for (const tool of tools) {
    server.registerTool(tool.name, { description: tool.description, inputSchema: tool.input }, async (args: Record<string, unknown>) => {
      try {
        return { content: [{ type: "text" as const, text: await tool.run(args) }] };
      } catch (error) {
        // A refusal the model can act on; anything else is a bug and goes to the SDK's own error answer.
        if (error instanceof CliError) return { content: [{ type: "text" as const, text: error.message }], isError: true };
        throw error;
      }
    });
  }
  const ended = new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await server.connect(new StdioServerTransport());
  await ended;
  await server.close();
}

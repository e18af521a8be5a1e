import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build must satisfy the server's Content-Security-Policy (script-src 'self'; style-src 'self'):
// no inline scripts or styles, no data: fonts, and nothing fetched from another origin.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Every asset as its own file (no data: URLs); the module preload polyfill would be inline-free anyway,
    // but modern browsers do not need it.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
  // `npm run dev -w @shardvault/dashboard` against a server on the default port.
  server: { proxy: { "/v1": "http://127.0.0.1:8787", "/.well-known": "http://127.0.0.1:8787" } },
});

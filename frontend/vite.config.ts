/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { compression } from "vite-plugin-compression2";

// The gateway serves the built app at "/" and the API at /v1 and /auth on the same origin.
// During `npm run dev` these paths are proxied to a locally running gateway.
const backend = process.env.BLOOMWELL_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [
    react(),
    // .gz and .br next to every text asset over 1 KB; the gateway serves them to clients that accept them.
    compression({
      algorithms: ["gzip", "brotliCompress"],
      include: /\.(js|mjs|css|html|svg|json|txt|webmanifest)$/,
      threshold: 1024,
      skipIfLargerOrEqual: true,
      logLevel: "silent",
    }),
  ],
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/v1": { target: backend, changeOrigin: true, ws: true },
      "/auth": { target: backend, changeOrigin: true },
      "/healthz": { target: backend, changeOrigin: true },
      "/readyz": { target: backend, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
    pool: "threads",
    maxWorkers: 2,
    // CI machines are shared and loaded: generous limits, never a timing assertion
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

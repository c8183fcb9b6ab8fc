/// <reference types="vitest/config" />
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import react from "@vitejs/plugin-react";
import { compression } from "vite-plugin-compression2";

// The face check runs the worker's own YuNet file (imported by src/facecheck/detector.ts); its licence ships beside it.
const faceDetectorDir = fileURLToPath(new URL("../models/face_detector/", import.meta.url));

function faceDetectorLicence(): Plugin {
  return {
    name: "bloomwell-face-detector-licence",
    apply: "build",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "licenses/face_detection_yunet-LICENSE.txt", source: readFileSync(`${faceDetectorDir}LICENSE`) });
    },
  };
}

// The gateway serves the built app at "/" and the API at /v1 and /auth on the same origin.
// During `npm run dev` these paths are proxied to a locally running gateway.
const backend = process.env.BLOOMWELL_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [
    react(),
    faceDetectorLicence(),
    // .gz and .br next to every text asset over 1 KB (and the face check's WebAssembly and model); the gateway serves
    // them to clients that accept them.
    compression({
      algorithms: ["gzip", "brotliCompress"],
      include: /\.(js|mjs|css|html|svg|json|txt|webmanifest|wasm|onnx)$/,
      threshold: 1024,
      skipIfLargerOrEqual: true,
      logLevel: "silent",
    }),
  ],
  server: {
    host: "127.0.0.1",
    port: 5173,
    fs: { allow: [".", faceDetectorDir] },
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

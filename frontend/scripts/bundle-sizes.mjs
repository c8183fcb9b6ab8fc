// Prints the size of every built asset in dist/assets: raw, gzip and brotli (best levels, as precompressed at build),
// and the totals a report page downloads (every .js/.css file: the entry and all lazily loaded chunks).
// Usage: node scripts/bundle-sizes.mjs [distDir]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const dist = process.argv[2] ?? "dist";
const dir = join(dist, "assets");
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const rows = readdirSync(dir)
  .filter((f) => /\.(js|css)$/.test(f))
  .map((f) => {
    const data = readFileSync(join(dir, f));
    const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    return { file: f, raw: statSync(join(dir, f)).size, gzip: gzipSync(data, { level: 9 }).length, br };
  })
  .sort((a, b) => b.raw - a.raw);
console.log(`${"asset".padEnd(44)} ${"raw".padStart(10)} ${"gzip".padStart(10)} ${"brotli".padStart(10)}`);
for (const r of rows) console.log(`${r.file.padEnd(44)} ${kb(r.raw).padStart(10)} ${kb(r.gzip).padStart(10)} ${kb(r.br).padStart(10)}`);
for (const ext of ["js", "css"]) {
  const sel = rows.filter((r) => r.file.endsWith(`.${ext}`));
  const sum = (k) => sel.reduce((s, r) => s + r[k], 0);
  console.log(`${`total .${ext} (${sel.length} files)`.padEnd(44)} ${kb(sum("raw")).padStart(10)} ${kb(sum("gzip")).padStart(10)} ${kb(sum("br")).padStart(10)}`);
}

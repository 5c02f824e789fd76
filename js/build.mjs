// Bundles each widget entry in js/ into one self-contained ESM file in src/nblabel/static/.
// anywidget loads `_esm` from a Blob URL, so a bundle may not import anything at run time:
// no code splitting, no CDN imports; shared code under js/lib/ is inlined into every bundle.
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";

const entries = readdirSync("js")
  .filter((f) => f.endsWith(".js") || f.endsWith(".css"))
  .map((f) => `js/${f}`);

const options = {
  entryPoints: entries,
  bundle: true,
  format: "esm",
  target: "es2020",
  outdir: "src/nblabel/static",
  minify: !process.argv.includes("--watch"),
  sourcemap: false,
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
}

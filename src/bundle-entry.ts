// The process entry of the bundle (dist/bundle/relay.js, what `npm start` and the container run).
// It runs the relay's bundled code (relay-main.cjs beside it) from V8's code cache when one is
// there: compiling the bundle's functions was the largest part of a replica's wake-up left after
// bundling, and a cache written by a warm-up run at build time (scripts/bundle-relay.ts) holds
// them already compiled. Node 22 can do this itself (module.enableCompileCache); Node 20, which
// the relay also supports, cannot for a bundle loaded as a module, hence vm.Script here.
//
// The cache is only ever an optimisation: V8 rejects one written for other source, another V8 or
// other flags, and the code is then compiled as usual. Started with --write-code-cache (the
// build's warm-up does), the entry writes the cache when the process exits, holding every
// function compiled by then.
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { LENT_IMPORT } from './external-import.js';

const here = dirname(fileURLToPath(import.meta.url));
const file = join(here, 'relay-main.cjs');
const cacheFile = join(here, 'relay-main.cjs.code-cache');

function readCache(): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

// The bundle's import() of what it leaves outside itself comes here (src/external-import.ts says why).
(globalThis as Record<symbol, unknown>)[LENT_IMPORT] = (specifier: string) => import(specifier);

const writing = process.argv.includes('--write-code-cache');
const cachedData = writing ? undefined : readCache();
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
  // The bundle loads the packages left outside it with import(), as a module of its own would.
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (cachedData && script.cachedDataRejected) {
  // Said once at start, so a slow wake-up has a visible cause (an image whose Node differs from
  // the one that built it, say).
  process.emitWarning(
    `${cacheFile} was not used: it was written for other code, another Node version or other V8 flags. The relay starts without it, more slowly; \`npm run build\` writes a new one.`,
    'CodeCacheWarning',
  );
}
if (writing) {
  process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
}

// What Node's CommonJS loader hands a module: its own require (resolving from beside the
// bundle), module and exports objects, and its file and folder names.
const mainModule = new Module(file);
mainModule.filename = file;
const run = script.runInThisContext() as (
  exports: unknown,
  require: NodeJS.Require,
  module: Module,
  filename: string,
  dirname: string,
) => void;
run.call(mainModule.exports, mainModule.exports, createRequire(file), mainModule, file, here);

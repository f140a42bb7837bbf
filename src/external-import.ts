// import() of what the bundle leaves outside itself: packages (Swagger UI, the migration runner)
// and the migration files. Inside the bundle the relay's code runs through vm.Script from V8's
// code cache (src/bundle-entry.ts), and on Node 20 an import() in code compiled from that cache
// has lost its link to the module loader (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). The bundle's
// entry is a real module, so it lends its own import() under this key; run from the sources
// (tsx, tests) nothing is lent and the ordinary import() is used.
export const LENT_IMPORT = Symbol.for('admin-relay.import');

type Import = (specifier: string) => Promise<unknown>;

export function importExternal<T>(specifier: string): Promise<T> {
  const lent = (globalThis as { [LENT_IMPORT]?: Import })[LENT_IMPORT];
  return (lent ? lent(specifier) : import(specifier)) as Promise<T>;
}

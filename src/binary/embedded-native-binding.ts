/**
 * The better-sqlite3 native binding carried inside the single executable.
 *
 * The binary's entry ({@link ./sea-main.ts}) registers a loader here before the CLI runs;
 * {@link createApp} asks for the binding and hands it to the catalog as better-sqlite3's
 * `nativeBinding`. The loader runs at most once, and only when a catalog is opened, so client
 * commands (`cairn push`, `cairn version`, …) never extract or load the native code.
 * Outside the binary nothing is registered and better-sqlite3 finds its own build.
 */

let loader: (() => unknown) | undefined;
let loaded: { binding: unknown } | undefined;

/** Registers how to load the embedded binding. Called once, by the binary's entry. */
export function registerEmbeddedNativeBinding(load: () => unknown): void {
  loader = load;
  loaded = undefined;
}

/**
 * The embedded binding's module object (loading it on first call), or `undefined` when not
 * running as the single executable. Throws what the loader throws (e.g. a `noexec` cache dir).
 */
export function embeddedNativeBinding(): unknown {
  if (!loader) return undefined;
  loaded ??= { binding: loader() };
  return loaded.binding;
}

/**
 * Sizes of the multi-node tests: short in CI, long with CAIRN_NODES_LONG=1 (`npm run
 * nodes:long`).
 */
export const LONG = process.env.CAIRN_NODES_LONG === '1';

/** Pushes of one name raced by two nodes. */
export const RACE_PUSHES = LONG ? 1000 : 200;
/** Rounds of the kill -9 storm, and operations in flight during each. */
export const STORM_ROUNDS = LONG ? 20 : 3;
export const STORM_WORKERS = LONG ? 8 : 6;
/** The storm's whole time allowed (a busy shared machine takes minutes over the CI sizes). */
export const STORM_TIMEOUT_MS = LONG ? 1_800_000 : 240_000;

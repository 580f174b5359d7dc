import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/lib/glob.js';

const db = new Database(':memory:');
const sqliteGlob = (pattern: string, text: string): boolean =>
  (db.prepare('SELECT ? GLOB ? AS m').get(text, pattern) as { m: number }).m === 1;

describe('compileGlob', () => {
  const patterns = [
    'run_*',
    '*',
    '',
    'a?c',
    '*-*-prod',
    '[a-c]*',
    '[^x]?',
    '[]]x',
    'a*b*c',
    'é*',
    '[z-a]',
    '[]-a]',
    '[^]-a]',
    '[-a]',
    '[a-]',
    '[a-c-e]',
    '[^]]',
    'run_[]-a]',
    '[',
    '[a',
    '[]',
    '[^]',
    'x[!-/]y',
  ];
  const texts = [
    'run_7',
    'run_',
    'abc',
    'a-b-prod',
    'prod',
    '',
    'bx',
    ']x',
    'aXbYc',
    'éclair',
    'x',
    'z',
    'a',
    '_',
    ']',
    '-',
    'c',
    'e',
    'd',
    'b',
    'run__',
    'run_a',
    'x!y',
    'x/y',
    'x0y',
    '[',
  ];
  it.each(patterns)('%j matches exactly what SQLite GLOB matches', (pattern) => {
    const m = compileGlob(pattern);
    for (const text of texts)
      expect(m(text), `${pattern} ~ ${text}`).toBe(sqliteGlob(pattern, text));
  });

  it('answers a pattern of many stars against a long near-miss without backtracking blow-up', () => {
    // A RegExp with one [\s\S]* per star took ~56 s here (the test would time out).
    const text = `a${'-'.repeat(127)}`;
    expect(compileGlob('*-*-*-*-*-*-*-*-*-*-prod')(text)).toBe(false);
    expect(compileGlob('*-*-*-*-*-*-*-*-*-*-prod')(`${text}prod`)).toBe(true);
  });
});

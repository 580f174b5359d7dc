import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/core/metrics.js';

describe('Metrics text exposition', () => {
  it('escapes label values (backslash, quote, newline) and leaves plain ones as they are', () => {
    const m = new Metrics();
    m.inc('x_total', 'help', { route: 'GET /v1/a', odd: 'a"b\\c\nd' });
    m.inc('x_total', 'help', { route: 'GET /v1/a', odd: 'a"b\\c\nd' }, 2);
    m.inc('y_total', 'plain');
    const text = m.render();
    expect(text).toContain('x_total{odd="a\\"b\\\\c\\nd",route="GET /v1/a"} 3');
    expect(text).toContain('y_total 1');
    expect(m.value('x_total', { odd: 'a"b\\c\nd', route: 'GET /v1/a' })).toBe(3);
  });
});

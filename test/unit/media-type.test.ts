import { describe, expect, it } from 'vitest';
import {
  checkContentType,
  mediaTypeProblem,
  validateContentType,
} from '../../src/core/media-type.js';
import { code, makeClockedApp } from '../helpers/clocked-app.js';

describe('mediaTypeProblem (RFC 9110 media-type)', () => {
  it.each([
    'text/plain',
    'application/json; charset=utf-8',
    'text/csv;charset=UTF-8;header=present',
    'image/svg+xml',
    'application/vnd.ms-excel',
    'text/plain; charset="utf-8"',
    'text/plain; name="a \\"quoted\\" b"',
    'text/plain;',
    'text/plain ; a=b',
    "application/x-my_type.v1+json; q=1; x-a!#$%&'*=~",
  ])('takes %s', (t) => expect(mediaTypeProblem(t)).toBeNull());

  it.each([
    ['text/html"><script>alert(1)</script>', "'\"' after"],
    ['*/*', 'wildcard'],
    ['text/*', 'wildcard'],
    ['texthtml', "no '/'"],
    ['/html', 'type is empty'],
    ['text/', 'subtype is empty'],
    ['te xt/plain', 'contains " "'],
    ['text/plain; charset', "'charset' is not name=value"],
    ['text/plain; charset=', 'has no value'],
    ['text/plain; =x', "'' is not name=value"],
    ['text/plain; a="unterminated', 'unterminated'],
    ['text/plain a=b', "'a' after"],
    ['text/plain; a=b c', "'c' after"],
    ['text/plain; a=<b>', "'a' has no value"],
    ['text/plain/extra', "'/' after"],
  ])('refuses %s (%s)', (t, why) => {
    expect(mediaTypeProblem(t)).toContain(why);
    expect(() => validateContentType(t)).toThrow(/is not a media type/);
  });
});

describe('every push holds its content type to the rules (ArtifactService.push)', () => {
  it.each([
    ['a CRLF', 'text/html\r\nX-Evil: 1'],
    ['not a media type', 'nonsense'],
    ['over 255 characters', `text/${'a'.repeat(300)}`],
  ])('refuses %s with invalid_content_type, storing nothing', async (_what, contentType) => {
    const { app, push } = await makeClockedApp();
    expect(await code(push({ session: 's', name: 'a.txt', contentType }, 'x'))).toBe(
      'invalid_content_type',
    );
    expect(checkContentType('text/plain; charset=utf-8')).toBe('text/plain; charset=utf-8');
    expect((await app.artifacts.query({ session: 's', limit: 10 })).items).toEqual([]);
  });
});

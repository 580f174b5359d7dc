import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/engines/s3-engine.js';
import { s3Url, testS3 } from '../helpers/engines/s3.js';
import { tempDir } from '../helpers/server.js';

/** `cairn serve --blobs URL` with `env`; it must refuse to start. */
async function serve(url: string, env: NodeJS.ProcessEnv) {
  const r = await runCli(['serve', '--port', '0', '--data', tempDir(), '--blobs', url], { env });
  expect(r.stdout).not.toMatch(/listening/);
  expect(r.code).not.toBe(0);
  // One line (a mistake in the command line itself adds the usual pointer to --help).
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l !== '(see cairn --help)');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0];
}

describe('cairn serve --blobs s3://… says in one line why it cannot start', () => {
  it('credentials refused, no credentials, missing bucket, unreachable endpoint, bad URL', async () => {
    const s3 = testS3();
    const noAws = {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: '',
      HOME: tempDir(),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    expect(await serve(s3.url, { ...s3.env, AWS_SECRET_ACCESS_KEY: 'wrong' })).toMatch(
      /^cairn: S3 refused the credentials for s3:\/\/cairn-tests\/t-\w+ at http:\/\/127\.0\.0\.1:\d+ \(HTTP 403\): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    expect(await serve(s3.url, noAws)).toMatch(
      /^cairn: no S3 credentials for .*: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    expect(await serve(s3Url(s3.endpoint, 'no-such-bucket', 'x'), s3.env)).toMatch(
      /^cairn: bucket no-such-bucket does not exist at http:\/\/127\.0\.0\.1:\d+: create it first/,
    );
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect(await serve(s3Url(closed, s3.bucket, 'x'), s3.env)).toBe(
      `cairn: cannot reach S3 at ${closed} (ECONNREFUSED): check endpoint= in --blobs and that the server is up`,
    );
    expect(await serve('s3://bucket/x?colour=red', s3.env)).toMatch(
      /^cairn: --blobs 's3:\/\/bucket\/x\?colour=red': unknown parameter 'colour'/,
    );
  });
});

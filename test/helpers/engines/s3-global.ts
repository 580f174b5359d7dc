import { createBucket, startRadosGw, S3_ACCESS_KEY, S3_SECRET_KEY } from './s3-engine.js';

/** The bucket every test of the run shares (each test under its own prefix, see s3.ts). */
export const TEST_BUCKET = 'cairn-tests';

/**
 * vitest global setup: one radosgw (memstore) for the whole run, with bucket
 * {@link TEST_BUCKET}; tests find it through CAIRN_TEST_S3_* (see s3.ts). Stopped when the run
 * ends. Fails the run, naming the apt command, if Ceph is not installed.
 */
export default async function setup(): Promise<() => void> {
  const rgw = await startRadosGw('memstore');
  try {
    await createBucket(rgw.endpoint, TEST_BUCKET);
  } catch (err) {
    rgw.stop();
    throw err;
  }
  process.env.CAIRN_TEST_S3_ENDPOINT = rgw.endpoint;
  process.env.CAIRN_TEST_S3_BUCKET = TEST_BUCKET;
  process.env.CAIRN_TEST_S3_ACCESS_KEY = S3_ACCESS_KEY;
  process.env.CAIRN_TEST_S3_SECRET_KEY = S3_SECRET_KEY;
  process.on('exit', () => rgw.stop());
  return () => rgw.stop();
}

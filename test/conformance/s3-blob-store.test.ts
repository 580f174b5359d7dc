import { afterEach, describe } from 'vitest';
import { S3BlobStore } from '../../src/blobs/s3/s3-blob-store.js';
import { parseS3Url } from '../../src/blobs/s3/s3-url.js';
import { testS3 } from '../helpers/engines/s3.js';
import { runBlobStoreSuite } from './blob-store-suite.js';

const stores: S3BlobStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

/** A store on the run's radosgw under a fresh prefix, with S3's least part size (5 MiB). */
async function makeStore() {
  const s3 = testS3();
  Object.assign(process.env, s3.env);
  const store = await S3BlobStore.open({
    location: parseS3Url(s3.url),
    partSize: 5 * 1024 * 1024,
    lanes: 2,
  });
  stores.push(store);
  return { s3, store };
}

describe('S3BlobStore (radosgw)', () => {
  runBlobStoreSuite(async () => {
    const { s3, store } = await makeStore();
    // Staging leftovers: multipart uploads in progress and temporary keys.
    const stagingFiles = async () =>
      (await s3.multipartUploads()).length +
      (await s3.keys()).filter((k) => k.includes('/v1/tmp/')).length;
    return { store, stagingFiles };
  });
});

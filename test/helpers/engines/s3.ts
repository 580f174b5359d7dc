import { randomBytes } from 'node:crypto';
import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { testS3Client } from './s3-engine.js';

/** The run's radosgw (started by s3-global.ts) and a key prefix of this test's own. */
export interface TestS3 {
  endpoint: string;
  bucket: string;
  prefix: string;
  /** `s3://bucket/prefix?endpoint=…&region=us-east-1&force_path_style=true` */
  url: string;
  /** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the test user. */
  env: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string };
  /** A client for looking at the bucket directly. */
  client: S3Client;
  /** Every key under the prefix. */
  keys(): Promise<string[]>;
  /** Keys of multipart uploads in progress under the prefix. */
  multipartUploads(): Promise<string[]>;
}

/** The run's S3 engine with a fresh prefix; throws if the global setup did not start it. */
export function testS3(endpointOverride?: string): TestS3 {
  const endpoint = endpointOverride ?? process.env.CAIRN_TEST_S3_ENDPOINT;
  const bucket = process.env.CAIRN_TEST_S3_BUCKET;
  if (!endpoint || !bucket)
    throw new Error('no S3 engine: test/helpers/engines/s3-global.ts must be a globalSetup');
  const prefix = `t-${randomBytes(6).toString('hex')}`;
  const client = testS3Client(endpoint);
  return {
    endpoint,
    bucket,
    prefix,
    url: s3Url(endpoint, bucket, prefix),
    env: {
      AWS_ACCESS_KEY_ID: process.env.CAIRN_TEST_S3_ACCESS_KEY ?? '',
      AWS_SECRET_ACCESS_KEY: process.env.CAIRN_TEST_S3_SECRET_KEY ?? '',
    },
    client,
    keys: async () => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${prefix}/`,
            ContinuationToken: token,
          }),
        );
        for (const o of page.Contents ?? []) keys.push(o.Key ?? '');
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
    multipartUploads: async () => {
      const page = await client.send(
        new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${prefix}/` }),
      );
      return (page.Uploads ?? []).map((u) => u.Key ?? '');
    },
  };
}

/** The `--blobs` URL of a bucket and prefix on `endpoint`. */
export function s3Url(endpoint: string, bucket: string, prefix: string): string {
  const q = new URLSearchParams({ endpoint, region: 'us-east-1', force_path_style: 'true' });
  return `s3://${bucket}/${prefix}?${q.toString()}`;
}

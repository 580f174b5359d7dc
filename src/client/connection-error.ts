/**
 * One line for a failed connection to `url`: what went wrong in words, and what to do, instead of
 * Node's or OpenSSL's raw text (`connect ECONNREFUSED`, `getaddrinfo ENOTFOUND`, `ssl3_get_record:
 * wrong version number`). Always starts with `cannot reach Cairn at <url>: `.
 */
export function connectionErrorMessage(url: string, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = hostOf(url);
  return `cannot reach Cairn at ${url}: ${reason(code, err.message, host, url)}`;
}

function reason(code: string, message: string, host: string, url: string): string {
  const where = 'set CAIRN_URL or --url to where it runs';
  if (code === 'ECONNREFUSED')
    return `nothing is listening there; start the server (cairn serve) or ${where}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NODATA')
    return `no such host '${host}'; check the host name in CAIRN_URL or --url`;
  if (/wrong version number|packet length too long|WRONG_VERSION_NUMBER/i.test(message))
    return `the server there does not speak https; use ${url.replace(/^https:/, 'http:')}`;
  if (
    /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|CERT_|ERR_TLS_CERT)/.test(
      code,
    )
  )
    return `its TLS certificate is not trusted (${code}); give Node the CA with NODE_EXTRA_CA_CERTS=FILE.pem`;
  if (code === 'ECONNRESET' || code === 'EPIPE')
    return 'the connection was closed before an answer came; is it a Cairn server (an http:// URL for plain HTTP)?';
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return `the network cannot get there (${code}); check the address and the network`;
  // Anything else: Node's message, first line only (OpenSSL's texts run over several).
  return message.split('\n')[0];
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

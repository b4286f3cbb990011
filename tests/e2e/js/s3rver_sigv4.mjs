// s3rver behind a SigV4 check. s3rver (npm) accepts any Signature Version 4 (it verifies
// only the old V2 signatures), so a request signed wrong would pass against it and fail
// on S3. This front recomputes the signature of every request with the AWS SDK's own
// signer (@smithy/signature-v4), answers 403 as S3 does when it differs, and hands the
// requests that pass to s3rver. Both kinds are checked: the Authorization header (with
// the payload's SHA-256) and presigned URLs (query parameters, expiry included). Unsigned
// requests are refused, as on a private bucket.
//
// usage: node s3rver_sigv4.mjs --port N --directory DIR [--bucket NAME]... [--log FILE]
//   Listens on 127.0.0.1:N; the account is s3rver's default (S3RVER / S3RVER), region
//   us-east-1. s3rver's service endpoint is "localhost": a request for BUCKET.s3.localhost
//   is virtual-host style, one for any other host name path style. The front also takes
//   absolute-form targets (it can be a client's HTTP proxy), for clients that do not
//   resolve *.localhost to loopback as libcurl does.
//   --log gets one JSON line per request: {method, host, path, auth, ok, reason}.
// At start-up the check is run on AWS's published S3 examples; it exits 1 if one fails.
import { createHash, createHmac } from "node:crypto";
import { appendFileSync } from "node:fs";
import http from "node:http";
import S3rver from "s3rver";
import { SignatureV4 } from "@smithy/signature-v4";

const REGION = "us-east-1";
const ACCOUNTS = new Map([["S3RVER", "S3RVER"]]);
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const QUERY_AUTH = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
  "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"];

// The Checksum the signer wants, on node:crypto.
class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", secret) : createHash("sha256");
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

class Refusal extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    Object.assign(this, { status, code, reason: message });
  }
}

// "20130524T000000Z" -> Date
function parseAmzDate(text) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? "");
  if (!m) throw new Refusal(403, "AccessDenied", `bad X-Amz-Date ${JSON.stringify(text)}`);
  return new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

// The query as sent ("a=1&b&c=%2F") -> {name: value} decoded, without treating "+" as a
// space (S3 does not); repeated names become arrays.
function parseQuery(raw) {
  const query = {};
  for (const part of raw ? raw.split("&") : []) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const name = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : decodeURIComponent(part.slice(eq + 1));
    if (name in query) query[name] = [].concat(query[name], value);
    else query[name] = value;
  }
  return query;
}

function scopeOf(credential, date) {
  const [key, day, region, service, terminal, ...rest] = (credential ?? "").split("/");
  if (rest.length || terminal !== "aws4_request") {
    throw new Refusal(400, "AuthorizationHeaderMalformed", `bad credential ${JSON.stringify(credential)}`);
  }
  const secret = ACCOUNTS.get(key);
  if (secret === undefined) {
    throw new Refusal(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  }
  if (region !== REGION || service !== "s3") {
    throw new Refusal(400, "AuthorizationHeaderMalformed", `the scope names ${region}/${service}, expected ${REGION}/s3`);
  }
  const longDate = parseAmzDate(date);
  if (day !== date.slice(0, 8)) {
    throw new Refusal(400, "AuthorizationHeaderMalformed", `scope date ${day} is not the request's ${date}`);
  }
  return { signer: new SignatureV4({ credentials: { accessKeyId: key, secretAccessKey: secret }, region: REGION,
    service: "s3", sha256: Sha256, uriEscapePath: false, applyChecksum: false }), longDate };
}

function signedHeaderValues(names, headers) {
  const out = {};
  for (const name of names) {
    if (headers[name] === undefined) throw new Refusal(403, "AccessDenied", `signed header ${name} is missing`);
    out[name] = headers[name];
  }
  if (!("host" in out)) throw new Refusal(403, "AccessDenied", "the host header is not signed");
  return out;
}

function mismatch(what) {
  return new Refusal(403, "SignatureDoesNotMatch",
    `The request signature we calculated does not match the signature you provided (${what}).`);
}

// request: {method, host, path (as sent, percent-encoded), rawQuery, headers (lower-case
// names), bodySha256 (hex), now (Date)}. Returns "header" or "query"; throws a Refusal.
async function check(request) {
  const { method, path, rawQuery, headers } = request;
  const query = parseQuery(rawQuery);
  const hostname = request.host.replace(/:\d+$/, "");
  const auth = headers.authorization;
  if (auth !== undefined && "X-Amz-Algorithm" in query) {
    throw new Refusal(400, "InvalidArgument", "Only one auth mechanism allowed");
  }
  if (auth !== undefined) {
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new Refusal(400, "AuthorizationHeaderMalformed", "not a SigV4 Authorization header");
    const [, credential, signedList, signature] = m;
    const { signer, longDate } = scopeOf(credential, headers["x-amz-date"]);
    const payload = headers["x-amz-content-sha256"];
    if (payload === undefined) throw new Refusal(400, "InvalidRequest", "x-amz-content-sha256 is missing");
    if (payload !== "UNSIGNED-PAYLOAD" && payload !== request.bodySha256) {
      throw new Refusal(400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    const names = signedList.split(";");
    const signed = await signer.sign(
      { method, protocol: "http:", hostname, path, query, headers: signedHeaderValues(names, headers) },
      { signingDate: longDate, signableHeaders: new Set(names) });
    const expected = /SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization);
    if (expected[1] !== signedList) throw mismatch(`signed headers ${signedList}, expected ${expected[1]}`);
    if (expected[2] !== signature) throw mismatch("header");
    return "header";
  }
  if ("X-Amz-Algorithm" in query) {
    if (query["X-Amz-Algorithm"] !== "AWS4-HMAC-SHA256") throw new Refusal(400, "InvalidArgument", "unknown X-Amz-Algorithm");
    const { signer, longDate } = scopeOf(query["X-Amz-Credential"], query["X-Amz-Date"]);
    const expires = Number(query["X-Amz-Expires"]);
    if (!Number.isInteger(expires) || expires < 1 || expires > 7 * 24 * 3600) {
      throw new Refusal(400, "AuthorizationQueryParametersError", "X-Amz-Expires must be 1 to 604800 seconds");
    }
    if (request.now.getTime() > longDate.getTime() + expires * 1000) {
      throw new Refusal(403, "AccessDenied", "Request has expired");
    }
    const names = (query["X-Amz-SignedHeaders"] ?? "").split(";");
    const rest = Object.fromEntries(Object.entries(query).filter(([k]) => !QUERY_AUTH.includes(k)));
    // As @aws-sdk/s3-request-presigner does: the payload is UNSIGNED-PAYLOAD, not a header.
    const toSign = { method, protocol: "http:", hostname, path, query: rest,
      headers: { ...signedHeaderValues(names, headers), "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } };
    const presigned = await signer.presign(toSign, {
      signingDate: longDate, expiresIn: expires,
      unsignableHeaders: new Set(["x-amz-content-sha256"]), unhoistableHeaders: new Set([...names, "x-amz-content-sha256"]) });
    if (presigned.query["X-Amz-SignedHeaders"] !== query["X-Amz-SignedHeaders"]) {
      throw mismatch(`signed headers ${query["X-Amz-SignedHeaders"]}, expected ${presigned.query["X-Amz-SignedHeaders"]}`);
    }
    if (presigned.query["X-Amz-Signature"] !== query["X-Amz-Signature"]) throw mismatch("query");
    return "query";
  }
  throw new Refusal(403, "AccessDenied", "Access Denied (an unsigned request)");
}

// AWS's S3 examples ("Signature Calculations for the Authorization Header" and "Query
// Parameters"): the check accepts them, and refuses them with one byte changed.
async function selfTest() {
  ACCOUNTS.set("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  const cred = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";
  const now = new Date(Date.UTC(2013, 4, 24, 0, 1));
  const base = { method: "GET", host: "examplebucket.s3.amazonaws.com", bodySha256: EMPTY_SHA256, now };
  const headerAuth = (signedHeaders, signature) =>
    `AWS4-HMAC-SHA256 Credential=${cred},SignedHeaders=${signedHeaders},Signature=${signature}`;
  const common = { host: base.host, "x-amz-date": "20130524T000000Z", "x-amz-content-sha256": EMPTY_SHA256 };
  const examples = [
    { ...base, path: "/test.txt", rawQuery: "", headers: { ...common, range: "bytes=0-9",
      authorization: headerAuth("host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") } },
    { ...base, path: "/", rawQuery: "max-keys=2&prefix=J", headers: { ...common,
      authorization: headerAuth("host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") } },
    { ...base, path: "/test.txt", headers: { host: base.host }, rawQuery:
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + encodeURIComponent(cred) +
      "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
      "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404" },
  ];
  try {
    for (const example of examples) {
      await check(example);
      const tampered = { ...example, path: example.path + "x" };
      const refused = await check(tampered).then(() => null, (e) => e);
      if (!(refused instanceof Refusal) || refused.code !== "SignatureDoesNotMatch") {
        throw new Error(`a tampered example passed: ${JSON.stringify(tampered)}`);
      }
    }
  } finally {
    ACCOUNTS.delete("AKIAIOSFODNN7EXAMPLE");
  }
}

function options(argv) {
  const out = { buckets: [] };
  for (let i = 2; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${name} needs a value`);
    if (name === "--port") out.port = Number(value);
    else if (name === "--directory") out.directory = value;
    else if (name === "--bucket") out.buckets.push({ name: value });
    else if (name === "--log") out.log = value;
    else throw new Error(`unknown option ${name}`);
  }
  if (!out.port || !out.directory) throw new Error("usage: s3rver_sigv4.mjs --port N --directory DIR [--bucket NAME]... [--log FILE]");
  return out;
}

function xmlEscape(text) {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function main() {
  const opts = options(process.argv);
  await selfTest();
  const s3 = new S3rver({ address: "127.0.0.1", port: 0, directory: opts.directory, silent: true,
    serviceEndpoint: "localhost", configureBuckets: opts.buckets });
  const inner = await s3.run();
  const front = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      // origin-form "/p?q", or absolute-form "http://host/p?q" when used as a proxy
      const target = req.url.replace(/^http:\/\/[^/]*/, "") || "/";
      const q = target.indexOf("?");
      const request = { method: req.method, host: req.headers.host ?? "", path: q < 0 ? target : target.slice(0, q),
        rawQuery: q < 0 ? "" : target.slice(q + 1), headers: req.headers,
        bodySha256: createHash("sha256").update(body).digest("hex"), now: new Date() };
      let entry;
      try {
        entry = { auth: await check(request), ok: true };
      } catch (err) {
        // A fault of the check itself is a 500 (logged), not a crash of the server.
        const e = err instanceof Refusal ? err : new Refusal(500, "InternalError", String(err?.stack ?? err));
        entry = { auth: e.code, ok: false, reason: e.reason };
        const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code>` +
          `<Message>${xmlEscape(e.reason)}</Message></Error>`;
        res.writeHead(e.status, { "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(xml) });
        res.end(req.method === "HEAD" ? undefined : xml);
      }
      if (opts.log) {
        appendFileSync(opts.log, JSON.stringify({ method: req.method, host: request.host, path: request.path,
          ...entry }) + "\n");
      }
      if (!entry.ok) return;
      const headers = { ...req.headers, "content-length": String(body.length) };
      for (const h of ["expect", "transfer-encoding", "proxy-connection", "proxy-authorization"]) delete headers[h];
      const up = http.request({ host: inner.address, port: inner.port, method: req.method, path: target, headers },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        });
      up.on("error", (err) => res.destroy(err));
      up.end(body);
    });
  });
  front.listen(opts.port, "127.0.0.1");
}

main().catch((err) => {
  process.stderr.write(`s3rver_sigv4: ${err?.stack ?? err}\n`);
  process.exit(1);
});

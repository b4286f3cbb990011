// Reads one image through the Azure SDK for JavaScript, authenticating the way Azure
// workloads do: an OIDC ID token, exchanged at /oauth2/exchange for a registry refresh
// token, then /oauth2/token for an access token.
//
// Environment (all required):
//   REGISTRY_ENDPOINT  https://host:port (Node trusts the test CA via NODE_EXTRA_CA_CERTS)
//   REPOSITORY, TAG    what to read
//   ID_TOKEN           an OIDC ID token the test minted for a federated identity
//   AUDIENCE           passed as the client's audience; the SDK asks the credential for
//                      "<AUDIENCE>/.default"
// Optional:
//   BLOB               a blob digest to download too (a layer, say)
//   STORAGE_OVER_HTTP  "1": the registry redirects blob GETs to a storage server that the
//                      test runs on plain http://, which the SDK follows only with
//                      allowInsecureConnection (real S3 and Azure Blob URLs are https)
//
// Prints one JSON line: {manifestDigest, mediaType, configDigest, configBytes (base64),
// configSha256 (hex)}, with BLOB also {blobSize, blobSha256 (hex)}; on failure prints the
// error to stderr and exits 1.
import { createHash } from "node:crypto";
import { ContainerRegistryContentClient } from "@azure/container-registry";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

// A TokenCredential (@azure/core-auth) that hands out the ID token the test minted.
class StaticIdTokenCredential {
  constructor(token) {
    this.token = token;
  }
  async getToken(_scopes, _options) {
    return { token: this.token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 };
  }
}

async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function main() {
  const endpoint = required("REGISTRY_ENDPOINT");
  const repository = required("REPOSITORY");
  const tag = required("TAG");
  const credential = new StaticIdTokenCredential(required("ID_TOKEN"));
  const client = new ContainerRegistryContentClient(endpoint, repository, credential, {
    audience: required("AUDIENCE"),
    allowInsecureConnection: process.env.STORAGE_OVER_HTTP === "1",
  });

  const manifest = await client.getManifest(tag);
  const configDigest = manifest.manifest?.config?.digest;
  if (!configDigest) throw new Error(`manifest ${manifest.digest} has no config digest`);
  // downloadBlob checks the digest itself when the stream ends.
  const blob = await client.downloadBlob(configDigest);
  const config = await readAll(blob.content);
  const out = {
    manifestDigest: manifest.digest,
    mediaType: manifest.mediaType,
    configDigest,
    configBytes: config.toString("base64"),
    configSha256: createHash("sha256").update(config).digest("hex"),
  };
  if (process.env.BLOB) {
    const bytes = await readAll((await client.downloadBlob(process.env.BLOB)).content);
    out.blobSize = bytes.length;
    out.blobSha256 = createHash("sha256").update(bytes).digest("hex");
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  const status = err?.statusCode ? ` (HTTP ${err.statusCode})` : "";
  process.stderr.write(`acr_read: ${err?.message ?? err}${status}\n`);
  process.exit(1);
});

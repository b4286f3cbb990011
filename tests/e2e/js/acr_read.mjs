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
//
// Prints one JSON line: {manifestDigest, mediaType, configDigest, configBytes (base64),
// configSha256 (hex)}; on failure prints the error to stderr and exits 1.
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
  });

  const manifest = await client.getManifest(tag);
  const configDigest = manifest.manifest?.config?.digest;
  if (!configDigest) throw new Error(`manifest ${manifest.digest} has no config digest`);
  // downloadBlob checks the digest itself when the stream ends.
  const blob = await client.downloadBlob(configDigest);
  const config = await readAll(blob.content);
  process.stdout.write(
    JSON.stringify({
      manifestDigest: manifest.digest,
      mediaType: manifest.mediaType,
      configDigest,
      configBytes: config.toString("base64"),
      configSha256: createHash("sha256").update(config).digest("hex"),
    }) + "\n",
  );
}

main().catch((err) => {
  const status = err?.statusCode ? ` (HTTP ${err.statusCode})` : "";
  process.stderr.write(`acr_read: ${err?.message ?? err}${status}\n`);
  process.exit(1);
});

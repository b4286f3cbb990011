// Drives ACR's metadata API through the Azure SDK for JavaScript's ContainerRegistryClient
// (unmodified), authenticating like acr_read.mjs (OIDC ID token -> /oauth2/exchange).
//
// Environment (all required):
//   REGISTRY_ENDPOINT, ID_TOKEN, AUDIENCE  as in acr_read.mjs
//   REPOSITORY   an image repository with tags; TAG one of them, INDEX_TAG a multi-arch index
//   DOOMED       a repository the script deletes
//
// Prints one JSON line with what the SDK returned (dates as ISO strings); on failure
// prints the error to stderr and exits 1.
import { ContainerRegistryClient } from "@azure/container-registry";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

class StaticIdTokenCredential {
  constructor(token) {
    this.token = token;
  }
  async getToken(_scopes, _options) {
    return { token: this.token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 };
  }
}

function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

async function collect(iterable) {
  const out = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function main() {
  const client = new ContainerRegistryClient(
    required("REGISTRY_ENDPOINT"),
    new StaticIdTokenCredential(required("ID_TOKEN")),
    { audience: required("AUDIENCE") },
  );
  const repoName = required("REPOSITORY");
  const tag = required("TAG");
  const out = {};

  // Repository names, one per page: the SDK follows the Link header.
  const pages = [];
  for await (const page of client.listRepositoryNames().byPage({ maxPageSize: 1 })) pages.push([...page]);
  out.repositoryPages = pages;

  const repository = client.getRepository(repoName);
  out.repository = plain(await repository.getProperties());
  out.manifests = plain(
    await collect(repository.listManifestProperties({ order: "LastUpdatedOnDescending" })),
  );

  const artifact = repository.getArtifact(tag);
  out.manifest = plain(await artifact.getManifestProperties());
  out.tags = plain(await collect(artifact.listTagProperties({ order: "LastUpdatedOnAscending" })));
  out.tag = plain(await artifact.getTagProperties(tag));
  out.index = plain(await repository.getArtifact(required("INDEX_TAG")).getManifestProperties());

  // Changeable attributes, as `az acr repository update` changes them.
  out.updatedTag = plain(await artifact.updateTagProperties(tag, { canDelete: false, canWrite: false }));
  out.updatedManifest = plain(await artifact.updateManifestProperties({ canRead: false }));
  out.updatedRepository = plain(await repository.updateProperties({ canList: false }));
  out.reread = {
    tag: plain(await artifact.getTagProperties(tag)),
    manifest: plain(await artifact.getManifestProperties()),
    repository: plain(await repository.getProperties()),
  };

  await client.deleteRepository(required("DOOMED"));
  out.afterDelete = await collect(client.listRepositoryNames());
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  const status = err?.statusCode ? ` (HTTP ${err.statusCode})` : "";
  process.stderr.write(`acr_metadata: ${err?.message ?? err}${status}\n${err?.stack ?? ""}\n`);
  process.exit(1);
});

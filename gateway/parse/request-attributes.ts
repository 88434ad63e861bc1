// What policy decides on for one request: the API server's RequestInfo (request-info.ts) plus what
// it also checks that the request line does not show. A PATCH that is a server-side apply, and a
// PUT to a resource that allows create on update, can create the object, and the API server then
// also authorizes `create`; a request without a namespace on a namespaced resource reaches every
// namespace. Both need more than the path: the Content-Type, and discovery (api-catalog.ts).
import type { ApiCatalog } from '../discovery/api-catalog.ts';
import { putCreates } from '../discovery/create-on-update.ts';
import type { AlsoVerb, RequestAttributes } from '../../core/policy/model.ts';
import type { RequestInfo } from './request-info.ts';

/** The patch types that only change an existing object (apiserver handlers/patch.go); any other body is applied, and may create. */
const UPDATING_PATCHES: ReadonlySet<string> = new Set([
  'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json',
]);

/** The media type as the API server reads it for a PATCH: cut at the first `;` (not at 0), nothing trimmed or folded. */
function patchMediaType(contentType: string | undefined): string {
  const value = contentType ?? '';
  const cut = value.indexOf(';');
  return cut > 0 ? value.slice(0, cut) : value;
}

function applyCreates(contentType: string | undefined): AlsoVerb | undefined {
  const media = patchMediaType(contentType);
  if (UPDATING_PATCHES.has(media)) return undefined;
  return {
    verb: 'create',
    why: media.startsWith('application/apply-patch')
      ? 'a server-side apply creates the object when it does not exist'
      : `a PATCH with Content-Type ${JSON.stringify(media)} is not a JSON, merge or strategic merge patch, so it is judged as a server-side apply, which can create the object`,
  };
}

function updateCreates(info: RequestInfo, catalog: ApiCatalog): AlsoVerb | undefined {
  const creates = putCreates(info, () => catalog.servedLocally(info.apiGroup));
  if (creates === 'no') return undefined;
  const resource = info.apiGroup === '' ? info.resource : `${info.resource}.${info.apiGroup}`;
  return {
    verb: 'create',
    why: creates === 'creates'
      ? `a PUT to ${resource} creates the object when it does not exist`
      : `the gateway cannot tell whether a PUT to ${resource} (an aggregated or not yet discovered API) creates the object, so it judges it as a create too`,
  };
}

function alsoVerbs(info: RequestInfo, contentType: string | undefined, catalog: ApiCatalog): AlsoVerb | undefined {
  if (info.verb === 'patch') return applyCreates(contentType);
  if (info.verb === 'update') return updateCreates(info, catalog);
  return undefined;
}

export function requestAttributes(info: RequestInfo, contentType: string | undefined, catalog: ApiCatalog): RequestAttributes {
  const base: RequestAttributes = {
    resourceRequest: info.isResourceRequest, verb: info.policyVerb, apiGroup: info.apiGroup, resource: info.resource,
    subresource: info.subresource, namespace: info.namespace, name: info.name, path: info.path,
  };
  if (!info.isResourceRequest) return base;
  const also = alsoVerbs(info, contentType, catalog);
  // Only a request without a namespace needs the scope: it either spans every namespace or is cluster-scoped.
  const clusterScoped = info.namespace === '' && catalog.scope(info.apiGroup, info.resource) === 'Cluster';
  if (also === undefined && !clusterScoped) return base;
  return { ...base, ...(also === undefined ? {} : { alsoVerbs: [also] }), ...(clusterScoped ? { clusterScoped } : {}) };
}

// The checked-in schema is what the generator makes of k8s.io/api and k8s.io/apimachinery at the
// pinned version (hack/versions.env): `go mod download` fetches them when the module cache lacks
// them, so this never skips.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generateSchemaText, SCHEMA_FILE } from './generate-schema.ts';
import { protobufSchema } from './schema.ts';

describe('the protobuf schema (schema.gen.ts)', () => {
  it('matches the proto and Go files at the pinned Kubernetes version (run `npm run generate:protobuf` after changing it)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(committed === await generateSchemaText(), 'gateway/audit/protobuf/schema.gen.ts is stale: run npm run generate:protobuf').toBe(true);
  }, 300_000);

  it('indexes the kinds kubectl writes as protobuf by apiVersion and kind', () => {
    const { kinds } = protobufSchema();
    expect(kinds['v1']?.['ConfigMap']).toBe('core.v1.ConfigMap');
    expect(kinds['apps/v1']?.['Deployment']).toBe('apps.v1.Deployment');
    expect(kinds['rbac.authorization.k8s.io/v1']?.['RoleBinding']).toBe('rbac.v1.RoleBinding');
    expect(kinds['autoscaling/v1']?.['Scale']).toBe('autoscaling.v1.Scale');
    // metav1.AddToGroupVersion registers the options types in every group version.
    expect(kinds['batch/v1']?.['DeleteOptions']).toBe('meta.v1.DeleteOptions');
    expect(kinds['v1']?.['Status']).toBe('meta.v1.Status');
  });
});

// The local control plane is a real cluster: the pinned version answers, ServiceAccount tokens are
// minted and reviewed, kwok runs pods and exec, and the API server writes its own audit log.
import { readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { kubectl, kubectlOk } from './support/kubectl.ts';
import { useTestNamespace } from './support/namespace.ts';
import { K8S_VERSION } from './support/versions.ts';
import { roundTripThroughPortForward } from './support/port-forward.ts';

describe('local control plane', () => {
  const ns = useTestNamespace('cp');

  it('serves the pinned Kubernetes version to the pinned kubectl', async () => {
    const version = JSON.parse(await kubectlOk(['version', '-o', 'json'])) as {
      clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe(`v${K8S_VERSION}`);
    expect(version.clientVersion.gitVersion).toBe(`v${K8S_VERSION}`);
  });

  it('mints a ServiceAccount token with TokenRequest and accepts it in a TokenReview', async () => {
    await kubectlOk(['create', 'serviceaccount', 'robot'], { namespace: ns.name });
    const token = (await kubectlOk(['create', 'token', 'robot', '--audience', 'airlock-test', '--duration', '10m'], { namespace: ns.name })).trim();
    expect(token.split('.')).toHaveLength(3);
    const review = (audiences: string[]): string => JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences },
    });
    const ok = JSON.parse(await kubectlOk(['create', '-o', 'json', '-f', '-'], { input: review(['airlock-test']) })) as {
      status: { authenticated?: boolean; user?: { username: string; groups: string[] }; audiences?: string[] };
    };
    expect(ok.status.authenticated).toBe(true);
    expect(ok.status.user?.username).toBe(`system:serviceaccount:${ns.name}:robot`);
    expect(ok.status.user?.groups).toContain('system:serviceaccounts');
    expect(ok.status.audiences).toEqual(['airlock-test']);

    const wrongAudience = JSON.parse(await kubectlOk(['create', '-o', 'json', '-f', '-'], { input: review(['someone-else']) })) as {
      status: { authenticated?: boolean; error?: string };
    };
    expect(wrongAudience.status.authenticated ?? false).toBe(false);
    expect(wrongAudience.status.error).toMatch(/audience/i);
  });

  it('runs a pod on a kwok node to Running and executes a command in it', async () => {
    await kubectlOk(['run', 'shell', '--image=busybox', '--restart=Never', '--command', '--', 'sleep', '3600'], { namespace: ns.name });
    await kubectlOk(['wait', '--for=condition=Ready', 'pod/shell', '--timeout=90s'], { namespace: ns.name });
    const pod = JSON.parse(await kubectlOk(['get', 'pod', 'shell', '-o', 'json'], { namespace: ns.name })) as {
      spec: { nodeName: string }; status: { phase: string; podIP: string };
    };
    expect(pod.status.phase).toBe('Running');
    expect(pod.spec.nodeName).toMatch(/^kwok-node-/);
    expect(pod.status.podIP).toMatch(/^10\.244\./);

    const exec = await kubectl(['exec', 'shell', '--', 'echo', 'hello from kwok'], { namespace: ns.name });
    expect(exec.stderr).toBe('');
    expect(exec.stdout).toBe('hello from kwok\n');
    expect(exec.code).toBe(0);

    // kwok 0.8 reports a command's failure as an internal error naming the exit status, not as the
    // kubelet's NonZeroExitCode Status, so kubectl exits 1 rather than 3.
    const failing = await kubectl(['exec', 'shell', '--', 'sh', '-c', 'exit 3'], { namespace: ns.name });
    expect(failing.code).not.toBe(0);
    expect(failing.stderr).toContain('exit status 3');
  });

  it('port-forwards to a kwok pod, which echoes', async () => {
    await kubectlOk(['run', 'echo', '--image=busybox', '--restart=Never'], { namespace: ns.name });
    await kubectlOk(['wait', '--for=condition=Ready', 'pod/echo', '--timeout=90s'], { namespace: ns.name });
    const answer = await roundTripThroughPortForward({ path: inject('kubectlPath'), kubeconfig: inject('kubeconfig') }, { namespace: ns.name, pod: 'echo', port: 8080 }, 'ping-through-kwok');
    expect(answer).toBe('ping-through-kwok');
  });

  it('serves container logs through kwok', async () => {
    await kubectlOk(['run', 'logger', '--image=busybox', '--restart=Never'], { namespace: ns.name });
    await kubectlOk(['wait', '--for=condition=Ready', 'pod/logger', '--timeout=90s'], { namespace: ns.name });
    const logs = await kubectlOk(['logs', 'logger'], { namespace: ns.name });
    expect(logs).toContain('simulated container log');
  });

  it('enforces a ValidatingAdmissionPolicy (CEL over request.userInfo)', async () => {
    const name = `deny-marked-${ns.name}`;
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name }, spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
        validations: [{ expression: "!has(object.metadata.labels) || !('blocked' in object.metadata.labels)", messageExpression: "'blocked for ' + request.userInfo.username" }],
      } },
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name }, spec: {
        policyName: name, validationActions: ['Deny'],
        matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } } },
      } },
    ] }) });
    try {
      await expect.poll(async () => (await kubectl(['create', '-f', '-'], { namespace: ns.name, input: JSON.stringify({
        apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'vap-', labels: { blocked: 'yes' } },
      }) })).stderr, { timeout: 20_000, interval: 250 }).toContain('blocked for airlock-admin');
    } finally {
      await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', name]);
    }
  });

  it("writes the API server's own audit log", async (context) => {
    const auditLog = inject('auditLog');
    context.skip(auditLog === '', 'this provider does not expose the API server audit log');
    await kubectlOk(['create', 'configmap', 'audited', '--from-literal=k=v'], { namespace: ns.name });
    await expect.poll(async () => {
      const lines = (await readFile(auditLog, 'utf8')).trim().split('\n');
      return lines.map((l) => JSON.parse(l) as { verb: string; objectRef?: { resource?: string; name?: string; namespace?: string } })
        .some((e) => e.verb === 'create' && e.objectRef?.resource === 'configmaps' && e.objectRef.name === 'audited' && e.objectRef.namespace === ns.name);
    }, { timeout: 10_000 }).toBe(true);
  });
});

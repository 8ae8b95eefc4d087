/**
 * The Kubernetes manifests and Dockerfiles cannot run here (no cluster, no Docker engine), so they
 * are checked the way a cluster would first check them: every object against the Kubernetes
 * OpenAPI schemas (kubernetes-models), then what Kiln needs of them (docs/fleet.md): GPU workers
 * placed by GPU Feature Discovery's labels, one GPU per pod, and images built from files that exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';

const root = path.join(__dirname, '..', '..');
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: {
    replicas?: number;
    template?: {
      spec: {
        nodeSelector?: Record<string, string>;
        terminationGracePeriodSeconds?: number;
        containers: { image: string; env?: { name: string; value: string }[]; resources?: { limits?: Record<string, unknown> } }[];
      };
    };
  };
}

function load(file: string): K8sObject[] {
  const docs = parseAllDocuments(readFileSync(path.join(root, file), 'utf8'));
  for (const doc of docs) if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
  return docs.map((d) => d.toJS() as K8sObject).filter(Boolean);
}

function validate(object: K8sObject): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object as never).validate();
}

const objects = load('infra/k8s/kiln.yaml');
const gpuWorkers = objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('kiln-worker-gpu-'));

describe('infra/k8s/kiln.yaml', () => {
  test.each(objects.map((o) => [`${o.kind} ${o.metadata.name}`, o]))('%s is valid against the Kubernetes schema', (_name, object) => {
    expect(() => validate(object)).not.toThrow();
  });

  test('the schema check can fail: a Deployment with replicas "two" is refused', () => {
    const broken = structuredClone(gpuWorkers[0]);
    (broken.spec as { replicas: unknown }).replicas = 'two';
    expect(() => validate(broken)).toThrow(/replicas must be integer/);
  });

  test('GPU workers are Deployments per GPU kind, placed by GPU Feature Discovery labels, one GPU and one worker per pod', () => {
    expect(objects.some((o) => o.kind === 'DaemonSet')).toBe(false);
    expect(gpuWorkers.length).toBeGreaterThanOrEqual(5);
    const kinds = new Set<string>();
    for (const worker of gpuWorkers) {
      const pod = worker.spec!.template!.spec;
      const labels = pod.nodeSelector ?? {};
      expect(labels).toMatchObject({ 'nvidia.com/gpu.present': 'true' });
      expect(labels['nvidia.com/gpu.compute.major']).toMatch(/^\d+$/);
      expect(labels['nvidia.com/gpu.compute.minor']).toMatch(/^\d+$/);
      expect(['amd64', 'arm64']).toContain(labels['kubernetes.io/arch']);
      kinds.add(`${labels['nvidia.com/gpu.compute.major']}.${labels['nvidia.com/gpu.compute.minor']}-${labels['kubernetes.io/arch']}`);
      const [container] = pod.containers;
      // One GPU per pod: `KILN_GPUS=all` then starts exactly one worker (docs/fleet.md).
      expect(container.resources?.limits?.['nvidia.com/gpu']).toBe(1);
      expect(container.env).toEqual(expect.arrayContaining([{ name: 'KILN_GPUS', value: 'all' }]));
      expect(container.image).toMatch(/^kiln-gpu:/);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
    }
    expect(kinds.size).toBe(gpuWorkers.length);
    expect(kinds).toContain('9.0-arm64');
  });
});

describe('infra Dockerfiles', () => {
  test.each(['infra/Dockerfile', 'infra/Dockerfile.gpu'])('%s copies only files that exist and names an image file that exists', (file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    const sources = [...text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect([source, existsSync(path.join(root, source))]).toEqual([source, true]);
    for (const named of text.matchAll(/infra\/(Dockerfile(?:\.\w+)*)/g)) expect([named[0], existsSync(path.join(root, named[0]))]).toEqual([named[0], true]);
  });
});

/**
 * Parses a `config.pbtxt` the way Triton does: protobuf text format against Triton's own
 * `model_config.proto` (test/fixtures/triton). protobufjs reads the .proto (it has no text-format
 * parser), its descriptor extension turns it into a FileDescriptorSet, and @bufbuild/protobuf's
 * conformance-tested text-format reader parses the config against it: an unknown field, a wrong
 * type or an enum value Triton lacks is an error, as it is for Triton.
 */
import path from 'node:path';
import { createFileRegistry, fromBinary, type DescMessage } from '@bufbuild/protobuf';
import { fromText } from '@bufbuild/protobuf/txtpb';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import * as protobuf from 'protobufjs';
import * as descriptor from 'protobufjs/ext/descriptor';

export const MODEL_CONFIG_PROTO = path.join(__dirname, '..', 'fixtures', 'triton', 'model_config.proto');

let modelConfig: DescMessage | undefined;

interface DescriptorMessage {
  name: string;
  field?: Array<{ typeName?: string }>;
  nestedType?: DescriptorMessage[];
  enumType?: Array<{ name: string }>;
}

/**
 * protobufjs writes type names as the .proto spells them (`GraphSpec.Shape`); descriptors want
 * them fully qualified (`.inference.ModelEnsembling.GraphSpec.Shape`). Resolved here by protobuf's
 * scoping rule: innermost scope first.
 */
function qualify(file: { package: string; messageType: DescriptorMessage[]; enumType?: Array<{ name: string }> }): void {
  const names = new Set<string>();
  const collect = (messages: DescriptorMessage[] = [], enums: Array<{ name: string }> = [], scope: string) => {
    for (const e of enums) names.add(`${scope}.${e.name}`);
    for (const m of messages) {
      names.add(`${scope}.${m.name}`);
      collect(m.nestedType, m.enumType, `${scope}.${m.name}`);
    }
  };
  const pkg = `.${file.package}`;
  collect(file.messageType, file.enumType, pkg);
  const resolve = (name: string, scope: string): string => {
    for (let s = scope; ; s = s.slice(0, s.lastIndexOf('.'))) {
      if (names.has(`${s}.${name}`)) return `${s}.${name}`;
      if (!s) throw new Error(`Cannot resolve ${name} from ${scope}`);
    }
  };
  const walk = (messages: DescriptorMessage[] = [], scope: string) => {
    for (const m of messages) {
      const full = `${scope}.${m.name}`;
      for (const f of m.field ?? []) if (f.typeName && !f.typeName.startsWith('.')) f.typeName = resolve(f.typeName, full);
      walk(m.nestedType, full);
    }
  };
  walk(file.messageType, pkg);
}

function schema(): DescMessage {
  if (modelConfig) return modelConfig;
  const root = protobuf.loadSync(MODEL_CONFIG_PROTO);
  const set = (root as unknown as { toDescriptor(syntax: string): protobuf.Message }).toDescriptor('proto3');
  const plain = descriptor.FileDescriptorSet.toObject(set) as { file: Array<Parameters<typeof qualify>[0]> };
  for (const file of plain.file) qualify(file);
  const bytes = descriptor.FileDescriptorSet.encode(descriptor.FileDescriptorSet.fromObject(plain)).finish();
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  modelConfig = registry.getMessage('inference.ModelConfig');
  if (!modelConfig) throw new Error(`inference.ModelConfig is not in ${MODEL_CONFIG_PROTO}`);
  return modelConfig;
}

export interface ParsedTensor {
  name: string;
  dataType: string;
  dims: number[];
}

export interface ParsedModelConfig {
  name: string;
  platform: string;
  maxBatchSize: number;
  input: ParsedTensor[];
  output: ParsedTensor[];
  ccModelFilenames: Record<string, string>;
  defaultModelFilename: string;
}

/** The config as Triton reads it; throws on anything Triton's parser would refuse. */
export function parseModelConfig(text: string): ParsedModelConfig {
  const desc = schema();
  const message = fromText(desc, text) as unknown as Record<string, unknown> & { input: Array<Record<string, unknown>>; output: Array<Record<string, unknown>> };
  const dataType = desc.file.enums.find((e) => e.typeName === 'inference.DataType')!;
  const tensor = (t: Record<string, unknown>): ParsedTensor => ({
    name: t.name as string,
    dataType: dataType.values.find((v) => v.number === t.dataType)!.name,
    dims: (t.dims as bigint[]).map(Number),
  });
  return {
    name: message.name as string,
    platform: message.platform as string,
    maxBatchSize: message.maxBatchSize as number,
    input: message.input.map(tensor),
    output: message.output.map(tensor),
    ccModelFilenames: message.ccModelFilenames as Record<string, string>,
    defaultModelFilename: message.defaultModelFilename as string,
  };
}

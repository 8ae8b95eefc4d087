/** A request: one model, many targets, one options set; it fans out into one build per target. */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BuildOptions } from '../core/options';
import type { RedisKeys } from './redis';

export interface RequestRecord {
  id: string;
  modelId: string;
  targets: string[];
  options: BuildOptions;
  /** targetKey -> build key. */
  builds: Record<string, string>;
  createdAt: string;
}

export class RequestRecords {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

  async create(fields: Omit<RequestRecord, 'id' | 'createdAt'>): Promise<RequestRecord> {
    const record: RequestRecord = { id: randomUUID(), createdAt: new Date().toISOString(), ...fields };
    await this.redis
      .multi()
      .set(this.keys.request(record.id), JSON.stringify(record))
      .zadd(this.keys.requests, Date.now(), record.id)
      .exec();
    return record;
  }

  async get(id: string): Promise<RequestRecord | null> {
    const json = await this.redis.get(this.keys.request(id));
    return json ? (JSON.parse(json) as RequestRecord) : null;
  }
}

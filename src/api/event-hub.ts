/**
 * One Redis subscriber connection per API process, shared by every SSE client: channels are
 * subscribed while someone listens and released when the last listener leaves.
 */
import type { Redis } from 'ioredis';
import type { BuildEvent } from '../state/build-events';

type Listener = (event: BuildEvent) => void;

export class EventHub {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly subscriber: Redis) {
    subscriber.on('message', (channel: string, message: string) => {
      const set = this.listeners.get(channel);
      if (!set) return;
      const event = JSON.parse(message) as BuildEvent;
      for (const listener of set) listener(event);
    });
  }

  /** Resolves once Redis confirms the subscription, so no event after it is missed. */
  async subscribe(channel: string, listener: Listener): Promise<() => void> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.subscriber.subscribe(channel);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        this.subscriber.unsubscribe(channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}

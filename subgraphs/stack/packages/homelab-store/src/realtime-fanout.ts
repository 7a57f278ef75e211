import { EventSource } from "eventsource";
import type PocketBase from "pocketbase";
import type { RecordModel } from "pocketbase";
import { callPocketBase } from "./pocketbase-connections.js";

// PocketBase's realtime API is Server-Sent Events; Node has no EventSource of its own.
globalThis.EventSource ??= EventSource as unknown as typeof globalThis.EventSource;

export interface RecordEvent {
  action: "create" | "update" | "delete";
  record: RecordModel;
}

type Listener = (event: RecordEvent) => void;

interface Topic {
  listeners: Set<Listener>;
  /** Resolves to PocketBase's unsubscribe once the realtime subscription is in place. */
  ready: Promise<() => Promise<void>>;
}

/**
 * One PocketBase realtime subscription per collection and instance, shared by every local listener: a
 * thousand subscribers to one tenant's jobs cost PocketBase one topic. The last listener to leave ends it.
 */
export class RealtimeFanout {
  private readonly topics = new Map<string, Topic>();
  /**
   * Every subscribe and unsubscribe is sent one after another: the SDK drops its realtime connection when its
   * last subscription goes, and a subscribe racing that disconnect could be left without a connection.
   */
  private changes: Promise<unknown> = Promise.resolve();

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const next = this.changes.then(change, change);
    this.changes = next.catch(() => {});
    return next;
  }

  get topicCount(): number {
    return this.topics.size;
  }

  /** `expand` names relations PocketBase should embed in each event (saves a read per event and subscriber). */
  async listen(pb: PocketBase, instanceUrl: string, collection: string, listener: Listener, expand?: string): Promise<() => void> {
    const key = `${instanceUrl}|${collection}|${expand ?? ""}`;
    let topic = this.topics.get(key);
    if (!topic) {
      const listeners = new Set<Listener>();
      const dispatch = (event: { action: string; record: RecordModel }) => {
        for (const each of listeners) each({ action: event.action as RecordEvent["action"], record: event.record });
      };
      const ready = this.serially(() =>
        callPocketBase(instanceUrl, () => pb.collection(collection).subscribe("*", dispatch, expand ? { expand } : undefined)),
      );
      topic = { listeners, ready };
      this.topics.set(key, topic);
      ready.catch(() => this.topics.delete(key));
    }
    topic.listeners.add(listener);
    await topic.ready;
    const current = topic;
    return () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      if (this.topics.get(key) === current) this.topics.delete(key);
      void current.ready.then((unsubscribe) => this.serially(unsubscribe)).catch(() => {});
    };
  }
}

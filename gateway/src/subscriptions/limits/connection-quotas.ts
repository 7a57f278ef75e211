/** What the gateway allows each audience (see `quotaAudience`) and each connection at once. */
export interface QuotaLimits {
  maxSubscriptionsPerConnection: number;
  maxSubscriptionsPerTenant: number;
  maxConnectionsPerTenant: number;
}

/** A connection as the quotas count it: whose it is and how many subscriptions run on it. */
export interface CountedConnection {
  audience: string;
  subscriptions: number;
}

/** A subscription's place in its connection's and its audience's counts (given back once with `release`), or why there is none. */
export type SubscriptionReservation = { release: () => void } | { refusal: string; code: "RATE_LIMITED" | "UNAVAILABLE" };

/**
 * The quotas as the socket handler asks them. Counted in this process they answer at once; with several workers
 * the per-audience counts are the cluster primary's, and the answers come back as promises.
 */
export interface ConnectionQuotaKeeper {
  /** Counts a new connection of the audience, or refuses it (false) when the audience has all it may open. */
  admitConnection(audience: string): boolean | Promise<boolean>;
  releaseConnection(audience: string): void;
  /** Takes a subscription's place on the connection and in the audience's count, or says why not. */
  reserveSubscription(connection: CountedConnection, audience: string): SubscriptionReservation | Promise<SubscriptionReservation>;
}

/**
 * Open connections and subscriptions per audience, held to the limits, for one or more holders (the cluster
 * primary keeps them for every worker, each worker a holder, so a worker's share can be forgotten when it dies);
 * counts that reach zero are forgotten.
 */
export class AudienceCounts {
  private readonly connections = new Map<string, number>();
  private readonly subscriptions = new Map<string, number>();
  private readonly byHolder = new Map<number, { connections: Map<string, number>; subscriptions: Map<string, number> }>();

  constructor(private readonly limits: QuotaLimits) {}

  admitConnection(audience: string, holder = 0): boolean {
    if ((this.connections.get(audience) ?? 0) >= this.limits.maxConnectionsPerTenant) return false;
    this.bump("connections", audience, holder, 1);
    return true;
  }

  releaseConnection(audience: string, holder = 0): void {
    this.bump("connections", audience, holder, -1);
  }

  admitSubscription(audience: string, holder = 0): boolean {
    if ((this.subscriptions.get(audience) ?? 0) >= this.limits.maxSubscriptionsPerTenant) return false;
    this.bump("subscriptions", audience, holder, 1);
    return true;
  }

  releaseSubscription(audience: string, holder = 0): void {
    this.bump("subscriptions", audience, holder, -1);
  }

  /** Gives back everything `holder` held (a worker that exited holds no connections any more). */
  forgetHolder(holder: number): void {
    const held = this.byHolder.get(holder);
    if (!held) return;
    for (const [audience, count] of held.connections) bump(this.connections, audience, -count);
    for (const [audience, count] of held.subscriptions) bump(this.subscriptions, audience, -count);
    this.byHolder.delete(holder);
  }

  private bump(kind: "connections" | "subscriptions", audience: string, holder: number, by: number): void {
    const ofHolder = this.byHolder.get(holder) ?? { connections: new Map(), subscriptions: new Map() };
    // A release the holder never took (a late or repeated one) changes nothing.
    if (by < 0 && (ofHolder[kind].get(audience) ?? 0) <= 0) return;
    this.byHolder.set(holder, ofHolder);
    bump(ofHolder[kind], audience, by);
    bump(this[kind], audience, by);
  }
}

/** Why one more subscription on the connection is refused by the per-connection limit, or null. */
export function perConnectionRefusal(limits: QuotaLimits, connection: CountedConnection): string | null {
  return connection.subscriptions >= limits.maxSubscriptionsPerConnection ? `At most ${limits.maxSubscriptionsPerConnection} subscriptions may run on one connection.` : null;
}

export const tenantSubscriptionsRefusal = (limits: QuotaLimits) => `Your tenant has reached ${limits.maxSubscriptionsPerTenant} open subscriptions.`;

/** The quotas counted in this process: the gateway as one process (GATEWAY_WORKERS=1). Every answer is immediate. */
export class ConnectionQuotas implements ConnectionQuotaKeeper {
  private readonly counts: AudienceCounts;

  constructor(private readonly limits: QuotaLimits) {
    this.counts = new AudienceCounts(limits);
  }

  admitConnection(audience: string): boolean {
    return this.counts.admitConnection(audience);
  }

  releaseConnection(audience: string): void {
    this.counts.releaseConnection(audience);
  }

  reserveSubscription(connection: CountedConnection, audience: string): SubscriptionReservation {
    const refusal = perConnectionRefusal(this.limits, connection);
    if (refusal) return { refusal, code: "RATE_LIMITED" };
    if (!this.counts.admitSubscription(audience)) return { refusal: tenantSubscriptionsRefusal(this.limits), code: "RATE_LIMITED" };
    connection.subscriptions += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.counts.releaseSubscription(audience);
        connection.subscriptions -= 1;
      },
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/** What one process allows each audience (see `quotaAudience`) and each connection at once. */
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

/** Open connections and subscriptions per audience, held to the limits; counts that reach zero are forgotten. */
export class ConnectionQuotas {
  private readonly connectionsPerAudience = new Map<string, number>();
  private readonly subscriptionsPerAudience = new Map<string, number>();

  constructor(private readonly limits: QuotaLimits) {}

  /** Counts a new connection of the audience, or refuses it (false) when the audience has all it may open. */
  admitConnection(audience: string): boolean {
    if ((this.connectionsPerAudience.get(audience) ?? 0) >= this.limits.maxConnectionsPerTenant) return false;
    bump(this.connectionsPerAudience, audience, 1);
    return true;
  }

  releaseConnection(audience: string): void {
    bump(this.connectionsPerAudience, audience, -1);
  }

  /** Why one more subscription on the connection for the audience is refused, or null when it may run. */
  subscriptionRefusal(connection: CountedConnection, audience: string): string | null {
    if (connection.subscriptions >= this.limits.maxSubscriptionsPerConnection) {
      return `At most ${this.limits.maxSubscriptionsPerConnection} subscriptions may run on one connection.`;
    }
    if ((this.subscriptionsPerAudience.get(audience) ?? 0) >= this.limits.maxSubscriptionsPerTenant) {
      return `Your tenant has reached ${this.limits.maxSubscriptionsPerTenant} open subscriptions.`;
    }
    return null;
  }

  /** Counts a subscription against its connection's and its audience's limits; the returned function gives it back once. */
  reserveSubscription(connection: CountedConnection, audience: string): () => void {
    bump(this.subscriptionsPerAudience, audience, 1);
    connection.subscriptions += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      bump(this.subscriptionsPerAudience, audience, -1);
      connection.subscriptions -= 1;
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

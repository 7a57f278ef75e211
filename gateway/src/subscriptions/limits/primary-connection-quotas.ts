import { ClusterCallFailed, primaryChannel, type PrimaryChannel } from "../../cluster/cluster-channel.js";
import { ConnectionQuotas, perConnectionRefusal, tenantSubscriptionsRefusal, type ConnectionQuotaKeeper, type CountedConnection, type QuotaLimits, type SubscriptionReservation } from "./connection-quotas.js";

/** How long a worker waits for the primary's count; it answers in well under a millisecond unless something is badly wrong. */
const PRIMARY_TIMEOUT_MS = 5000;

export const QUOTA_CALLS = {
  admitConnection: "quotas.admitConnection",
  releaseConnection: "quotas.releaseConnection",
  admitSubscription: "quotas.admitSubscription",
  releaseSubscription: "quotas.releaseSubscription",
} as const;

/**
 * In a cluster worker: the per-tenant (per-audience) counts are the primary's, so WS_MAX_CONNECTIONS_PER_TENANT
 * and WS_MAX_SUBSCRIPTIONS_PER_TENANT hold for the whole gateway, not for each worker. The per-connection limit
 * stays here (a connection lives in one worker), checked and taken before the primary is asked, so back-to-back
 * subscribes on one socket cannot slip past it. A grant that arrives after its call gave up is given back.
 */
export class PrimaryConnectionQuotas implements ConnectionQuotaKeeper {
  constructor(
    private readonly limits: QuotaLimits,
    private readonly channel: PrimaryChannel = primaryChannel(),
  ) {}

  async admitConnection(audience: string): Promise<boolean> {
    return this.channel.call<boolean>(QUOTA_CALLS.admitConnection, audience, {
      timeoutMs: PRIMARY_TIMEOUT_MS,
      late: (granted) => granted && this.releaseConnection(audience),
    });
  }

  releaseConnection(audience: string): void {
    this.channel.notify(QUOTA_CALLS.releaseConnection, audience);
  }

  async reserveSubscription(connection: CountedConnection, audience: string): Promise<SubscriptionReservation> {
    const refusal = perConnectionRefusal(this.limits, connection);
    if (refusal) return { refusal, code: "RATE_LIMITED" };
    connection.subscriptions += 1;
    let granted: boolean;
    try {
      granted = await this.channel.call<boolean>(QUOTA_CALLS.admitSubscription, audience, {
        timeoutMs: PRIMARY_TIMEOUT_MS,
        late: (late) => late && this.channel.notify(QUOTA_CALLS.releaseSubscription, audience),
      });
    } catch (error) {
      connection.subscriptions -= 1;
      if (error instanceof ClusterCallFailed) return { refusal: "The gateway could not count this subscription; subscribe again.", code: "UNAVAILABLE" };
      throw error;
    }
    if (!granted) {
      connection.subscriptions -= 1;
      return { refusal: tenantSubscriptionsRefusal(this.limits), code: "RATE_LIMITED" };
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.channel.notify(QUOTA_CALLS.releaseSubscription, audience);
        connection.subscriptions -= 1;
      },
    };
  }
}

/** The quotas a socket handler counts with: this process's, or with several workers the primary's. */
export function connectionQuotas(limits: QuotaLimits & { tenantQuotasInPrimary?: boolean }): ConnectionQuotaKeeper {
  return limits.tenantQuotasInPrimary ? new PrimaryConnectionQuotas(limits) : new ConnectionQuotas(limits);
}


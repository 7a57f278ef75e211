/** The advisory lock that serialises a tenant's stack and node writes against their quotas, on every replica. */
export const stackWritesOf = (tenantId: string): string => `stack-writes:${tenantId}`;

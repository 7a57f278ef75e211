export { billingSubgraph, STRIPE_WEBHOOK_PATH } from "./billing-subgraph.js";
export { billingMigrations, billingSubscriptions, stripeCustomers, stripeSubscriptions } from "./db/schema.js";

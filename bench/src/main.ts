/**
 * `pnpm bench <suite> [--option value]`: benchmarks that print numbers and ratios against a baseline run in the
 * same process. Suites: subscriptions, rate-limits.
 *   pnpm bench subscriptions --subscribers 1000,5000,10000 --duration 20 --jobs 100 --rate 200 --per-connection 10
 *     --targets gateway,direct   (only `gateway` skips the direct floor, for a shorter run)
 *   pnpm bench subscriptions --soak 600 --subscribers 10000 --rate 200
 *     (holds the largest --subscribers count through the gateway for 600 s; prints the gateway's heap and RSS
 *     over time, the heap's slope and whether it stayed flat)
 *   pnpm bench rate-limits --duration 2 --rounds 15 --connections 1,16 --redis redis://127.0.0.1:6379
 *     (a small query through gateways with limits off, counted in the process and counted in Redis: p50, p99,
 *     req/s and gateway CPU per request, with ratios to off)
 */
import { parseArgs } from "node:util";
import { runRateLimitsBench } from "./rate-limits-bench.js";
import { runSubscriptionsBench } from "./subscriptions-bench.js";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    subscribers: { type: "string", default: "1000,5000,10000" },
    duration: { type: "string" },
    jobs: { type: "string", default: "100" },
    rate: { type: "string", default: "200" },
    "per-connection": { type: "string", default: "10" },
    targets: { type: "string", default: "gateway,direct" },
    soak: { type: "string" },
    rounds: { type: "string" },
    connections: { type: "string", default: "1,16" },
    redis: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
});

const suite = positionals[0] ?? "subscriptions";
if (suite !== "subscriptions" && suite !== "rate-limits") {
  process.stderr.write(`Unknown benchmark "${suite}". Suites: subscriptions, rate-limits.\n`);
  process.exit(2);
}
const number = (name: string, value: string) => {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    process.stderr.write(`--${name} must be a positive number, got ${value}\n`);
    process.exit(2);
  }
  return parsed;
};
if (suite === "rate-limits") {
  await runRateLimitsBench({
    durationSeconds: number("duration", values.duration ?? "2"),
    rounds: number("rounds", values.rounds ?? "15"),
    connections: values.connections.split(",").map((n) => number("connections", n)),
    redisUrl: values.redis,
  });
  process.exit(0);
}
const targets = values.targets.split(",").map((target) => target.trim());
for (const target of targets) {
  if (target !== "gateway" && target !== "direct") {
    process.stderr.write(`--targets takes gateway and/or direct, got ${target}\n`);
    process.exit(2);
  }
}
await runSubscriptionsBench({
  targets: (["gateway", "direct"] as const).filter((target) => targets.includes(target)),
  soakSeconds: values.soak === undefined ? undefined : number("soak", values.soak),
  subscribers: values.subscribers.split(",").map((n) => number("subscribers", n)),
  durationSeconds: number("duration", values.duration ?? "20"),
  jobs: number("jobs", values.jobs),
  rate: number("rate", values.rate),
  perConnection: number("per-connection", values["per-connection"]),
});
process.exit(0);

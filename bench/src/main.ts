/**
 * `pnpm bench <suite> [--option value]` (`pnpm bench --help` prints this): benchmarks that print numbers and ratios against a baseline run in the
 * same process. Suites: subscriptions, rate-limits, gateway.
 *   pnpm bench subscriptions --subscribers 1000,5000,10000 --duration 20 --jobs 100 --rate 200 --per-connection 10
 *     --targets gateway,direct   (only `gateway` skips the direct floor, for a shorter run)
 *   pnpm bench subscriptions --soak 600 --subscribers 10000 --rate 200
 *     (holds the largest --subscribers count through the gateway for 600 s; prints the gateway's heap and RSS
 *     over time, the heap's slope and whether it stayed flat)
 *   pnpm bench rate-limits --duration 2 --rounds 15 --connections 1,16 --redis redis://127.0.0.1:6379
 *     (a small query through gateways with limits off, counted in the process and counted in Redis: p50, p99,
 *     req/s and gateway CPU per request, with ratios to off)
 *   pnpm bench gateway --connections 50 --rounds 3 --duration 10 --warmup 5 --gateways stock,hive,ours --profile DIR
 *     --tables testquery,kombify   (the public federation benchmark's TestQuery through stock @apollo/gateway, Hive
 *     Gateway and ours, each alone on core 0 with subgraphs and load on core 1, answers checked against a reference
 *     first: req/s, p50/p99, errors, CPU, peak RSS and ratios to stock; then kombify's own operations through our
 *     gateway and straight to the subgraphs: what the gateway adds at p50/p99 on 1 and on --connections connections.
 *     --profile DIR starts ours with --cpu-prof --cpu-prof-dir DIR; needs taskset from util-linux;
 *     --ours-at before=/tmp/old-checkout,… adds ours from other checkouts (earlier commits, installed) as contestants,
 *     for what each change gave)
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runGatewayBench } from "./gateway-bench/gateway-bench.js";
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
    connections: { type: "string" },
    warmup: { type: "string" },
    gateways: { type: "string", default: "stock,hive,ours" },
    "ours-at": { type: "string" },
    profile: { type: "string" },
    tables: { type: "string", default: "testquery,kombify" },
    help: { type: "boolean", default: false },
    redis: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
});

if (values.help) {
  // The usage above, as written: one place to keep it.
  const usage = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(fileURLToPath(import.meta.url), "utf8"))![1]!;
  process.stdout.write(`${usage.split("\n").map((line) => line.replace(/^ \* ?/, "")).join("\n").trim()}\n`);
  process.exit(0);
}
const suite = positionals[0] ?? "subscriptions";
if (suite !== "subscriptions" && suite !== "rate-limits" && suite !== "gateway") {
  process.stderr.write(`Unknown benchmark "${suite}". Suites: subscriptions, rate-limits, gateway.\n`);
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
    connections: (values.connections ?? "1,16").split(",").map((n) => number("connections", n)),
    redisUrl: values.redis,
  });
  process.exit(0);
}
if (suite === "gateway") {
  const gateways = values.gateways.split(",").map((name) => name.trim());
  const tables = values.tables.split(",").map((name) => name.trim());
  const unknown = [...gateways.filter((name) => !["stock", "hive", "ours"].includes(name)), ...tables.filter((name) => !["testquery", "kombify"].includes(name))];
  if (unknown.length > 0) {
    process.stderr.write(`--gateways takes stock, hive and/or ours; --tables takes testquery and/or kombify; got ${unknown.join(", ")}\n`);
    process.exit(2);
  }
  try {
    await runGatewayBench({
      connections: number("connections", values.connections ?? "50"),
      rounds: number("rounds", values.rounds ?? "3"),
      durationSeconds: number("duration", values.duration ?? "10"),
      warmupSeconds: number("warmup", values.warmup ?? "5"),
      gateways: (["stock", "hive", "ours"] as const).filter((name) => gateways.includes(name)),
      oursAt: (values["ours-at"] ?? "")
        .split(",")
        .filter(Boolean)
        .map((entry) => {
          const [label, dir] = entry.split("=");
          if (!label || !dir || !/^[\w.-]+$/.test(label)) {
            process.stderr.write(`--ours-at takes label=checkout-dir[,label=dir…], got ${entry}\n`);
            process.exit(2);
          }
          return { label, dir: resolve(dir) };
        }),
      tables: (["testquery", "kombify"] as const).filter((name) => tables.includes(name)),
      profileDir: values.profile === undefined ? undefined : resolve(values.profile),
    });
  } catch (error) {
    process.stderr.write(`\npnpm bench gateway failed: ${(error as Error).message}\n`);
    process.exit(1);
  }
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

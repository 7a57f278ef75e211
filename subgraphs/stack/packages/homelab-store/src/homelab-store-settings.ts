import { z } from "zod";
import { ConfigError, envTypes } from "@kombify/service-core/config";
import { PocketBaseConnections, pocketBaseAnswers } from "./pocketbase-connections.js";

export const DEV_POCKETBASE_PASSWORD = "kombify-dev-superuser";

/** The settings of a service that reaches tenants' namespaces: the PocketBase it starts on and its superuser. */
export const homelabStoreSettingsShape = {
  POCKETBASE_URL: envTypes.url().default("http://127.0.0.1:8090"),
  POCKETBASE_SUPERUSER_EMAIL: z.email().default("admin@kombify.local").describe("an email address"),
  POCKETBASE_SUPERUSER_PASSWORD: z.string().min(10).default(DEV_POCKETBASE_PASSWORD).describe("at least 10 characters"),
  POCKETBASE_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000).describe("milliseconds before a PocketBase request fails"),
};

export type HomelabStoreSettings = z.infer<z.ZodObject<typeof homelabStoreSettingsShape>>;

/** Development defaults for secrets are refused in production, by every entry point alike. */
export function assertHomelabStoreSecrets(settings: { NODE_ENV: string; POCKETBASE_SUPERUSER_PASSWORD: string }): void {
  if (settings.NODE_ENV === "production" && settings.POCKETBASE_SUPERUSER_PASSWORD === DEV_POCKETBASE_PASSWORD) {
    throw new ConfigError(["POCKETBASE_SUPERUSER_PASSWORD must be set to a secret of your own in production."]);
  }
}

export interface HomelabStore {
  connections: PocketBaseConnections;
  /** The PocketBase this deployment starts on (the first instance's). */
  url: string;
  /** Whether that PocketBase answers; for readiness probes. */
  answers(): Promise<boolean>;
}

export function connectHomelabStore(settings: HomelabStoreSettings): HomelabStore {
  return {
    connections: new PocketBaseConnections(
      { email: settings.POCKETBASE_SUPERUSER_EMAIL, password: settings.POCKETBASE_SUPERUSER_PASSWORD },
      settings.POCKETBASE_TIMEOUT_MS,
    ),
    url: settings.POCKETBASE_URL,
    answers: () => pocketBaseAnswers(settings.POCKETBASE_URL),
  };
}

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { PLAN_TIERS } from "@kombify/service-core/auth";

const stepSchema = z.object({ name: z.string().min(1), run: z.string().min(1) });

const kitSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/),
  name: z.string().min(1),
  version: z.string().regex(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, "a semantic version"),
  description: z.string(),
  tier: z.enum(PLAN_TIERS),
  services: z.array(z.string().min(1)),
  /** The commands a deploy runs on each node, in order. */
  steps: z.array(stepSchema).min(1),
});

export type StackKitDefinition = z.infer<typeof kitSchema> & {
  /** sha256 of the definition file as published, so a download can be verified. */
  sha256: string;
  source: string;
};

/** The setting of every service that reads StackKits: where their definitions are. */
export const stackKitCatalogSettingsShape = {
  STACKKITS_DIR: z.string().optional().describe("a directory of StackKit definition files"),
};

export const DEFAULT_STACKKITS_DIR = fileURLToPath(new URL("../../../../../stackkits", import.meta.url));

/** The StackKit catalog: one versioned JSON definition per kit in stackkits/, validated at load. */
export class StackKitCatalog {
  private constructor(private readonly kits: Map<string, StackKitDefinition>) {}

  static load(directory: string = DEFAULT_STACKKITS_DIR): StackKitCatalog {
    const kits = new Map<string, StackKitDefinition>();
    for (const file of readdirSync(directory).filter((f) => f.endsWith(".json")).sort()) {
      const source = readFileSync(join(directory, file), "utf8");
      const parsed = kitSchema.safeParse(JSON.parse(source));
      if (!parsed.success) throw new Error(`StackKit ${file} is invalid: ${parsed.error.message}`);
      if (kits.has(parsed.data.id)) throw new Error(`StackKit id ${parsed.data.id} is defined twice`);
      kits.set(parsed.data.id, { ...parsed.data, source, sha256: createHash("sha256").update(source).digest("hex") });
    }
    return new StackKitCatalog(kits);
  }

  all(): StackKitDefinition[] {
    return [...this.kits.values()];
  }

  find(id: string): StackKitDefinition | undefined {
    return this.kits.get(id);
  }
}

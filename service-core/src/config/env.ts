import { existsSync } from "node:fs";
import { z } from "zod";

/** Raised when the environment does not satisfy a service's configuration schema. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // One line per problem, so a single mistake reads as a single line.
    super(problems.map((problem) => `Invalid configuration: ${problem}`).join("\n"));
    this.name = "ConfigError";
  }
}

/** Loads `.env` from the working directory once; real environment variables win over it. */
export function loadDotEnv(path = ".env"): void {
  if (existsSync(path)) process.loadEnvFile(path);
}

/**
 * Parses the environment against a zod object schema whose keys are variable names.
 * Every problem names the variable and says what it expects, so start-up can fail with one clear message.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<Shape>> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    input[key] = value === "" ? undefined : value;
  }
  const result = z.object(shape).safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join(".");
    const got = input[variable];
    const expectation = descriptionOf(shape[variable] as z.ZodType | undefined) ?? issue.message;
    return got === undefined
      ? `${variable} is required: ${expectation}`
      : `${variable}=${JSON.stringify(got)} is invalid: ${expectation}`;
  });
  throw new ConfigError(problems);
}

/** The expectation text of a schema, looking through wrappers such as `.default()` and `.optional()`. */
function descriptionOf(schema: z.ZodType | undefined): string | undefined {
  let current: unknown = schema;
  while (current instanceof z.ZodType) {
    if (current.description) return current.description;
    const def = (current as unknown as { def: { innerType?: unknown; in?: unknown } }).def;
    current = def.innerType ?? def.in;
  }
  return undefined;
}

/** Runs an entry point's config parsing; on failure prints the problems and exits without a stack trace. */
export function configOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

export const envTypes = {
  port: (fallback: number) =>
    z.coerce.number().int().min(0).max(65535).default(fallback).describe("a TCP port number (0-65535)"),
  /** A port that must be known in advance (others connect to it), so 0 (“any free port”) is refused. */
  fixedPort: (fallback: number, max = 65535) =>
    z.coerce.number().int().min(1).max(max).default(fallback).describe(`a TCP port number (1-${max})`),
  url: () => z.url({ protocol: /^https?$/ }).describe("an http(s) URL"),
  postgresUrl: () =>
    z
      .string()
      .regex(/^postgres(ql)?:\/\/.+/)
      .describe("a PostgreSQL URL like postgres://user@127.0.0.1:5432/db"),
  boolean: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0"])
      .default(fallback ? "true" : "false")
      .transform((v) => v === "true" || v === "1")
      .describe("true or false"),
  /** DOCKER_HOST: a Docker engine's address; unset means the default socket. */
  dockerHost: () => z.string().regex(/^(unix|tcp):\/\/.+/).optional().describe("unix:///path/to/docker.sock or tcp://host:port"),
  nodeEnv: () =>
    z.enum(["development", "production", "test"]).default("development").describe("development, production or test"),
  logLevel: () =>
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("a pino log level"),
  pem: (what: string) =>
    z
      .string()
      .transform((v) => v.replace(/\\n/g, "\n"))
      .refine((v) => v.includes("-----BEGIN "), { message: `a PEM ${what}` })
      .describe(`a PEM-encoded ${what} (newlines may be written as \\n)`),
};

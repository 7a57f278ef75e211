export { ConfigError, configOrExit, envTypes, loadDotEnv, parseEnv } from "./env.js";

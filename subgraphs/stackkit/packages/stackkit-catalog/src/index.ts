export { DEFAULT_STACKKITS_DIR, StackKitCatalog, stackKitCatalogSettingsShape, type StackKitDefinition } from "./stackkit-catalog.js";

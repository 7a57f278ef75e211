import { isIP } from "node:net";
import { errors } from "@kombify/service-core/errors";
import type { NodeInput } from "./stack.type.js";

const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}[A-Za-z0-9]$|^[A-Za-z0-9]$/;
const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;
const ROLE = /^[a-z][a-z0-9-]{0,31}$/;
export const MAX_NODES_PER_STACK = 50;

function isHostname(value: string): boolean {
  return value.length <= 253 && value.split(".").every((label) => HOSTNAME_LABEL.test(label));
}

/** Validates createStack's input; every problem is BAD_USER_INPUT naming the field. */
export function validateNewStack(name: string, nodes: NodeInput[]): { name: string; nodes: NodeInput[] } {
  const trimmed = name.trim();
  if (!STACK_NAME.test(trimmed)) {
    throw errors.badInput("name", "must be 1 to 64 characters of letters, digits, space, '.', '_' or '-', starting and ending with a letter or digit.");
  }
  return { name: trimmed, nodes: validateNodes(nodes) };
}

/** Validates a stack's whole node list (new and existing), naming the offending field. */
export function validateNodes(nodes: NodeInput[]): NodeInput[] {
  if (nodes.length < 1 || nodes.length > MAX_NODES_PER_STACK) {
    throw errors.badInput("nodes", `must list 1 to ${MAX_NODES_PER_STACK} nodes.`);
  }
  const seen = new Set<string>();
  return nodes.map((node, index) => {
    const hostname = node.hostname.trim().toLowerCase();
    const address = node.address.trim();
    const role = (node.role ?? "worker").trim();
    if (!isHostname(hostname)) throw errors.badInput(`nodes[${index}].hostname`, "must be a valid hostname.");
    if (!isIP(address) && !isHostname(address)) throw errors.badInput(`nodes[${index}].address`, "must be an IP address or a hostname.");
    if (!ROLE.test(role)) throw errors.badInput(`nodes[${index}].role`, "must be 1 to 32 lower-case letters, digits or '-'.");
    if (seen.has(hostname)) throw errors.badInput(`nodes[${index}].hostname`, `"${hostname}" is listed twice.`);
    seen.add(hostname);
    return { hostname, address, role };
  });
}

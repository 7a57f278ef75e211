/**
 * What one operation may cost the gateway before it is refused, over HTTP and WebSockets alike. Dashboards'
 * and scripts' operations have hundreds of tokens; these bounds only stop documents built to exhaust memory.
 */

/** Tokens in one operation's text: parsing stops beyond it (`GRAPHQL_PARSE_FAILED`). */
export const MAX_OPERATION_TOKENS = 20_000;

/** Largest message a WebSocket client may send (ws closes the socket with 1009 beyond). */
export const MAX_WEBSOCKET_MESSAGE_BYTES = 1024 * 1024;

/** An operation text longer than this is parsed for each use rather than its document kept for reuse. */
export const MAX_REUSED_OPERATION_CHARS = 16 * 1024;

/**
 * Characters of operation text whose documents (and, separately, plans) are kept for reuse, in all. A document
 * weighs up to a hundred times its text, so this bounds each cache at a few tens of MB; real clients use a
 * few operations of a few KB.
 */
export const MAX_REUSED_OPERATIONS_CHARS = 256 * 1024;

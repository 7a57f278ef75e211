export { handleGraphQLHttp, HttpError, readBody, REQUEST_TIMEOUTS, sendGraphQLError, sendJson, settleUnreadBody } from "./graphql-http.js";
export { acceptedRequestId, REQUEST_ID_HEADER, requestIdOf } from "./request-id.js";

export { API_ERROR_CODES, AppError, ErrorCode, errorMessage, errors, RequestErrorCode, type ApiErrorCode } from "./app-error.js";
export { createErrorFormatter, isClientMistakeCode, isUnexpectedError, logUnexpectedErrors } from "./format-error.js";

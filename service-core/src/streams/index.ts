export { PushQueue } from "./push-queue.js";

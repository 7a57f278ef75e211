import { PassThrough } from "node:stream";
import { callEngine, type DockerEngine } from "./docker-engine.js";

/**
 * Runs `command` in a running container (`docker exec`), passing stdout and stderr chunks to `onOutput` as they
 * come, and resolves with its exit code. The engine records the exit code a moment after the output ends, so
 * it is polled for rather than read once.
 */
export async function execInContainer(
  engine: DockerEngine,
  containerId: string,
  command: string[],
  options: { onOutput?: (chunk: Buffer) => void; signal?: AbortSignal } = {},
): Promise<number> {
  const exec = await callEngine(engine, () => engine.docker.getContainer(containerId).exec({ Cmd: command, AttachStdout: true, AttachStderr: true, Tty: false }));
  const stream = await callEngine(engine, () => exec.start({ hijack: true, stdin: false }));
  const sink = new PassThrough().on("data", (chunk: Buffer) => options.onOutput?.(chunk));
  engine.docker.modem.demuxStream(stream, sink, sink);
  const signal = options.signal;
  const abort = () => stream.destroy(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason)));
  if (signal?.aborted) abort();
  signal?.addEventListener("abort", abort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on("end", resolve).on("close", resolve).on("error", reject);
    });
    signal?.throwIfAborted();
  } finally {
    signal?.removeEventListener("abort", abort);
  }
  for (let attempt = 0; ; attempt++) {
    const state = await exec.inspect();
    if (!state.Running && state.ExitCode !== null) return state.ExitCode;
    if (attempt >= 100) throw new Error(`the engine did not report how "${command.join(" ")}" ended`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

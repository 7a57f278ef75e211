import { createServer } from "node:net";

/** Fails with a one-line, actionable message when `port` is taken, before anything is started on it. */
export async function assertPortFree(port: number, host: string, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `Port ${port} is already in use (${variable}): stop what holds it, or set ${variable} to a free port.`
            : `Cannot listen on ${host}:${port} (${variable}): ${error.message}`,
        ),
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/**
 * A port free right now (for tests and benchmarks that start servers side by side, where a server's address must
 * be known before it starts). Taken at random below the kernel's ephemeral range (32768 and up on Linux), where
 * every server started on port 0 and every outgoing connection gets its port: one of those can no longer take
 * it between this answer and the server's listen.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * 22_000);
    if (await canListen(port)) return port;
  }
  throw new Error("No free port found between 10000 and 32000 after 50 tries.");
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export { waitForOk } from "@kombify/pocketbase-process";

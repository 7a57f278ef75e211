import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** `pid` and every process below it (a gateway that forks workers is measured whole). */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const current = tree[i]!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${current}/task/${task}/children`, "utf8").split(" ").filter(Boolean)) tree.push(Number(child));
      } catch {
        // The thread ended meanwhile.
      }
    }
  }
  return tree;
}

/** User plus system CPU seconds the process tree of `pid` has used so far (/proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      // Fields after the command name, which may hold spaces and parentheses: utime and stime are the 14th and 15th.
      const stat = readFileSync(`/proc/${member}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Gone meanwhile.
    }
  }
  return ticks / CLOCK_TICKS;
}

/** The process tree's peak resident memory so far (VmHWM, summed over its processes), in bytes. */
export function peakRssBytes(pid: number): number {
  let kilobytes = 0;
  for (const member of processTree(pid)) {
    try {
      kilobytes += Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${member}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return kilobytes * 1024;
}

/**
 * Seconds the main thread of each process in `pid`'s tree has spent runnable but waiting for a CPU
 * (/proc/<pid>/schedstat): how much other work on its core held it back.
 */
export function runQueueWaitSeconds(pid: number): number {
  let nanoseconds = 0;
  for (const member of processTree(pid)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${member}/schedstat`, "utf8").split(" ")[1]);
    } catch {
      // Gone meanwhile, or a kernel without scheduler statistics.
    }
  }
  return nanoseconds / 1e9;
}

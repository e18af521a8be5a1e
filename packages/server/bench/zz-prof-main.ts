import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 1000 });
setTimeout(() => void session.post("Profiler.start"), 4_000);
let written = false;
const dump = async () => {
  if (written) return;
  written = true;
  const { profile } = await session.post("Profiler.stop");
  writeFileSync("/tmp/prof/server.cpuprofile", JSON.stringify(profile));
};
setTimeout(() => void dump(), 14_000);
await import("../dist/main.js");

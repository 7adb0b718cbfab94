// Boots a machine from the compiled package (dist/) in a fresh process and prints how long it
// took, as JSON: the boot a user of the built package sees, without tsx. Usage:
//   node bench/boot/boot-probe.mjs <file URL of dist/machine/index.js> <cpus> <repeats>
const [url, cpusArg, repeatsArg] = process.argv.slice(2);
const { Machine } = await import(url);
const cpus = Number(cpusArg);
const times = [];
for (let i = 0; i < Number(repeatsArg ?? 3); i++) {
  const started = performance.now();
  const machine = await Machine.boot({ cpus });
  times.push(performance.now() - started);
  await machine.shutdown();
}
times.sort((a, b) => a - b);
process.stdout.write(`${JSON.stringify({ cpus, ms: times[Math.floor(times.length / 2)], all: times })}\n`);

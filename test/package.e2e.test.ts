/**
 * The package as a user gets it: `npm pack`, the tarball unpacked into temporary projects as
 * node_modules/tasklet-rt, and from there plain Node, tsx, tsc (NodeNext, skipLibCheck off), a
 * CommonJS project, and `npx tasklet-rt run` on modules in folders all over the disk.
 *
 * No network: where npm install would fetch the package's dependencies, each project links them
 * from this repository's node_modules (the same versions the lockfile installs), and links the
 * bins as npm does. The package itself is the unpacked tarball, nothing else of the repository.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distIsCurrent } from './helpers.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Each step is one process: boot a machine, compile, or pack; generous for a loaded 2-core host. */
const STEP_TIMEOUT_MS = 90_000;

interface Packed {
  filename: string;
  files: { path: string }[];
}

let work = '';
let tarball = '';
let packed: Packed;

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** One process, asynchronously: a test that blocked its worker this long would stall vitest. */
function run(command: string, args: string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, timeout: STEP_TIMEOUT_MS });
    const out: Outcome = { status: null, stdout: '', stderr: '' };
    child.stdout.on('data', (d) => {
      out.stdout += d;
    });
    child.stderr.on('data', (d) => {
      out.stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      out.status = code;
      resolve(out);
    });
  });
}

function write(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const link = (target: string, path: string): void => {
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path);
};

/** What `npm install tasklet-rt.tgz` leaves in `project`: the package, its dependencies, the bins. */
async function install(project: string): Promise<void> {
  const modules = join(project, 'node_modules');
  const self = join(modules, 'tasklet-rt');
  mkdirSync(self, { recursive: true });
  const untar = await run('tar', ['-xzf', tarball, '-C', self, '--strip-components=1'], project);
  expect(untar.status, untar.stderr).toBe(0);
  const manifest = JSON.parse(readFileSync(join(self, 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies))
    link(join(root, 'node_modules', dep), join(modules, dep));
  link(join(root, 'node_modules/@types/node'), join(modules, '@types/node')); // a TypeScript project has it
  for (const [name, bin] of Object.entries<string>(manifest.bin)) {
    chmodSync(join(self, bin), 0o755);
    link(join('..', 'tasklet-rt', bin), join(modules, '.bin', name));
  }
  link(join('..', 'tsx', 'dist', 'cli.mjs'), join(modules, '.bin', 'tsx'));
}

const MODULE = `import { defineModule, pr_info, shared_words, smp_processor_id } from 'tasklet-rt';

const boots = shared_words(1, 'boots'); // machine memory: only the runtime's own instance has it

export default defineModule({
  name: 'hello',
  init() {
    Atomics.add(boots, 0, 1);
    pr_info(\`hello from CPU\${smp_processor_id()}\`);
  },
});
`;

const NODENEXT = `${JSON.stringify(
  {
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      skipLibCheck: false,
      noEmit: true,
      types: ['node'],
    },
  },
  null,
  2,
)}\n`;

/** As in the README: boot, wait for the module's line, read /proc/softirqs. */
const BOOT_BODY = `const machine = await Machine.boot({
    cpus: 2,
    modules: [new URL('./hello.ts', import.meta.url)],
    onPrintk: (cpu, _level, text) => console.log(\`CPU\${cpu}: \${text}\`),
  });
  while (!machine.dmesg.some((line) => line.text.startsWith('hello'))) await machine.sleep(10);
  console.log(await machine.readProc('/proc/softirqs'));
  await machine.shutdown();`;

const ESM_APP = `import { Machine } from 'tasklet-rt/machine';

${BOOT_BODY.replaceAll('\n  ', '\n')}
`;

const TS_APP = `import { Machine, type MachineOptions } from 'tasklet-rt/machine';

const options: MachineOptions = { cpus: 2 };
${BOOT_BODY.replaceAll('\n  ', '\n').replace('cpus: 2,', '...options,')}
`;

/** CommonJS has no top-level await and no import.meta: an async main, and __dirname for the path. */
const CJS_APP = (load: string): string =>
  `const { join } = require('node:path');

async function main() {
  ${load}
  ${BOOT_BODY.replace("new URL('./hello.ts', import.meta.url)", "join(__dirname, 'hello.ts')")}
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

function expectBooted(result: Outcome): void {
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  expect(result.stdout).toMatch(/^CPU0: hello from CPU0$/m);
  expect(result.stdout).toMatch(/^ +CPU0 +CPU1 +$/m);
  expect(result.stdout).toMatch(/^ +TASKLET: +\d+ +\d+$/m);
}

/** `tsc -p` in the project (its tsconfig is NODENEXT): no error, no output at all. */
async function expectTypeChecks(project: string): Promise<void> {
  const tsc = await run(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'],
    project,
  );
  expect(tsc.stdout + tsc.stderr).toBe('');
  expect(tsc.status).toBe(0);
}

// Every test runs a process or two; the step timeout, not vitest's default, bounds them.
describe('the packed package', { timeout: 2 * STEP_TIMEOUT_MS }, () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tasklet-rt-package-'));
    // npm pack builds dist/ (prepare) unless it is already built from these sources.
    const scripts = (await distIsCurrent()) ? ['--ignore-scripts'] : [];
    const pack = await run('npm', ['pack', '--json', ...scripts, '--pack-destination', work], root);
    expect(pack.status, pack.stderr).toBe(0);
    packed = JSON.parse(pack.stdout)[0];
    tarball = join(work, packed.filename);
  }, 4 * STEP_TIMEOUT_MS);
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('ships the build, README, LICENSE and package.json, nothing else', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths.filter((p) => !p.startsWith('dist/'))).toEqual(
      expect.arrayContaining(['LICENSE', 'README.md', 'package.json']),
    );
    expect(paths.filter((p) => !p.startsWith('dist/')).length).toBe(3);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/kernel/index.js',
        'dist/kernel/index.d.ts',
        'dist/machine/index.js',
        'dist/machine/index.d.ts',
        'dist/cli/main.js',
        'dist/cpu/cpu-main.js',
        'dist/cpu/resolve-hook.mjs',
      ]),
    );
  });

  it('runs an example from a clone with the built CLI (npx tasklet-rt), though tsconfig maps tasklet-rt to the sources', async () => {
    // tsx applies the working directory's tsconfig paths; the CPU's own mapping must come first,
    // or the example loads a second runtime from the sources, attached to no machine.
    const r = await run(
      process.execPath,
      ['dist/cli/main.js', 'run', 'examples/hello.ts', '--duration', '300ms'],
      root,
    );
    expect(r.stdout, r.stderr).toMatch(/run: .* 0 oopses, 0 faults, /);
    expect(r.status).toBe(0);
  });

  describe('in an ES module project', () => {
    const project = (): string => join(work, 'app-esm');
    beforeAll(async () => {
      write(join(project(), 'package.json'), '{ "name": "app-esm", "private": true, "type": "module" }\n');
      await install(project());
      write(join(project(), 'hello.ts'), MODULE);
      write(join(project(), 'index.mjs'), ESM_APP);
      write(join(project(), 'index.ts'), TS_APP);
      write(join(project(), 'tsconfig.json'), NODENEXT);
    }, STEP_TIMEOUT_MS);

    it('boots a machine with a TypeScript module from plain JavaScript (node index.mjs)', async () => {
      expectBooted(await run(process.execPath, ['index.mjs'], project()));
    });

    it('runs the TypeScript version with npx tsx index.ts', async () => {
      expectBooted(await run('npx', ['--no', 'tsx', 'index.ts'], project()));
    });

    it('type-checks against the package with a NodeNext tsconfig, skipLibCheck off: 0 errors', async () => {
      await expectTypeChecks(project());
    });
  });

  describe('in a CommonJS project (npm init -y)', () => {
    const project = (): string => join(work, 'app-cjs');
    beforeAll(async () => {
      mkdirSync(project(), { recursive: true });
      const init = await run('npm', ['init', '-y'], project());
      expect(init.status, init.stderr).toBe(0);
      await install(project());
      write(join(project(), 'hello.ts'), MODULE);
      write(join(project(), 'index.js'), CJS_APP("const { Machine } = await import('tasklet-rt/machine');"));
      write(join(project(), 'require.js'), CJS_APP("const { Machine } = require('tasklet-rt/machine');"));
      write(join(project(), 'index.ts'), CJS_APP("const { Machine } = await import('tasklet-rt/machine');"));
      write(join(project(), 'tsconfig.json'), NODENEXT);
    }, STEP_TIMEOUT_MS);

    it('loads it with import() from CommonJS', async () => {
      expectBooted(await run(process.execPath, ['index.js'], project()));
    });

    it.runIf(process.features.require_module)(
      'loads it with require() where Node can require ES modules',
      async () => {
        expectBooted(await run(process.execPath, ['require.js'], project()));
      },
    );

    it('type-checks a CommonJS TypeScript file against it: 0 errors', async () => {
      await expectTypeChecks(project());
    });
  });

  describe('npx tasklet-rt run on modules anywhere on disk', () => {
    const app = (): string => join(work, 'cli-app');
    const elsewhere = (...parts: string[]): string => join(work, 'elsewhere', ...parts);
    beforeAll(async () => {
      write(join(app(), 'package.json'), '{ "name": "cli-app", "private": true }\n');
      await install(app());
      write(elsewhere('bare', 'hello.ts'), MODULE); // no package.json anywhere above
      write(elsewhere('bare', 'hello.mjs'), MODULE);
      write(elsewhere('bare', 'broken.ts'), "import { defineModule } from 'tasklet-rt';\nconst x = ;\n");
      write(elsewhere('esm', 'package.json'), '{ "type": "module" }\n');
      write(elsewhere('esm', 'hello.ts'), MODULE);
      // An npm init -y project with its own copy of tasklet-rt installed: the module must still
      // get the instance the CLI runs, or its shared_words would have no machine memory.
      mkdirSync(elsewhere('init'), { recursive: true });
      expect((await run('npm', ['init', '-y'], elsewhere('init'))).status).toBe(0);
      await install(elsewhere('init'));
      write(elsewhere('init', 'hello.ts'), MODULE);
    }, STEP_TIMEOUT_MS);

    const runModule = (file: string): Promise<Outcome> =>
      run('npx', ['--no', 'tasklet-rt', 'run', file, '--cpus', '2', '--duration', '300ms'], app());

    it.each([
      ['a TypeScript module with no package.json', ['bare', 'hello.ts']],
      ['a JavaScript module (.mjs)', ['bare', 'hello.mjs']],
      ['a module in a "type": "module" folder', ['esm', 'hello.ts']],
      ['a module in an npm init -y project with its own tasklet-rt', ['init', 'hello.ts']],
    ])('%s', async (_name, parts) => {
      const result = await runModule(elsewhere(...parts));
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
      expect(result.stdout).toMatch(/CPU0: hello from CPU0$/m);
      expect(result.stdout).toMatch(/^run: .* ran for the whole duration$/m);
    });

    it('names the file and line of a syntax error', async () => {
      const result = await runModule(elsewhere('bare', 'broken.ts'));
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^tasklet-rt: .*broken\.ts:2:\d+: syntax error: Unexpected ";"\n$/);
    });
  });
});

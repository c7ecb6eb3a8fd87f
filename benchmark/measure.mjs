// Runs a command and measures its wall time, CPU seconds (user+sys, all threads) and peak RSS.
//
// With GNU time (/usr/bin/time, Debian package `time`) the numbers come from wait4()'s rusage, which
// is exact. Without it (minimal images), the child's /proc/<pid>/stat and /proc/<pid>/status are
// polled every 10 ms (set FRAMECODEC_BENCH_NO_GNU_TIME=1 to force this): VmHWM is the kernel's own peak RSS so it is exact up to the last poll, and the
// CPU time may miss the last ≤ 10 ms. `method` in the result says which was used.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';

export const TIME_BIN = '/usr/bin/time';

export function hasGnuTime() {
  if (process.env.FRAMECODEC_BENCH_NO_GNU_TIME) return false; // to test the fallback
  try {
    fs.accessSync(TIME_BIN, fs.constants.X_OK);
    execFileSync(TIME_BIN, ['-f', '%M', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

let clkTck;
function ticksPerSecond() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

let seq = 0;
/**
 * spawnMeasured(cmd, args, { stdio }) → { child, done }: `child` is the ChildProcess (its stdin is
 * the command's stdin when stdio[0] is 'pipe'); `done` resolves to
 * { code, signal, wallS, cpuS, peakRssBytes, method, stderr }.
 */
export function spawnMeasured(cmd, args, { stdio = ['ignore', 'ignore', 'pipe'], useTime = hasGnuTime() } = {}) {
  const t0 = performance.now();
  let child;
  let timeOut;
  if (useTime) {
    timeOut = path.join(os.tmpdir(), `framecodec-bench-${process.pid}-${seq++}.time`);
    child = spawn(TIME_BIN, ['-f', '%e %U %S %M', '-o', timeOut, cmd, ...args], { stdio });
  } else {
    child = spawn(cmd, args, { stdio });
  }
  let stderr = '';
  child.stderr?.on('data', (d) => {
    if (stderr.length < 100_000) stderr += d;
  });

  // /proc polling (fallback)
  let last = { cpuS: 0, peakRssBytes: 0 };
  let timer;
  if (!useTime) {
    const pid = child.pid;
    const poll = () => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const cpuS = (Number(f[11]) + Number(f[12])) / ticksPerSecond(); // utime, stime (fields 14, 15)
        const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /VmHWM:\s+(\d+) kB/.exec(st);
        last = { cpuS, peakRssBytes: m ? Number(m[1]) * 1024 : last.peakRssBytes };
      } catch {
        // exited
      }
    };
    timer = setInterval(poll, 10);
  }

  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const wallS = (performance.now() - t0) / 1000;
      if (timer) clearInterval(timer);
      if (useTime) {
        let line = '';
        try {
          line = fs.readFileSync(timeOut, 'utf8').trim().split('\n').pop().trim();
        } catch {
          // missing: the command could not start
        }
        fs.rmSync(timeOut, { force: true });
        // GNU time writes "Command exited with non-zero status N" before the format line on failure.
        const [e, u, s, m] = line.split(/\s+/).map(Number);
        resolve({ code, signal, wallS, timeWallS: e, cpuS: u + s, peakRssBytes: m * 1024, method: 'gnu-time', stderr });
      } else {
        resolve({ code, signal, wallS, cpuS: last.cpuS, peakRssBytes: last.peakRssBytes, method: 'proc-poll', stderr });
      }
    });
  });
  return { child, done };
}

/** `--key value` / `--flag` arguments as an object (values are strings; bare flags are true). */
export function parseArgs(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) o[argv[i].slice(2)] = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true;
  }
  return o;
}

/**
 * The arguments every measuring script takes (`--rgb FILE --width W --height H --frames N --preset P
 * --out FILE`, the rest as given) as { a, width, height, n, preset }; prints `usage` and exits when
 * one is missing.
 */
export function measurementArgs(argv, usage) {
  const a = parseArgs(argv);
  const [width, height, n] = [Number(a.width), Number(a.height), Number(a.frames)];
  if (!a.rgb || !width || !height || !n || !a.out) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { a, width, height, n, preset: String(a.preset ?? 'ultrafast') };
}

/**
 * Runs a Node script in a fresh process and resolves with the JSON after its `RESULT ` line
 * (rejects with its stderr tail when it fails or prints none). `label` names it in errors.
 */
export function runNodeChild(scriptPath, args, label = path.basename(scriptPath)) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [scriptPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`${label} exited ${code}: ${err.trim().slice(-2000)}`));
      else resolve(JSON.parse(line.slice(7)));
    });
  });
}

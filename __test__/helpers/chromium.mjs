// A real player for the colour tests: Debian's `chromium`, headless, driven by puppeteer-core (which
// never downloads a browser). Videos are served from a local HTTP server, played by a <video> element,
// drawn onto a canvas and read back as sRGB pixels — what a user of Chromium sees.
import fs from 'node:fs';
import http from 'node:http';

/** The Chromium binary to use (CHROMIUM_PATH, else Debian's), or null when none is installed. */
export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/lib/chromium/chromium'];
  return candidates.find((p) => p && fs.existsSync(p)) ?? null;
}

/**
 * How far Chromium may show channel `channel` (0 R, 1 G, 2 B) of the source colour [r, g, b], measured on
 * Chromium 156: R and G within 3 levels; B within 3 + 0.06·|B − Y|, because Chromium's own BT.709
 * limited-range YUV→RGB scales B − Y by about 0.95 (see chromium.spec.mjs).
 */
export function chromiumTolerance([r, g, b], channel) {
  if (channel < 2) return 3;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return 3 + 0.06 * Math.abs(b - y);
}

/** Launch headless Chromium. As root it needs --no-sandbox; the GPU flags keep it quiet and software-only. */
export async function launchChromium(executablePath) {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath,
    headless: true, // puppeteer passes --headless=new
    protocolTimeout: 120_000,
    timeout: 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--autoplay-policy=no-user-gesture-required',
      '--no-first-run',
      '--log-level=3',
    ],
  });
}

/**
 * Serve `files` ({ '/name': { body: Buffer, type } }) on 127.0.0.1 at an ephemeral port, with single
 * byte ranges (media elements fetch and seek with them). Returns { origin, close }.
 */
export async function serve(files) {
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const { body, type } = file;
    const headers = { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' };
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      let start = range[1] ? Number(range[1]) : body.length - Number(range[2]);
      let end = range[1] && range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
      start = Math.max(0, start);
      if (start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${body.length}`, 'Content-Length': end - start + 1 });
      res.end(body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * In the page: play `src`, and for each time in `times` seek there, wait until the frame is shown
 * ('seeked', then requestVideoFrameCallback), draw it onto a canvas and return the mean RGB of a
 * small square at the centre (rounded), plus what Chromium says it supports.
 */
async function pageReadColors(src, times, box) {
  const v = document.createElement('video');
  v.muted = true;
  v.preload = 'auto';
  v.playsInline = true;
  document.body.append(v);
  await new Promise((resolve, reject) => {
    v.addEventListener('loadeddata', resolve, { once: true });
    v.addEventListener('error', () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), {
      once: true,
    });
    v.src = src;
  });
  const canvas = document.createElement('canvas');
  canvas.width = v.videoWidth;
  canvas.height = v.videoHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const out = [];
  let presentedByCallback = 0;
  for (const t of times) {
    const presented = new Promise((resolve) => v.requestVideoFrameCallback(() => resolve(true)));
    const seeked = new Promise((resolve) => v.addEventListener('seeked', resolve, { once: true }));
    v.currentTime = t;
    await seeked;
    // A paused video presents the sought frame after 'seeked'; the fallback only guards against a
    // callback that never comes (each colour spans several frames, so a neighbour has the same colour).
    const byCallback = await Promise.race([presented, new Promise((r) => setTimeout(() => r(false), 3000))]);
    if (byCallback) presentedByCallback++;
    ctx.drawImage(v, 0, 0);
    const x0 = Math.floor((v.videoWidth - box) / 2);
    const y0 = Math.floor((v.videoHeight - box) / 2);
    const d = ctx.getImageData(x0, y0, box, box).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += d[i + c];
    out.push(sum.map((s) => Math.round(s / (box * box))));
  }
  v.remove();
  return { colors: out, width: canvas.width, height: canvas.height, presentedByCallback };
}

/**
 * Open `url` (a video served by `serve`) in a new page of `browser` and read the centre colour at each
 * of `times` (seconds). Returns { colors: [[r, g, b], ...], width, height, presentedByCallback }.
 */
export async function readVideoColors(browser, origin, url, times, { box = 8 } = {}) {
  const page = await browser.newPage();
  try {
    page.setDefaultTimeout(60_000);
    await page.goto(`${origin}/index.html`, { waitUntil: 'load' });
    return await page.evaluate(pageReadColors, url, times, box);
  } finally {
    await page.close().catch(() => {});
  }
}

/** The page the videos are played in (same origin, so the canvas stays readable). */
export const INDEX_HTML = {
  body: Buffer.from('<!doctype html><html><head><meta charset="utf-8"><title>framecodec colours</title></head><body></body></html>'),
  type: 'text/html; charset=utf-8',
};

/**
 * Sets up an ava file's Chromium suite serving `files`: a server and a browser made before the tests and closed
 * after. Without Chromium the suite is one skipped test (`what` says what goes unchecked) — but in CI it fails.
 * Returns null when skipped, else an object whose `server` and `browser` are set once the tests run.
 */
export function chromiumSuite(test, files, what) {
  const chromium = findChromium();
  if (!chromium && !process.env.CI) {
    test.skip(`SKIPPED: no chromium installed (scripts/setup.sh installs it), ${what} not checked`, () => {});
    return null;
  }
  const suite = { server: null, browser: null };
  test.before(async () => {
    if (!chromium) throw new Error('CI: chromium is not installed (scripts/setup.sh installs it)');
    suite.server = await serve(files);
    suite.browser = await launchChromium(chromium);
  });
  test.after.always(async () => {
    await suite.browser?.close().catch(() => {});
    await suite.server?.close();
  });
  return suite;
}

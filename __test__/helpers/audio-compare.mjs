// Comparing decoded audio with its source: a stereo source that tells its channels apart, and the lag and
// correlation of a decode against it.

/**
 * `seconds` of stereo at `rate`, planar: a rising chirp (200 Hz → 4 kHz) on the left, a falling one (3 kHz → 300 Hz)
 * with a slow tremolo on the right. Neither repeats, so a lag is found without ambiguity, and they do not
 * correlate with each other, so swapped channels show.
 */
export function chirpAndTone(rate, seconds) {
  const count = Math.round(rate * seconds);
  const left = new Float32Array(count);
  const right = new Float32Array(count);
  const [f0, f1] = [200, 4000];
  for (let i = 0; i < count; i++) {
    const t = i / rate;
    left[i] = 0.5 * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds)));
    right[i] = (0.3 + 0.1 * Math.sin(2 * Math.PI * 1.5 * t)) * Math.sin(2 * Math.PI * (3000 * t - (2700 * t * t) / (2 * seconds)));
  }
  return { count, planes: [left, right] };
}

/** Pearson correlation of a[i] with b[i + lag] over their overlap. */
function correlationAt(a, b, lag) {
  const start = Math.max(0, -lag);
  const end = Math.min(a.length, b.length - lag);
  let [sa, sb, saa, sbb, sab] = [0, 0, 0, 0, 0];
  const n = end - start;
  if (n <= 0) return 0;
  for (let i = start; i < end; i++) {
    const x = a[i];
    const y = b[i + lag];
    sa += x;
    sb += y;
    saa += x * x;
    sbb += y * y;
    sab += x * y;
  }
  const cov = sab - (sa * sb) / n;
  const den = Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
  return den > 0 ? cov / den : 0;
}

/**
 * The lag (−maxLag..maxLag samples: `got` is late by lag) at which `got` best matches `source`, found on a coarse
 * grid then refined, and the correlation there.
 */
export function alignAndCorrelate(source, got, maxLag) {
  const excerpt = (a) => a.subarray(0, Math.min(a.length, 24000));
  const [s, g] = [excerpt(source), excerpt(got)];
  let best = { lag: 0, correlation: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag += 8) {
    const c = correlationAt(s, g, lag);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  for (let lag = best.lag - 8; lag <= best.lag + 8; lag++) {
    const c = correlationAt(s, g, lag);
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return { lag: best.lag, correlation: correlationAt(source, got, best.lag) };
}

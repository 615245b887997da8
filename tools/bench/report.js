'use strict';
// Turns the JSON lines of tools/run-bench.sh into a markdown table: per model, mfmc and peer medians with 1 and
// 2 threads, the speed-up (peer / mfmc), mfmc's GFLOP/s and its share of the fp32 peak.
const fs = require('fs');
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const cpu = lines.find((l) => l.cpu_ghz !== undefined) || {};
const rows = {};
for (const l of lines) {
  if (!l.model) continue;
  const r = rows[l.model] || (rows[l.model] = {});
  const key = `${l.runtime === 'mfmc' ? 'mfmc' : 'peer'}${l.requested_threads || l.threads}`;
  r[key] = l;
  if (l.runtime !== 'mfmc') r.peerName = l.runtime;
}
const f = (v, d = 2) => (v === undefined ? '—' : Number(v).toFixed(d));
const out = [];
out.push(`CPU: ${f(cpu.cpu_ghz, 2)} GHz nominal, fp32 peak ${f(cpu.peak_gflops_per_core, 1)} GFLOP/s per core `
  + '(2 FMA x 8 lanes x 2 flops x GHz). Medians in ms; speed-up = peer / mfmc at the same thread count.\n');
out.push('| model | GFLOP | peer | mfmc 1T | peer 1T | speed-up 1T | mfmc 2T | peer 2T | speed-up 2T | mfmc GFLOP/s 2T | share of 2-core peak |');
out.push('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [m, r] of Object.entries(rows)) {
  const s1 = r.mfmc1 && r.peer1 ? r.peer1.median_ms / r.mfmc1.median_ms : undefined;
  const s2 = r.mfmc2 && r.peer2 ? r.peer2.median_ms / r.mfmc2.median_ms : undefined;
  const peer2 = r.peer2 ? `${f(r.peer2.median_ms)}${r.peer2.threads !== 2 ? ' (1 thread)' : ''}` : '—';
  out.push(`| ${m} | ${f(r.mfmc1 && r.mfmc1.gflop, 3)} | ${r.peerName || '—'} | ${f(r.mfmc1 && r.mfmc1.median_ms)} | `
    + `${f(r.peer1 && r.peer1.median_ms)} | ${s1 ? `${f(s1, 1)}x` : '—'} | ${f(r.mfmc2 && r.mfmc2.median_ms)} | `
    + `${peer2} | ${s2 ? `${f(s2, 1)}x` : '—'} | ${f(r.mfmc2 && r.mfmc2.gflops, 1)} | `
    + `${r.mfmc2 && r.mfmc2.peak_share !== undefined ? `${f(100 * r.mfmc2.peak_share, 1)}%` : '—'} |`);
}
process.stdout.write(`${out.join('\n')}\n`);

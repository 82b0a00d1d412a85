#!/usr/bin/env node
// Side-by-side peer for the evidence benchmark: times @phala/dcap-qvl's
// verify(quote, collateral, nowSecs) on the same vectors and evaluation times
// Vouch's bench uses, and checks it reaches the same TCB status (a peer that
// disagrees is not a comparison). One JSON object per vector on stdout.
//
// Usage: node peer.js --data DIR [--seconds S] [--iters N] [--warmup N] VECTOR...
//   Each vector is timed for S seconds (default 3) or N calls (default 500),
//   whichever comes first, but at least 30 calls.
//   VECTOR is a record of scripts/vectors.sh: "ID|quote|collateral|now|expected",
//   paths relative to DIR.
'use strict';

const fs = require('fs');
const path = require('path');

const MIN_ITERS = 30;

function usage(msg) {
    process.stderr.write(`peer.js: ${msg}\n`);
    process.stderr.write('usage: node peer.js --data DIR [--seconds S] [--iters N] [--warmup N] ID|quote|collateral|now|expected ...\n');
    process.exit(2);
}

function parseArgs(argv) {
    const a = { data: null, seconds: 3, iters: 500, warmup: 20, vectors: [] };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) usage(`${k} needs a value`);
            return argv[++i];
        };
        if (k === '--data') a.data = next();
        else if (k === '--iters') a.iters = Number(next());
        else if (k === '--seconds') a.seconds = Number(next());
        else if (k === '--warmup') a.warmup = Number(next());
        else if (k.startsWith('--')) usage(`unknown option ${k}`);
        else a.vectors.push(k);
    }
    if (!a.data) usage('--data is required');
    if (!Number.isInteger(a.iters) || a.iters < MIN_ITERS) usage(`--iters must be an integer >= ${MIN_ITERS}`);
    if (!(a.seconds > 0)) usage('--seconds must be positive');
    if (!Number.isInteger(a.warmup) || a.warmup < 0) usage('--warmup must be a non-negative integer');
    if (a.vectors.length === 0) usage('no vectors given');
    return a;
}

function parseVector(rec, dataDir) {
    const f = rec.split('|');
    if (f.length !== 5) usage(`bad vector record: ${rec}`);
    const now = Number(f[3]);
    if (!Number.isInteger(now)) usage(`bad time in ${rec}`);
    return {
        id: f[0],
        quote: path.join(dataDir, f[1]),
        collateral: path.join(dataDir, f[2]),
        now,
        expected: f[4],
    };
}

function percentile(sorted, p) {
    const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
    return sorted[Math.max(0, idx)];
}

const round2 = (x) => Math.round(x * 100) / 100;

function elapsedUs(t0) {
    return Number(process.hrtime.bigint() - t0) / 1000;
}

function runVector(verify, v, maxIters, seconds, warmup) {
    const quote = fs.readFileSync(v.quote);
    // The peer gets the collateral already parsed into an object, as its API
    // takes it; re-reading the file per call would time Node's JSON parser.
    const collateral = JSON.parse(fs.readFileSync(v.collateral, 'utf8'));

    const check = (res) => {
        if (!res || res.status !== v.expected) {
            throw new Error(`peer status ${res && res.status}, expected ${v.expected}`);
        }
        return res.status;
    };

    // First call in this process: includes lazy compilation of the verifier
    // paths and the first parse of Intel's root, as a fresh process would pay.
    let t0 = process.hrtime.bigint();
    const status = check(verify(quote, collateral, v.now));
    const coldUs = elapsedUs(t0);

    for (let i = 0; i < warmup; i++) check(verify(quote, collateral, v.now));

    const samples = new Float64Array(maxIters);
    const budgetUs = seconds * 1e6;
    const tAll = process.hrtime.bigint();
    let iters = 0;
    while (iters < maxIters && (iters < MIN_ITERS || elapsedUs(tAll) < budgetUs)) {
        t0 = process.hrtime.bigint();
        const res = verify(quote, collateral, v.now);
        samples[iters++] = elapsedUs(t0);
        check(res);
    }
    const totalUs = elapsedUs(tAll);
    const sorted = Array.from(samples.subarray(0, iters)).sort((x, y) => x - y);
    const mean = sorted.reduce((s, x) => s + x, 0) / iters;
    return {
        bench: 'evidence',
        case: v.id,
        peer: '@phala/dcap-qvl',
        peer_version: require('@phala/dcap-qvl/package.json').version,
        peer_status: status,
        expected_status: v.expected,
        peer_mean_us: round2(mean),
        peer_p50_us: round2(percentile(sorted, 50)),
        peer_p99_us: round2(percentile(sorted, 99)),
        peer_first_call_us: round2(coldUs),
        peer_ops_per_s: round2((iters * 1e6) / totalUs),
        iters,
        node: process.version,
    };
}

function main() {
    const a = parseArgs(process.argv.slice(2));
    let verify;
    try {
        ({ verify } = require('@phala/dcap-qvl'));
    } catch (e) {
        process.stderr.write(`peer.js: cannot load @phala/dcap-qvl (run npm install in ${__dirname}): ${e.message}\n`);
        process.exit(1);
    }
    if (typeof verify !== 'function') {
        process.stderr.write('peer.js: @phala/dcap-qvl exports no verify()\n');
        process.exit(1);
    }
    let failed = false;
    for (const rec of a.vectors) {
        const v = parseVector(rec, a.data);
        try {
            const r = runVector(verify, v, a.iters, a.seconds, a.warmup);
            process.stdout.write(JSON.stringify(r) + '\n');
            process.stderr.write(
                `peer ${r.case.padEnd(4)} ${r.peer_status.padEnd(34)} mean ${(r.peer_mean_us / 1000).toFixed(2)} ms` +
                `  p50 ${(r.peer_p50_us / 1000).toFixed(2)} ms  p99 ${(r.peer_p99_us / 1000).toFixed(2)} ms` +
                `  first ${(r.peer_first_call_us / 1000).toFixed(1)} ms  (n=${r.iters})\n`);
        } catch (e) {
            process.stderr.write(`peer.js: ${v.id}: ${e.message}\n`);
            failed = true;
        }
    }
    process.exit(failed ? 1 : 0);
}

main();

'use strict';
// What every Node app of the interop suite shares: the request work, the
// fault controls, the probe and admin routes, and the command line.
//
// GET /work sleeps delay_ms, then answers 200, or 500 for every Nth request
// when the error share is 1/N (deterministic, so the true rates are exact).
// GET /admin?error_share=0.1&delay_ms=40 changes both at run time.
// /healthz and /ready answer 200. None of these but /work is instrumented.

const control = { errorShare: 0, delayMs: 20, served: 0 };

// Counts the request and tells whether it is one of the failing ones.
function nextRequestFails() {
  control.served += 1;
  if (control.errorShare <= 0) return false;
  const every = Math.max(1, Math.round(1 / control.errorShare));
  return control.served % every === 0;
}

// Plain Node callback doing the /work request: (req, res) of http or express.
function work(req, res) {
  const fail = nextRequestFails();
  setTimeout(() => {
    res.statusCode = fail ? 500 : 200;
    res.setHeader('Content-Type', 'text/plain');
    res.end(fail ? 'injected failure\n' : 'ok\n');
  }, control.delayMs);
}

function setControl(query) {
  if (query.error_share !== undefined && query.error_share !== null) {
    control.errorShare = Number(query.error_share);
  }
  if (query.delay_ms !== undefined && query.delay_ms !== null) {
    control.delayMs = Number(query.delay_ms);
  }
  return JSON.stringify({ error_share: control.errorShare, delay_ms: control.delayMs }) + '\n';
}

// Routes outside the instrumentation: /healthz, /ready, /admin.
// Returns true when it answered.
function serveControlRoutes(req, res) {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/healthz' || url.pathname === '/ready') {
    res.statusCode = 200;
    res.end('ok\n');
    return true;
  }
  if (url.pathname === '/admin') {
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(setControl(Object.fromEntries(url.searchParams)));
    return true;
  }
  return false;
}

// Express middleware form of serveControlRoutes.
function controlRoutes(req, res, next) {
  if (!serveControlRoutes(req, res)) next();
}

// --port N (required), --host (default 127.0.0.1)
function parseArgs(argv) {
  const args = { host: '127.0.0.1', port: 0 };
  for (let i = 2; i < argv.length; i += 2) {
    if (argv[i] === '--port') args.port = Number(argv[i + 1]);
    else if (argv[i] === '--host') args.host = argv[i + 1];
    else throw new Error('unknown argument ' + argv[i]);
  }
  if (!args.port) throw new Error('usage: node APP.js --port N [--host ADDR]');
  return args;
}

function listening(name, args) {
  return () => console.log(`${name} listening on ${args.host}:${args.port}`);
}

module.exports = { work, controlRoutes, serveControlRoutes, parseArgs, listening };

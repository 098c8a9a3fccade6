'use strict';
// express + express-prom-bundle with its defaults: one histogram
// http_request_duration_seconds{status_code} (no method, no path, no
// counter) plus the `up` gauge, served on /metrics by the bundle itself.
const express = require('express');
const promBundle = require('express-prom-bundle');
const common = require('./common');

const args = common.parseArgs(process.argv);
const app = express();

app.use(common.controlRoutes);
app.use(promBundle({}));
app.get('/work', common.work);

app.listen(args.port, args.host, common.listening('express-prom-bundle', args));

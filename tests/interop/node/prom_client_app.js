'use strict';
// express + prom-client, written the way prom-client's docs and most teams
// write it: a Counter http_requests_total and a Histogram
// http_request_duration_seconds, both labelled {method, route, status_code},
// recorded by one middleware when the response finishes; /metrics serves
// the default registry.
const express = require('express');
const client = require('prom-client');
const common = require('./common');

client.collectDefaultMetrics();

const httpRequestsTotal = new client.Counter({
  name: 'http_requests_total',
  help: 'Total number of HTTP requests',
  labelNames: ['method', 'route', 'status_code'],
});

const httpRequestDuration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status_code'],
});

function metricsMiddleware(req, res, next) {
  const end = httpRequestDuration.startTimer();
  res.on('finish', () => {
    const labels = {
      method: req.method,
      route: req.route ? req.route.path : req.path,
      status_code: res.statusCode,
    };
    httpRequestsTotal.inc(labels);
    end(labels);
  });
  next();
}

const args = common.parseArgs(process.argv);
const app = express();

app.use(common.controlRoutes);
app.get('/metrics', async (req, res) => {
  res.set('Content-Type', client.register.contentType);
  res.end(await client.register.metrics());
});
app.use(metricsMiddleware);
app.get('/work', common.work);

app.listen(args.port, args.host, common.listening('prom-client', args));

'use strict';
// OpenTelemetry JS: the SDK's MeterProvider, the Prometheus exporter (its
// own request handler serves /metrics) and the real http instrumentation,
// which records the server duration histogram of every incoming request.
//
//   --generation legacy   exporter-prometheus / instrumentation-http 0.52.1
//                         (sdk-metrics 1.25.1): old semantic conventions,
//                         http.server.duration in milliseconds
//   --generation stable   0.223.0 (sdk-metrics 2.12.0): stable semantic
//                         conventions only (since 0.222.0; 0.54.0 to 0.220.0
//                         had them behind OTEL_SEMCONV_STABILITY_OPT_IN=http),
//                         http.server.request.duration in seconds
//
// The instrumentation must be registered before `http` is loaded.
const GENERATIONS = {
  legacy: {
    sdk: 'otel-legacy-sdk-metrics',
    exporter: 'otel-legacy-exporter-prometheus',
    instrumentation: 'otel-legacy-instrumentation',
    http: 'otel-legacy-instrumentation-http',
  },
  stable: {
    sdk: '@opentelemetry/sdk-metrics',
    exporter: '@opentelemetry/exporter-prometheus',
    instrumentation: '@opentelemetry/instrumentation',
    http: '@opentelemetry/instrumentation-http',
  },
};

function takeGeneration(argv) {
  const i = argv.indexOf('--generation');
  if (i < 0 || !GENERATIONS[argv[i + 1]]) {
    throw new Error('usage: node otel_app.js --generation legacy|stable --port N');
  }
  const name = argv[i + 1];
  argv.splice(i, 2);
  return name;
}

const generation = takeGeneration(process.argv);
const pkg = GENERATIONS[generation];

const { MeterProvider } = require(pkg.sdk);
const { PrometheusExporter } = require(pkg.exporter);
const { registerInstrumentations } = require(pkg.instrumentation);
const { HttpInstrumentation } = require(pkg.http);

const exporter = new PrometheusExporter({ preventServerStart: true });
const meterProvider = new MeterProvider({ readers: [exporter] });
// Only /work is request traffic; probes, admin and scrapes are not recorded.
registerInstrumentations({
  meterProvider,
  instrumentations: [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => !req.url.startsWith('/work') }),
  ],
});

const http = require('http');
const common = require('./common');

const args = common.parseArgs(process.argv);
const server = http.createServer((req, res) => {
  if (common.serveControlRoutes(req, res)) return;
  if (req.url.startsWith('/metrics')) {
    exporter.getMetricsRequestHandler(req, res);
    return;
  }
  if (req.url.startsWith('/work')) {
    common.work(req, res);
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});
server.listen(args.port, args.host, common.listening(`otel-${generation}`, args));

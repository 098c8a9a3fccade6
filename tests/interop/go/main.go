// Go app of the interop suite, instrumented with client_golang the
// standard way: promhttp.InstrumentHandlerDuration around
// promhttp.InstrumentHandlerCounter around the handler, with the labels
// code and method; promhttp.Handler serves /metrics (default registry,
// with the Go and process collectors).
//
// Built in GOPATH mode against Debian's golang-github-prometheus-client-golang-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o app main.go
//
//	GET /work     sleeps delay_ms, then 200, or 500 for every Nth request
//	              when the error share is 1/N
//	GET /admin?error_share=0.1&delay_ms=40, /healthz, /ready: not instrumented
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "Total number of HTTP requests by status code and method.",
	}, []string{"code", "method"})
	duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "http_request_duration_seconds",
		Help:    "HTTP request latency in seconds.",
		Buckets: prometheus.DefBuckets,
	}, []string{"code", "method"})
)

// control holds the fault controls and counts /work requests.
type control struct {
	mu         sync.Mutex
	errorShare float64
	delayMs    float64
	served     uint64
}

func (c *control) next() (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.served++
	fails := false
	if c.errorShare > 0 {
		every := uint64(math.Max(1, math.Round(1/c.errorShare)))
		fails = c.served%every == 0
	}
	return fails, time.Duration(c.delayMs * float64(time.Millisecond))
}

func (c *control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.mu.Lock()
	if v, err := strconv.ParseFloat(q.Get("error_share"), 64); err == nil {
		c.errorShare = v
	}
	if v, err := strconv.ParseFloat(q.Get("delay_ms"), 64); err == nil {
		c.delayMs = v
	}
	state := map[string]float64{"error_share": c.errorShare, "delay_ms": c.delayMs}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(state)
}

func workHandler(c *control) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fails, delay := c.next()
		time.Sleep(delay)
		if fails {
			http.Error(w, "injected failure", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}

func ok(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintln(w, "ok")
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to listen on")
	port := flag.Int("port", 0, "port to listen on")
	flag.Parse()
	if *port == 0 {
		log.Fatal("usage: app --port N [--host ADDR]")
	}
	prometheus.MustRegister(requests, duration)
	c := &control{delayMs: 20}

	mux := http.NewServeMux()
	mux.Handle("/work", promhttp.InstrumentHandlerDuration(duration,
		promhttp.InstrumentHandlerCounter(requests, workHandler(c))))
	mux.Handle("/metrics", promhttp.Handler())
	mux.Handle("/admin", c)
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/ready", ok)

	addr := fmt.Sprintf("%s:%d", *host, *port)
	fmt.Printf("go client_golang listening on %s\n", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}

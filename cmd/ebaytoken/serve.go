package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/console"
	"github.com/ebayauth/ebayauth/ebayprom"
	"github.com/ebayauth/ebayauth/webhook"
)

// Environment variables of serve only.
const (
	envListen        = "EBAY_LISTEN"
	envWebhook       = "EBAY_WEBHOOK_URL"    // space- or comma-separated
	envWebhookSecret = "EBAY_WEBHOOK_SECRET" // or --webhook-secret-file; no flag: flags show in ps
)

// maxSecretFile bounds the size of --webhook-secret-file.
const maxSecretFile = 64 << 10

// Daily mint limits eBay sets, reported by the metrics.
const (
	applicationMintLimit = 1000
	userMintLimit        = 50000
)

// shutdownGrace bounds a graceful shutdown: HTTP connections, then alerts
// still queued.
const shutdownGrace = 3 * time.Second

// defaultHTTPLimits are serve's HTTP limits. Its clients send small GETs
// (/healthz, /metrics, /status) and get small, quick answers; a slow or
// idle client must not hold a connection or a goroutine for long.
var defaultHTTPLimits = httpLimits{
	readHeader: 5 * time.Second,
	read:       10 * time.Second,
	// WriteTimeout runs from the end of the request's headers to the end
	// of the answer, whole. An endpoint that streams (server-sent events,
	// a long poll) would be cut after it: such a handler must lift the
	// deadline for its own responses with
	// http.NewResponseController(w).SetWriteDeadline(time.Time{}) (and
	// bound its stream itself), not raise the limit for every endpoint.
	write:          30 * time.Second,
	idle:           60 * time.Second,
	maxHeaderBytes: 32 << 10,
}

// newHTTPServer returns serve's HTTP server, with the limits l (zero:
// defaultHTTPLimits).
func newHTTPServer(h http.Handler, log *slog.Logger, l httpLimits) *http.Server {
	if l == (httpLimits{}) {
		l = defaultHTTPLimits
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.readHeader,
		ReadTimeout:       l.read,
		WriteTimeout:      l.write,
		IdleTimeout:       l.idle, // else an idle keep-alive connection stays open for good
		MaxHeaderBytes:    l.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// serveOptions are serve's own flags, and its HTTP limits.
type serveOptions struct {
	listen            string
	webhooks          []string
	webhookSecretFile string
	consoleSecretFile string
	source            string
	rtCheckEvery      time.Duration
	limits            httpLimits // zero: defaultHTTPLimits; no flag, tests set it
	accounts          serveAccountsOptions
}

// httpLimits bound what a client of serve's HTTP server may take: time to
// send its request, to read the answer, to stay idle between requests,
// and header bytes.
type httpLimits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

func serveFlags(fs *flag.FlagSet, c *call) {
	o := &c.serve
	fs.StringVar(&o.listen, "listen", "", "HTTP `address` for /healthz, /metrics and /status (default 127.0.0.1:8080; "+envListen+")")
	fs.Func("webhook", "POST alerts to `URL` (repeatable; "+envWebhook+")", func(s string) error {
		o.webhooks = append(o.webhooks, s)
		return nil
	})
	fs.StringVar(&o.webhookSecretFile, "webhook-secret-file", "", "sign alerts with HMAC-SHA256 under the secret in this `file` (or "+envWebhookSecret+")")
	fs.Var(&removedFlag{why: "flags show in ps; set " + envWebhookSecret + " or use --webhook-secret-file PATH"}, "webhook-secret", "")
	fs.StringVar(&o.consoleSecretFile, "console-secret-file", "", "the console at / asks for the secret in this `file` (or "+envConsoleSecret+"); required beyond loopback")
	fs.StringVar(&o.source, "source", "", "`name` of this instance in alerts (default: the host name)")
	fs.DurationVar(&o.rtCheckEvery, "refresh-token-check", 24*time.Hour, "how `often` to check whether the refresh token expires within 30 days")
	serveAccountsFlags(fs, &o.accounts)
}

// cmdServe is the daemon: it keeps the token fresh (Manager.Run: refresh at
// the proactive point and at least every refresh interval, validate every
// validation interval), writes it to the shared store, serves health,
// metrics and status over HTTP, and alerts webhooks. It runs until ctx ends.
func cmdServe(ctx context.Context, c *call) error {
	level := slog.LevelInfo
	if c.verbose() {
		level = slog.LevelDebug
	}
	log := slog.New(newJSONHandler(c.stderr, level))
	c.log = log
	for _, n := range c.s.notes {
		log.Warn("ebaytoken: " + n)
	}
	o := c.serve
	listenFrom := "--listen"
	if o.listen == "" {
		o.listen, listenFrom = os.Getenv(envListen), envListen
	}
	if o.listen == "" {
		o.listen, listenFrom = "127.0.0.1:8080", "the default listen address"
	}
	if err := checkListen(o.listen); err != nil {
		return usagef("%s: %v", listenFrom, err)
	}
	if len(o.webhooks) == 0 {
		o.webhooks = strings.FieldsFunc(os.Getenv(envWebhook), func(r rune) bool { return r == ' ' || r == ',' })
	}
	secret, from, err := o.webhookSecret(log)
	if err != nil {
		return err
	}
	if secret != "" && len(o.webhooks) == 0 {
		return usagef("%s: no --webhook to sign for", from)
	}
	if o.rtCheckEvery <= 0 {
		return usagef("--refresh-token-check: must be positive")
	}
	accts, err := c.serveSellers(ctx, log) // --accounts: serve's own token becomes the application token
	if err != nil {
		return err
	}
	defer accts.Close()
	consoleSecret, err := o.consoleSecret(log)
	if err != nil {
		return err
	}

	limit := applicationMintLimit
	if c.s.RefreshToken != "" {
		limit = userMintLimit
	}
	collector := ebayprom.NewCollector(ebayprom.WithDailyMintLimit(limit))
	recorder := console.NewRecorder(console.RecorderConfig{})
	hooks := []func(ebayauth.Event){collector.Observe, recorder.Observe}
	var notifier *webhook.Notifier
	if len(o.webhooks) > 0 {
		opts := []webhook.Option{webhook.WithLogger(log)}
		if secret != "" {
			opts = append(opts, webhook.WithSecret([]byte(secret)))
		}
		if o.source != "" {
			opts = append(opts, webhook.WithSource(o.source))
		}
		n, err := webhook.New(o.webhooks, opts...)
		if err != nil { // its message shows no more of a URL than its scheme and host
			return usagef("--webhook: %v", err)
		}
		notifier = n
		hooks = append(hooks, n.Notify)
	}
	closeNotifier := func() {
		if notifier == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := notifier.Close(ctx); err != nil {
			log.Warn("ebaytoken: alerts still queued at shutdown were dropped", slog.String("error", err.Error()))
		}
		for _, w := range webhookDocs(notifier) {
			log.Info("ebaytoken: webhook deliveries", slog.String("receiver", w.Receiver), slog.Int64("sent", w.Sent),
				slog.Int64("failed", w.Failed), slog.Int64("dropped", w.Dropped))
		}
	}

	ss, err := c.open(hooks...)
	if err != nil {
		closeNotifier()
		return err
	}
	// Sellers' Managers report to the same metrics, console and alerts.
	sellerHook := ebayauth.TeeEvents(hooks...)
	c.sellerEvents.Store(&sellerHook)
	con, err := newConsole(ss, accts, recorder, consoleSecret, log)
	if err != nil {
		ss.Close()
		closeNotifier()
		return err
	}
	collector.SetStatus(ss.m.Status)
	reg := metricsRegistry(collector)

	mux := serveMux(ss, reg, notifier, con)
	if err := accts.mount(mux, ss.m.Client(), recorder); err != nil {
		ss.Close()
		closeNotifier()
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		ss.Close()
		closeNotifier()
		return listenError(listenFrom, o.listen, err)
	}
	accts.setPublic(ln.Addr().String())
	srv := newHTTPServer(mux, log, o.limits)
	log.Info("ebaytoken: serving",
		slog.String("addr", "http://"+ln.Addr().String()),
		slog.String("environment", c.s.environmentName()),
		slog.String("client_id", ss.m.Status().ClientID),
		slog.String("kind", ss.m.Status().Kind),
		slog.String("store", ss.m.Status().Store),
		slog.Bool("scheduled_refresh", c.s.RefreshEnabled),
		slog.Any("webhooks", webhookNames(o.webhooks)))

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	serveErr := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
	})
	if !c.s.RefreshEnabled {
		log.Info("ebaytoken: scheduled refresh is off (" + envRefreshEnabled + "=false): serve validates the shared token and mints only when it has none")
	}
	wg.Go(func() { _ = ss.m.Run(runCtx) })
	wg.Go(func() { watchRefreshToken(runCtx, ss.m, notifier, log, o.rtCheckEvery) })

	var failure error
	select {
	case <-ctx.Done():
		log.Info("ebaytoken: shutting down")
	case err := <-serveErr:
		failure = &exitError{code: exitFailure, msg: "HTTP server: " + err.Error()}
		log.Error("ebaytoken: HTTP server failed", slog.String("error", err.Error()))
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	if err := srv.Shutdown(shutCtx); err != nil {
		srv.Close()
	}
	cancel()
	stop()
	wg.Wait()
	ss.Close()
	closeNotifier()
	log.Info("ebaytoken: stopped")
	return failure
}

// metricsRegistry is what /metrics exports: the Manager's collector and
// the standard Go runtime and process collectors, go_* and process_*.
func metricsRegistry(c prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// webhookSecret returns the secret that signs alerts and where it came
// from: --webhook-secret-file, else EBAY_WEBHOOK_SECRET. A file holds the
// secret alone, the end of its last line aside. The secret has no flag:
// ps shows flags to every user.
func (o *serveOptions) webhookSecret(log *slog.Logger) (secret, from string, err error) {
	env := os.Getenv(envWebhookSecret)
	if o.webhookSecretFile == "" {
		return env, envWebhookSecret, nil
	}
	const name = "--webhook-secret-file"
	if len(o.webhooks) == 0 {
		return "", name, usagef("%s: no --webhook to sign for", name)
	}
	f, err := os.Open(o.webhookSecretFile)
	if err != nil {
		return "", name, usagef("%s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", name, usagef("%s: %v", name, err)
	case len(b) > maxSecretFile:
		return "", name, usagef("%s %s: larger than %d KiB: not a secret", name, o.webhookSecretFile, maxSecretFile>>10)
	}
	secret = strings.TrimRight(string(b), "\r\n")
	if secret == "" {
		return "", name, usagef("%s: the file is empty", name)
	}
	if env != "" && env != secret {
		log.Warn("ebaytoken: " + name + " and " + envWebhookSecret + " disagree; using " + name)
	}
	return secret, name, nil
}

// webhookNames names the webhooks for logs by scheme and host only: a
// webhook URL often carries a token in its path or query.
func webhookNames(urls []string) []string {
	names := make([]string, len(urls))
	for i, u := range urls {
		names[i] = webhook.RedactURL(u)
	}
	return names
}

// webhookDoc is what /status says of a webhook.
type webhookDoc struct {
	Receiver  string `json:"receiver"` // scheme and host only
	Sent      int64  `json:"sent"`
	Failed    int64  `json:"failed"`
	Dropped   int64  `json:"dropped"`
	Queued    int    `json:"queued"`
	LastError string `json:"last_error,omitempty"` // shows the URL's scheme and host only
}

// webhookDocs reports n's deliveries per webhook; nil if n is nil.
func webhookDocs(n *webhook.Notifier) []webhookDoc {
	if n == nil {
		return nil
	}
	var docs []webhookDoc
	for _, st := range n.ReceiverStats() {
		d := webhookDoc{Receiver: st.Receiver, Sent: st.Sent, Failed: st.Failed, Dropped: st.Dropped, Queued: st.Queued}
		if st.LastError != nil {
			d.LastError = st.LastError.Error()
		}
		docs = append(docs, d)
	}
	return docs
}

// watchRefreshToken alerts when the refresh token expires within 30 days:
// at start, then every interval while it does.
func watchRefreshToken(ctx context.Context, m *ebayauth.Manager, n *webhook.Notifier, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if st := m.Status(); st.RefreshTokenExpiring {
			days := int(time.Until(st.RefreshTokenExpiry).Hours() / 24)
			msg := fmt.Sprintf("the eBay refresh token expires in %d days: the seller must consent again (ebaytoken consent-url, ebaytoken exchange)", days)
			log.Warn("ebaytoken: "+msg, slog.Time("refresh_token_expiry", st.RefreshTokenExpiry))
			if n != nil {
				n.Alert("refresh_token_expiring", msg, map[string]any{
					"refresh_token_expiry": st.RefreshTokenExpiry.UTC(),
					"days_left":            days,
					"client_id":            st.ClientID,
				})
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// healthDoc is the body of /healthz.
type healthDoc struct {
	Healthy     bool           `json:"healthy"`
	State       ebayauth.State `json:"state"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Expiry      time.Time      `json:"expiry,omitzero"`
	ExpiresIn   int64          `json:"expires_in"`
	Fallback    bool           `json:"fallback,omitempty"`
	Reason      string         `json:"reason,omitempty"`
}

func serveMux(ss *session, reg *prometheus.Registry, notifier *webhook.Notifier, con http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := ss.m.Status()
		d := healthDoc{Healthy: st.Healthy, State: st.State, Fingerprint: st.Fingerprint, Expiry: st.Expiry,
			ExpiresIn: st.ExpiresIn, Fallback: st.State == ebayauth.StateFallback}
		code := http.StatusOK
		if !st.Healthy {
			code = http.StatusServiceUnavailable
			d.Reason = unhealthyReason(st)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = writeJSON(w, d)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		// Other processes may have minted or validated since: the shared
		// record says so.
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		_ = ss.m.Sync(ctx)
		cancel()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		d := ss.status("process")
		d.Webhooks = webhookDocs(notifier)
		d.Accounts = ss.c.accountsSummary(r.Context())
		_ = writeJSON(w, d)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(ss.c.log.Handler(), slog.LevelWarn)}))
	mux.Handle("/", con) // the token console
	return mux
}

// unhealthyReason says why st is not healthy.
func unhealthyReason(st ebayauth.Status) string {
	var why string
	switch st.State {
	case ebayauth.StateNone:
		why = "no token yet"
	case ebayauth.StateExpired:
		why = "the token has expired"
	case ebayauth.StateRejected:
		why = "eBay refused the token; it is being replaced"
	default:
		why = "no valid token"
	}
	if st.LastError != "" {
		why += "; last refresh error: " + st.LastError
	}
	if !st.StoreHealthy {
		why += "; the token store is unavailable"
	}
	return why
}

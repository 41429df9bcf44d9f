package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ebayauth/ebayauth"
)

// outageBody is what the fake token endpoint answers during the outage.
const outageBody = `{"error":"temporarily_unavailable","error_description":"The service is temporarily unavailable"}`

// outage: the token endpoint answers 503 for p.outageShare of a token
// lifetime, starting inside the refresh window: p.tokenLatency/3 after
// ebayauth's refresh point, so its first background refresh, already on
// the wire, is answered 503; for x/oauth2 at the same distance from expiry.
// The run goes on p.outageTail past the outage to see the recovery.
func outage(ctx context.Context, p params) ([]row, error) {
	const name = "outage"
	dur := time.Duration(p.outageShare * float64(p.lifetime))

	// during runs the load from now until the outage, which starts at
	// outageStart, has ended and p.outageTail has passed.
	during := func(f *fake, rt http.RoundTripper, expiry, outageStart time.Time) (*loadResult, int, string) {
		t1 := time.AfterFunc(time.Until(outageStart), func() { f.FailNext(-1, http.StatusServiceUnavailable, outageBody) })
		t2 := time.AfterFunc(time.Until(outageStart.Add(dur)), f.ClearFailures)
		defer t1.Stop()
		defer t2.Stop()
		reqs := f.TotalTokenRequests()
		r := drive(ctx, p, rt, f.URL+searchPath, time.Until(outageStart.Add(dur+p.outageTail)))
		reqs = f.TotalTokenRequests() - reqs
		rel := func(t time.Time) string { return fmt.Sprintf("%+.1f s", t.Sub(outageStart).Seconds()) }
		what := fmt.Sprintf("503s for %v from %.1f s before expiry", dur, expiry.Sub(outageStart).Seconds())
		if r.failed > 0 {
			what += fmt.Sprintf("; failures from %s to %s after the outage began", rel(r.firstFail), rel(r.lastFail))
		}
		return r, reqs, what
	}

	withManager := func(client string, fallback bool) func() (row, error) {
		return func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			var fb string
			if fallback {
				var err error
				if fb, err = f.longLivedToken(p.lifetime); err != nil {
					return row{}, err
				}
			}
			m, err := f.manager(p, func(c *ebayauth.Config) { c.FallbackToken = fb })
			if err != nil {
				return row{}, err
			}
			defer m.Close()
			if _, err := m.Token(ctx); err != nil {
				return row{}, err
			}
			st := m.Status()
			before := f.mints()
			r, reqs, what := during(f, m.Transport(f.base), st.Expiry, st.RefreshAt.Add(p.tokenLatency/3))
			logFailures(p, "outage "+client, r)
			out := latencyRow(name, client, r, f.mints()-before)
			c := m.Status().Counters
			out.result = fmt.Sprintf("%s; %d token requests, %d fallback uses", what, reqs, c.FallbackUses)
			return out, nil
		}
	}
	return runRows(p,
		withManager("ebayauth", false),
		withManager("ebayauth + FallbackToken", true),
		func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			tr := f.oauth2Transport(p)
			tok, err := tr.Source.Token()
			if err != nil {
				return row{}, err
			}
			before := f.mints()
			r, reqs, what := during(f, tr, tok.Expiry, tok.Expiry.Add(-p.refreshBefore+p.tokenLatency/3))
			logFailures(p, "outage oauth2", r)
			out := latencyRow(name, "x/oauth2", r, f.mints()-before)
			out.result = fmt.Sprintf("%s; %d token requests", what, reqs)
			return out, nil
		},
	)
}

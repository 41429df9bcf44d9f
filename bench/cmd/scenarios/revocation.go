package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ebayauth/ebayauth/ebaytest"
)

// revocation: eBay revokes the live token p.revokeAt into a run of
// p.revocationFor (tokens otherwise live eBay's two hours).
func revocation(ctx context.Context, p params) ([]row, error) {
	const name = "revocation"
	result := func(r *loadResult, start time.Time) string {
		if r.failed == 0 {
			return fmt.Sprintf("token revoked at +%v; no request failed", p.revokeAt)
		}
		return fmt.Sprintf("token revoked at +%v; failures from +%.1f s to +%.1f s (end of run)",
			p.revokeAt, r.firstFail.Sub(start).Seconds(), r.lastFail.Sub(start).Seconds())
	}
	return runRows(p,
		func() (row, error) {
			f := newFake(ebaytest.DefaultTokenLifetime, p.tokenLatency)
			defer f.Close()
			m, err := f.manager(p, nil)
			if err != nil {
				return row{}, err
			}
			defer m.Close()
			if _, err := m.Token(ctx); err != nil {
				return row{}, err
			}
			before := f.mints()
			start := time.Now()
			t := time.AfterFunc(p.revokeAt, f.RevokeAll)
			defer t.Stop()
			r := drive(ctx, p, m.Transport(f.base), f.URL+searchPath, p.revocationFor)
			logFailures(p, "revocation ebayauth", r)
			out := latencyRow(name, "ebayauth", r, f.mints()-before)
			out.result = result(r, start) + fmt.Sprintf("; %d 401s healed", m.Status().Counters.Retries401)
			return out, nil
		},
		func() (row, error) {
			f := newFake(ebaytest.DefaultTokenLifetime, p.tokenLatency)
			defer f.Close()
			tr := f.oauth2Transport(p)
			if _, err := tr.Source.Token(); err != nil {
				return row{}, err
			}
			before := f.mints()
			start := time.Now()
			t := time.AfterFunc(p.revokeAt, f.RevokeAll)
			defer t.Stop()
			r := drive(ctx, p, tr, f.URL+searchPath, p.revocationFor)
			logFailures(p, "revocation oauth2", r)
			out := latencyRow(name, "x/oauth2", r, f.mints()-before)
			out.result = result(r, start) + "; it keeps the revoked token until it expires"
			return out, nil
		},
	)
}

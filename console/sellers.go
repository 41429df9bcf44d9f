package console

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ebayauth/ebayauth"
)

// The filters of the sellers table (the state query parameter).
const (
	FilterAll          = ""
	FilterNeedsConsent = "needs_consent" // eBay refused the refresh token (Account.NeedsConsent)
	FilterExpiring     = "expiring"      // the refresh token expires within 30 days, or has
	FilterFailing      = "failing"       // the last refresh or validation this process saw failed
)

var filters = []struct{ value, label string }{
	{FilterAll, "All sellers"},
	{FilterNeedsConsent, "Needs consent"},
	{FilterExpiring, "Refresh token expiring"},
	{FilterFailing, "Failing"},
}

// listQuery is what the sellers table shows: the page after a cursor,
// filtered by state and searched by id or user name.
type listQuery struct {
	After string `json:"after,omitempty"`
	State string `json:"state,omitempty"`
	Q     string `json:"q,omitempty"`
}

func parseListQuery(v url.Values) listQuery {
	q := listQuery{After: v.Get("after"), Q: strings.TrimSpace(v.Get("q"))}
	for _, f := range filters {
		if v.Get("state") == f.value {
			q.State = f.value
		}
	}
	if len(q.Q) > 100 {
		q.Q = q.Q[:100]
	}
	return q
}

// encode is the query string of q with after replaced.
func (q listQuery) encode(after string) string {
	v := url.Values{}
	if after != "" {
		v.Set("after", after)
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// listing is one page of sellers.
type listing struct {
	accounts []*ebayauth.Account
	next     string // cursor of the next page: the last id shown, or scanned; "" at the end
	scanned  int    // accounts read to fill the page
	partial  bool   // the scan stopped at scanLimit before the page was full
}

// list reads one page of sellers for q. Without a filter or search it reads
// one page of ListAccounts. With one, it reads ListAccounts in batches from
// the cursor and keeps the matches until the page is full, the store ends,
// or scanLimit accounts were read; then the page says how far it got and
// its "next" link goes on from there. "failing" reads only the sellers the
// Recorder saw failing.
func (c *Console) list(ctx context.Context, q listQuery) (listing, error) {
	var out listing
	if q.State == FilterFailing {
		return c.listFailing(ctx, q)
	}
	match := c.matcher(q)
	batch := c.pageSize + 1
	if match != nil {
		batch = max(c.pageSize+1, 500)
	}
	cursor := q.After
	for {
		accts, err := c.store.ListAccounts(ctx, cursor, batch)
		if err != nil {
			return out, err
		}
		for _, a := range accts {
			out.scanned++
			cursor = a.ID
			if match == nil || match(a) {
				out.accounts = append(out.accounts, a)
				if len(out.accounts) > c.pageSize {
					out.accounts = out.accounts[:c.pageSize]
					out.next = out.accounts[c.pageSize-1].ID
					return out, nil
				}
			}
			if match != nil && out.scanned >= c.scanLimit {
				out.next, out.partial = cursor, true
				return out, nil
			}
		}
		if len(accts) < batch {
			return out, nil
		}
	}
}

// listFailing is list for FilterFailing: the Recorder's failing sellers
// after the cursor, loaded one by one.
func (c *Console) listFailing(ctx context.Context, q listQuery) (listing, error) {
	var out listing
	search := c.matcher(listQuery{Q: q.Q})
	for _, id := range c.rec.FailingAccounts() {
		if id <= q.After {
			continue
		}
		a, err := c.store.LoadAccount(ctx, id)
		switch {
		case errors.Is(err, ebayauth.ErrNotFound):
			continue
		case err != nil:
			return out, err
		}
		out.scanned++
		if search != nil && !search(a) {
			continue
		}
		out.accounts = append(out.accounts, a)
		if len(out.accounts) > c.pageSize {
			out.accounts = out.accounts[:c.pageSize]
			out.next = out.accounts[c.pageSize-1].ID
			break
		}
	}
	return out, nil
}

// matcher returns the test of q's filter and search, or nil if q has
// neither (or only the failing filter, which list handles apart).
func (c *Console) matcher(q listQuery) func(*ebayauth.Account) bool {
	var tests []func(*ebayauth.Account) bool
	now := c.now()
	switch q.State {
	case FilterNeedsConsent:
		tests = append(tests, func(a *ebayauth.Account) bool { return a.NeedsConsent })
	case FilterExpiring:
		tests = append(tests, func(a *ebayauth.Account) bool {
			return !a.RefreshTokenExpiry.IsZero() && a.RefreshTokenExpiry.Sub(now) < refreshTokenWarning
		})
	}
	if q.Q != "" {
		needle := strings.ToLower(q.Q)
		tests = append(tests, func(a *ebayauth.Account) bool {
			return strings.Contains(strings.ToLower(a.ID), needle) || strings.Contains(strings.ToLower(a.Username), needle)
		})
	}
	if len(tests) == 0 {
		return nil
	}
	return func(a *ebayauth.Account) bool {
		for _, t := range tests {
			if !t(a) {
				return false
			}
		}
		return true
	}
}

// statusParallel bounds the sellers whose status is read at once.
const statusParallel = 8

// sellerViews reads the status of each account (Accounts.Status: the
// seller's Manager after loading the shared record) and puts it in words.
func (c *Console) sellerViews(ctx context.Context, accts []*ebayauth.Account, now time.Time) []tokenView {
	rows := make([]tokenView, len(accts))
	var g errgroup.Group
	g.SetLimit(statusParallel)
	for i, a := range accts {
		g.Go(func() error {
			rows[i] = c.sellerView(ctx, a, now)
			return nil
		})
	}
	_ = g.Wait()
	return rows
}

// sellerView is one seller's row or card.
func (c *Console) sellerView(ctx context.Context, a *ebayauth.Account, now time.Time) tokenView {
	st, err := c.accts.Status(ctx, a.ID)
	var v tokenView
	if err != nil {
		v = viewStatus(ebayauth.Status{State: ebayauth.StateNone, Kind: "user"}, now)
		v.StateText, v.StateHelp, v.StateTone = "unknown", "The seller's status could not be read.", toneMuted
		v.LastError, v.LastErrorTone = err.Error(), toneBad
	} else {
		if !a.RefreshTokenExpiry.IsZero() {
			// The account record says what the seller's last consent
			// gave; a cached Manager may predate it.
			st.RefreshTokenExpiry = a.RefreshTokenExpiry
		}
		if a.NeedsConsent {
			// Recorded in the store by another process: its Manager here
			// learns it only at its next refresh.
			st.State, st.Healthy = ebayauth.StateNeedsConsent, false
		}
		v = viewStatus(st, now)
	}
	v.Account, v.Username, v.Marketplace = a.ID, a.Username, a.Marketplace
	v.Failing = c.rec.Failing(a.ID)
	if v.NeedsConsent || v.Expiring {
		v.ConsentURL = c.consentURL(a.ID)
	}
	return v
}

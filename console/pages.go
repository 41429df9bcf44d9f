package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ebayauth/ebayauth"
)

// eventsShown is how many events the timeline shows.
const eventsShown = 30

// pageData is one page: what the template renders and, less what only the
// HTML needs, what /api/state answers the page's script. It holds no
// credential.
type pageData struct {
	Title      string `json:"-"`
	Base       string `json:"-"` // from this page back to the console's root
	CSRF       string `json:"-"`
	Login      bool   `json:"-"` // logged in with the admin secret: offer Log out
	PollMS     int64  `json:"-"`
	API        string `json:"-"` // this page's JSON, relative to Base
	Return     string `json:"-"` // this page, relative to Base, for forms
	Notice     string `json:"-"`
	NoticeTone string `json:"-"`
	Env        string `json:"-"`

	Seq     uint64       `json:"seq"`
	Updated string       `json:"updated"`
	Token   *tokenView   `json:"token,omitempty"`  // the single token (overview)
	Seller  *tokenView   `json:"seller,omitempty"` // the seller (detail page)
	Usage   usageView    `json:"usage"`
	Sellers *sellersView `json:"sellers,omitempty"`
	Events  []eventView  `json:"events"`
}

// usageView is the mint gauges and the chart.
type usageView struct {
	Gauges   []gaugeView `json:"gauges"`
	ChartSrc string      `json:"chart_src"` // relative to the console's root
	ChartAlt string      `json:"chart_alt"`
}

// sellersView is the sellers table.
type sellersView struct {
	Rows    []tokenView    `json:"rows"`
	Query   listQuery      `json:"query"`
	Filters []filterOption `json:"-"`
	Paged   bool           `json:"-"` // not the first page
	First   string         `json:"-"` // query of the first page
	Next    string         `json:"-"` // query of the next page; "" if none
	Note    string         `json:"note"`
	Empty   string         `json:"-"`
}

type filterOption struct {
	Value, Label string
	Selected     bool
}

// overview reads the single token, the page of sellers q asks for, the
// mints and the latest events.
func (c *Console) overview(ctx context.Context, q listQuery) (*pageData, error) {
	now := c.now()
	p := &pageData{Seq: c.rec.Seq(), Updated: stamp(now)}
	kind := ""
	if c.m != nil {
		st := c.m.Status()
		v := viewStatus(st, now)
		p.Token, kind = &v, st.Kind
		p.Env = st.Environment + " · client " + st.ClientID
	}
	p.Usage = c.usage(kind)
	if c.accts != nil {
		sv := &sellersView{Query: q}
		l, err := c.list(ctx, q)
		if err != nil {
			return nil, err
		}
		sv.Rows = c.sellerViews(ctx, l.accounts, now)
		for _, f := range filters {
			sv.Filters = append(sv.Filters, filterOption{f.value, f.label, f.value == q.State})
		}
		sv.Paged, sv.First = q.After != "", q.encode("")
		if l.next != "" {
			sv.Next = q.encode(l.next)
		}
		if l.partial {
			sv.Note = "Searched " + thousands(l.scanned) + " sellers, up to " + l.next + ", and found " +
				strconv.Itoa(len(sv.Rows)) + " here; “Next page” searches on."
		}
		switch {
		case len(sv.Rows) > 0:
		case q.State != "" || q.Q != "":
			sv.Empty = "No seller here matches."
		default:
			sv.Empty = "No sellers yet."
		}
		p.Sellers = sv
	}
	for _, e := range c.rec.Events("", eventsShown) {
		p.Events = append(p.Events, viewEvent(e, now))
	}
	return p, nil
}

// seller reads one seller for the detail page.
func (c *Console) seller(ctx context.Context, id string) (*pageData, error) {
	if c.accts == nil {
		return nil, ebayauth.ErrNotFound
	}
	a, err := c.store.LoadAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	now := c.now()
	v := c.sellerView(ctx, a, now)
	p := &pageData{Seq: c.rec.Seq(), Updated: stamp(now), Seller: &v, Usage: c.usage("")}
	for _, e := range c.rec.Events(id, eventsShown) {
		p.Events = append(p.Events, viewEvent(e, now))
	}
	return p, nil
}

// usage is the gauges of the grants in use and the chart. kind is the
// single token's ("application" or "user"), "" if none.
func (c *Console) usage(kind string) usageView {
	d := c.rec.MintsToday()
	var u usageView
	refresh, sellers := 0, c.accts != nil
	switch kind {
	case "application":
		u.Gauges = append(u.Gauges, newGauge("client_credentials", "Application tokens", d.Token, ApplicationMintLimit))
	case "user":
		refresh, sellers = d.Token, true
	}
	if sellers {
		u.Gauges = append(u.Gauges, newGauge("refresh_token", "User tokens (refresh token grant)", refresh+d.Sellers, RefreshMintLimit))
	}
	if c.accts != nil {
		u.Gauges = append(u.Gauges, newGauge("authorization_code", "Consents exchanged (code grant)", d.Exchanges, CodeMintLimit))
	}
	mints, failures := 0, 0
	for _, h := range c.rec.Hours() {
		mints += h.Mints
		failures += h.Failures
	}
	u.ChartSrc = "chart.svg?v=" + strconv.FormatUint(c.rec.Seq(), 10)
	u.ChartAlt = "Chart of mints and failed refreshes per hour over the last 24 hours: " +
		plural(mints, "token minted", "tokens minted") + ", " + plural(failures, "failed refresh", "failed refreshes") + "."
	return u
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return thousands(n) + " " + many
}

// finish adds what the HTML page needs to p.
func (c *Console) finish(p *pageData, r *http.Request, s session, api, ret string) {
	p.Title, p.Base, p.CSRF, p.Login = c.title, base(r), c.csrf(s), len(c.secret) > 0
	p.API, p.Return = api, ret
	if c.poll > 0 {
		p.PollMS = c.poll.Milliseconds()
	}
	if n, ok := notices[r.URL.Query().Get("done")]; ok {
		p.Notice, p.NoticeTone = n[0], n[1]
	}
}

func (c *Console) serveOverview(w http.ResponseWriter, r *http.Request, s session) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	q := parseListQuery(r.URL.Query())
	p, err := c.overview(ctx, q)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.finish(p, r, s, "api/state"+q.encode(q.After), q.encode(q.After))
	c.render(w, http.StatusOK, "overview", p)
}

func (c *Console) serveSeller(w http.ResponseWriter, r *http.Request, s session) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	id := r.PathValue("id")
	p, err := c.seller(ctx, id)
	if errors.Is(err, ebayauth.ErrNotFound) {
		http.Error(w, "There is no such seller.", http.StatusNotFound)
		return
	}
	if err != nil {
		c.fail(w, err)
		return
	}
	c.finish(p, r, s, "api/state?account="+url.QueryEscape(id), "sellers/"+url.PathEscape(id))
	c.render(w, http.StatusOK, "seller", p)
}

// serveState answers the page's script: the overview's data for the same
// query, or a seller's with ?account=.
func (c *Console) serveState(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	var p *pageData
	var err error
	if id := r.URL.Query().Get("account"); id != "" {
		p, err = c.seller(ctx, id)
	} else {
		p, err = c.overview(ctx, parseListQuery(r.URL.Query()))
	}
	switch {
	case errors.Is(err, ebayauth.ErrNotFound):
		writeJSON(w, http.StatusNotFound, actionResult{Message: "There is no such seller."})
	case err != nil:
		c.log.Error("console: reading state", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, actionResult{Message: "The account store failed: " + err.Error()})
	default:
		writeJSON(w, http.StatusOK, p)
	}
}

// serveChart draws the chart of the last 24 hours.
func (c *Console) serveChart(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Its own policy: the SVG styles itself inline, and runs and loads
	// nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "no-store")
	writeChart(w, c.rec.Hours())
}

func (c *Console) fail(w http.ResponseWriter, err error) {
	c.log.Error("console: reading a page", "error", err.Error())
	http.Error(w, "The account store failed: "+err.Error(), http.StatusInternalServerError)
}

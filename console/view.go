package console

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ebayauth/ebayauth"
)

// The daily mint limits eBay sets per application, by grant.
const (
	ApplicationMintLimit = 1000  // client_credentials: application tokens
	RefreshMintLimit     = 50000 // refresh_token: user tokens
	CodeMintLimit        = 10000 // authorization_code: consents exchanged
)

// refreshTokenWarning is the warning band before a refresh token expires.
const refreshTokenWarning = 30 * 24 * time.Hour

// Tones color a value: each has text and background colors of enough
// contrast in console.css.
const (
	toneOK    = "ok"
	toneInfo  = "info"
	toneWarn  = "warn"
	toneBad   = "bad"
	toneMuted = "muted"
)

// tokenView is what the console shows of one token (the single one, or a
// seller's): every value already in words, so that the page and the JSON
// its script polls say the same. It holds no credential: the token shows
// as its fingerprint.
type tokenView struct {
	Account     string `json:"account,omitempty"`
	Username    string `json:"username,omitempty"`
	Marketplace string `json:"marketplace,omitempty"`
	Kind        string `json:"kind,omitempty"`

	State     string `json:"state"`
	StateText string `json:"state_text"`
	StateHelp string `json:"state_help"`
	StateTone string `json:"state_tone"`
	Healthy   bool   `json:"healthy"`

	Fingerprint string `json:"fingerprint"`
	LeftPct     int    `json:"left_pct"` // of the token's lifetime, 0-100
	LeftTone    string `json:"left_tone"`
	LeftText    string `json:"left_text"`
	ExpiryText  string `json:"expiry_text"`

	LastRefresh      string `json:"last_refresh"`
	RefreshedAgo     string `json:"refreshed_ago"` // short, for the table
	Validation       string `json:"validation"`
	ValidationTone   string `json:"validation_tone"`
	LastError        string `json:"last_error"`
	LastErrorTone    string `json:"last_error_tone"`
	LastErrorShort   string `json:"last_error_short"` // for the table
	NextAttempt      string `json:"next_attempt"`
	RefreshToken     string `json:"refresh_token"`    // its expiry, in words
	RefreshTokenIn   string `json:"refresh_token_in"` // short, for the table
	RefreshTokenTone string `json:"refresh_token_tone"`
	Store            string `json:"store"`
	StoreTone        string `json:"store_tone"`
	Fallback         string `json:"fallback"`
	Counters         string `json:"counters"`
	Mints            int64  `json:"mints"`

	NeedsConsent bool `json:"needs_consent"`
	Expiring     bool `json:"expiring"` // the refresh token expires within 30 days
	Failing      bool `json:"failing"`
	// ConsentURL is eBay's consent page for the seller (client id and
	// RuName are public); only for a seller who needs consent or whose
	// refresh token is expiring.
	ConsentURL string `json:"consent_url"`
}

var stateWords = map[ebayauth.State][3]string{ // text, help, tone
	ebayauth.StateFresh:        {"fresh", "Valid and not yet due for refresh.", toneOK},
	ebayauth.StateStale:        {"stale", "Valid, inside its refresh window: a refresh is due.", toneInfo},
	ebayauth.StateExpired:      {"expired", "Expired, and no new token yet.", toneBad},
	ebayauth.StateRejected:     {"rejected", "eBay refused the token; it is being replaced.", toneBad},
	ebayauth.StateFallback:     {"fallback", "No token could be minted: the static fallback token is in use.", toneWarn},
	ebayauth.StateNeedsConsent: {"needs consent", "eBay refused the seller's refresh token: the seller must consent again.", toneBad},
	ebayauth.StateNone:         {"no token", "No token has been minted or loaded yet.", toneMuted},
}

// viewStatus puts st in words, as of now.
func viewStatus(st ebayauth.Status, now time.Time) tokenView {
	w, ok := stateWords[st.State]
	if !ok {
		w = [3]string{string(st.State), "", toneMuted}
	}
	v := tokenView{
		Kind: st.Kind, State: string(st.State), StateText: w[0], StateHelp: w[1], StateTone: w[2], Healthy: st.Healthy,
		Fingerprint: st.Fingerprint, Mints: st.Counters.Mints, NeedsConsent: st.State == ebayauth.StateNeedsConsent,
	}
	if v.Fingerprint == "" {
		v.Fingerprint = "none"
	}

	// Time left, as a share of the lifetime eBay granted.
	v.LeftTone, v.LeftText, v.ExpiryText = toneMuted, "no token", "—"
	if !st.Expiry.IsZero() && st.State != ebayauth.StateNeedsConsent {
		left := st.Expiry.Sub(now)
		life := 2 * time.Hour
		if !st.LastRefresh.IsZero() && st.Expiry.After(st.LastRefresh) {
			life = st.Expiry.Sub(st.LastRefresh)
		}
		v.LeftPct = int(min(max(left*100/life, 0), 100))
		v.ExpiryText = stamp(st.Expiry)
		switch {
		case left <= 0:
			v.LeftText, v.LeftTone = "expired "+span(-left)+" ago", toneBad
		case st.State == ebayauth.StateStale:
			v.LeftText, v.LeftTone = span(left)+" left", toneWarn
		default:
			v.LeftText, v.LeftTone = span(left)+" left", toneOK
		}
	}

	v.LastRefresh = ago(st.LastRefresh, now, "never")
	v.RefreshedAgo = "never"
	if !st.LastRefresh.IsZero() {
		v.RefreshedAgo = since(st.LastRefresh, now)
	}
	switch {
	case st.LastValidation.IsZero():
		v.Validation, v.ValidationTone = "not validated yet", toneMuted
	case st.ValidationError == "":
		v.Validation, v.ValidationTone = "accepted by eBay, "+ago(st.LastValidation, now, ""), toneOK
	default:
		v.Validation, v.ValidationTone = "refused: "+st.ValidationError+" ("+ago(st.LastValidation, now, "")+")", toneBad
	}
	switch {
	case st.LastError == "":
		v.LastError, v.LastErrorShort, v.LastErrorTone = "none", "none", toneMuted
	case st.Healthy && !st.LastErrorTime.IsZero() && st.LastErrorTime.Before(st.LastRefresh):
		// A refresh has worked since: history, not a problem.
		v.LastError = "none since the last refresh; before it: " + st.LastError + " (" + ago(st.LastErrorTime, now, "") + ")"
		v.LastErrorShort, v.LastErrorTone = "recovered", toneMuted
	default:
		v.LastError, v.LastErrorTone = st.LastError, toneBad
		v.LastErrorShort = truncate(strings.TrimPrefix(st.LastError, "ebayauth: "), 120)
		if !st.LastErrorTime.IsZero() {
			v.LastError += " (" + ago(st.LastErrorTime, now, "") + ")"
		}
	}
	if !st.NextAttempt.IsZero() && st.NextAttempt.After(now) {
		v.NextAttempt = "next try in " + span(st.NextAttempt.Sub(now))
	}

	v.RefreshTokenIn = "in " + span(st.RefreshTokenExpiry.Sub(now))
	switch {
	case st.Kind == "application":
		v.RefreshTokenIn = "none"
		v.RefreshToken, v.RefreshTokenTone = "none (application token)", toneMuted
	case st.RefreshTokenExpiry.IsZero():
		v.RefreshTokenIn = "unknown"
		v.RefreshToken, v.RefreshTokenTone = "expiry unknown", toneMuted
	case !st.RefreshTokenExpiry.After(now):
		v.RefreshTokenIn = "expired"
		v.RefreshToken, v.RefreshTokenTone = "expired "+day(st.RefreshTokenExpiry), toneBad
		v.Expiring = true
	case st.RefreshTokenExpiry.Sub(now) < refreshTokenWarning:
		v.RefreshToken, v.RefreshTokenTone = "expires "+day(st.RefreshTokenExpiry)+", in "+span(st.RefreshTokenExpiry.Sub(now))+": ask for a new consent", toneWarn
		v.Expiring = true
	default:
		v.RefreshToken, v.RefreshTokenTone = "expires "+day(st.RefreshTokenExpiry)+", in "+span(st.RefreshTokenExpiry.Sub(now)), toneOK
	}

	v.Store, v.StoreTone = st.Store+", working", toneOK
	if !st.StoreHealthy {
		v.Store, v.StoreTone = st.Store+", UNAVAILABLE", toneBad
	}
	switch {
	case !st.FallbackConfigured:
		v.Fallback = "not configured"
	case st.State == ebayauth.StateFallback:
		v.Fallback = "IN USE"
	default:
		v.Fallback = "configured, not in use"
	}
	c := st.Counters
	v.Counters = fmt.Sprintf("%d minted, %d from the store, %s, %s, %s (%d failed)",
		c.Mints, c.StoreHits, plural(int(c.RefreshFailures), "failed refresh", "failed refreshes"),
		plural(int(c.Retries401), "retry after a 401", "retries after a 401"),
		plural(int(c.Validations+c.ValidationFailures), "validation", "validations"), c.ValidationFailures)
	return v
}

// gaugeView is one grant's mints today against eBay's daily limit.
type gaugeView struct {
	Grant string `json:"grant"`
	Label string `json:"label"`
	Used  int    `json:"used"`
	Limit int    `json:"limit"`
	Pct   int    `json:"pct"`
	Tone  string `json:"tone"`
	Text  string `json:"text"`
}

func newGauge(grant, label string, used, limit int) gaugeView {
	g := gaugeView{Grant: grant, Label: label, Used: used, Limit: limit}
	g.Pct = min(used*100/limit, 100)
	if used > 0 && g.Pct == 0 {
		g.Pct = 1 // visible
	}
	switch {
	case used*10 >= limit*9:
		g.Tone = toneBad
	case used*10 >= limit*7:
		g.Tone = toneWarn
	default:
		g.Tone = toneOK
	}
	g.Text = thousands(used) + " of " + thousands(limit) + " today"
	return g
}

// eventView is a line of the timeline.
type eventView struct {
	Seq     uint64 `json:"seq"`
	Kind    string `json:"kind"`
	Text    string `json:"text"`
	Tone    string `json:"tone"`
	When    string `json:"when"`  // how long ago
	Stamp   string `json:"stamp"` // when, in UTC
	Time    string `json:"time"`  // RFC 3339, for <time datetime>
	Account string `json:"account,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

var eventWords = map[ebayauth.EventKind][2]string{ // text, tone
	ebayauth.EventRefreshed:            {"token minted", toneOK},
	ebayauth.EventTokenFromStore:       {"token taken from the store", toneInfo},
	ebayauth.EventRefreshFailed:        {"refresh failed", toneBad},
	ebayauth.EventInvalidGrant:         {"refresh token refused (invalid_grant): consent needed", toneBad},
	ebayauth.EventRecovered:            {"refreshing works again", toneOK},
	ebayauth.EventFallbackUsed:         {"fallback token in use", toneWarn},
	ebayauth.EventRetried401:           {"request retried after a 401", toneWarn},
	ebayauth.EventValidated:            {"validated: eBay accepts the token", toneOK},
	ebayauth.EventValidationFailed:     {"validation failed", toneBad},
	ebayauth.EventStoreUnavailable:     {"token store unavailable", toneBad},
	ebayauth.EventStoreRecovered:       {"token store available again", toneOK},
	ebayauth.EventRefreshTokenExpiring: {"refresh token expires within 30 days", toneWarn},
}

func viewEvent(e Entry, now time.Time) eventView {
	w, ok := eventWords[e.Kind]
	if !ok {
		w = [2]string{strings.ReplaceAll(string(e.Kind), "_", " "), toneMuted}
	}
	v := eventView{Seq: e.Seq, Kind: string(e.Kind), Text: w[0], Tone: w[1], When: since(e.Time, now),
		Stamp: stamp(e.Time), Time: e.Time.UTC().Format(time.RFC3339), Account: e.Account}
	var parts []string
	if e.Fingerprint != "" {
		parts = append(parts, "token "+e.Fingerprint)
	}
	if e.Duration > 0 {
		parts = append(parts, "took "+e.Duration.Round(time.Millisecond).String())
	}
	if e.Error != "" {
		parts = append(parts, e.Error)
	}
	v.Detail = strings.Join(parts, " · ")
	return v
}

// span renders a duration for people: "1h 05m", "4m 10s", "12 days".
func span(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	case d >= time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	}
}

// ago renders t relative to now: "14:02:05 UTC, 5m 00s ago"; never if t is zero.
func ago(t, now time.Time, never string) string {
	if t.IsZero() {
		return never
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return stamp(t) + ", in " + span(-d)
	case d < time.Second:
		return stamp(t) + ", just now"
	}
	return stamp(t) + ", " + span(d) + " ago"
}

// since renders how long ago t was: "just now", "5m 00s ago".
func since(t, now time.Time) string {
	if d := now.Sub(t); d >= time.Second {
		return span(d) + " ago"
	}
	return "just now"
}

// stamp renders t in UTC: the time alone today, with the date otherwise.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// thousands writes n with thousands separators: 50,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

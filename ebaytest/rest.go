package ebaytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ebayauth/ebayauth"
)

// restError is one entry of eBay's REST error envelope.
type restError struct {
	ErrorID     int    `json:"errorId"`
	Domain      string `json:"domain"`
	Category    string `json:"category"`
	Message     string `json:"message"`
	LongMessage string `json:"longMessage"`
}

// restErrors is eBay's REST error envelope.
type restErrors struct {
	Errors []restError `json:"errors"`
}

// envelope returns the envelope holding one error of category REQUEST.
func envelope(id int, domain, msg, long string) restErrors {
	return restErrors{[]restError{{id, domain, "REQUEST", msg, long}}}
}

// REST error bodies, as eBay sends them where known.
var (
	errInvalidToken = envelope(1001, "OAuth", "Invalid access token",
		"Invalid access token. Check the value of the Authorization HTTP request header.")
	errMissingToken = envelope(1002, "OAuth", "Missing access token",
		"Access token is missing in the Authorization HTTP request header.")
	errAccessDenied = envelope(1100, "ACCESS", "Access denied",
		"Insufficient permissions to fulfill the request.")
	errTooManyRequests = envelope(2001, "ACCESS", "Too many requests",
		"The request limit has been reached for the resource.")
	errInvalidBody = envelope(2004, "ACCESS", "Invalid request",
		"The request has errors. For help, see the documentation for this API.")
	errItemNotFound = envelope(11001, "API_BROWSE", "The specified item ID was not found.",
		"The specified item ID was not found.")
)

// errBadScheme is the 1003 body for an Authorization scheme other than Bearer.
func errBadScheme(scheme string) restErrors {
	msg := "Token type in the Authorization header is invalid:" + scheme
	return envelope(1003, "OAuth", msg, msg)
}

// apiHandler serves an authorized REST request: body is the request body
// and scopes those of its access token.
type apiHandler func(w http.ResponseWriter, r *http.Request, body []byte, scopes []string)

// api records a REST request and checks its bearer token before calling h.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errInvalidBody)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		s.mu.Lock()
		s.requests = append(s.requests, Request{r.Method, r.URL.Path, auth, body})
		var scopes []string
		t := s.lookup(token)
		if t != nil {
			scopes = t.scopes
		}
		s.mu.Unlock()
		switch {
		case auth == "":
			writeJSON(w, http.StatusBadRequest, errMissingToken)
		case !strings.EqualFold(scheme, "Bearer"):
			writeJSON(w, http.StatusBadRequest, errBadScheme(scheme))
		case t == nil:
			writeJSON(w, http.StatusUnauthorized, errInvalidToken)
		default:
			h(w, r, body, scopes)
		}
	})
}

// browse guards a Browse method: it needs ebayauth.ScopeAPI and counts
// against SetBrowseQuota.
func (s *Server) browse(h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, body []byte, scopes []string) {
		if !slices.Contains(scopes, ebayauth.ScopeAPI) {
			writeJSON(w, http.StatusForbidden, errAccessDenied)
			return
		}
		s.mu.Lock()
		over := s.browseQuota > 0 && s.browseUsed >= s.browseQuota
		if !over {
			s.browseUsed++
		}
		s.mu.Unlock()
		if over {
			writeJSON(w, http.StatusTooManyRequests, errTooManyRequests)
			return
		}
		h(w, r, body, scopes)
	}
}

// price is an amount in eBay's shape: the value is a decimal string.
type price struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// item is a Browse item or item summary.
type item struct {
	ItemID string `json:"itemId"`
	Title  string `json:"title"`
	Price  price  `json:"price"`
}

// catalogue is every item the fake sells.
var catalogue = []item{
	{"v1|110551234567|0", "Vintage Nikon F3 35mm Film Camera Body", price{"249.99", "USD"}},
	{"v1|110551234568|0", "Apple iPhone 13 128GB Blue Unlocked", price{"379.00", "USD"}},
	{"v1|110551234569|0", "LEGO Star Wars Millennium Falcon 75192", price{"799.95", "USD"}},
}

// searchResponse is a page of Browse search results.
type searchResponse struct {
	Href          string `json:"href"`
	Total         int    `json:"total"`
	Limit         int    `json:"limit"`
	Offset        int    `json:"offset"`
	ItemSummaries []item `json:"itemSummaries,omitempty"`
}

// serveSearch is GET /buy/browse/v1/item_summary/search: items whose title
// contains q, ignoring case. limit defaults to 50 and is at most 200.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, _ []byte, _ []string) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 {
		limit = 50
	}
	limit = min(limit, 200)
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	var hits []item
	for _, it := range catalogue {
		if strings.Contains(strings.ToLower(it.Title), strings.ToLower(q.Get("q"))) {
			hits = append(hits, it)
		}
	}
	page := hits[min(offset, len(hits)):min(offset+limit, len(hits))]
	href := url.Values{"q": {q.Get("q")}, "limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	writeJSON(w, http.StatusOK, searchResponse{
		Href:          s.URL + r.URL.Path + "?" + href.Encode(),
		Total:         len(hits),
		Limit:         limit,
		Offset:        offset,
		ItemSummaries: page,
	})
}

// serveItem is GET /buy/browse/v1/item/{item_id}.
func (s *Server) serveItem(w http.ResponseWriter, r *http.Request, _ []byte, _ []string) {
	id := r.PathValue("item_id")
	for _, it := range catalogue {
		if it.ItemID == id {
			writeJSON(w, http.StatusOK, it)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, errItemNotFound)
}

// serveOffer is POST /sell/inventory/v1/offer: any JSON body creates an
// offer with the next id.
func (s *Server) serveOffer(w http.ResponseWriter, _ *http.Request, body []byte, _ []string) {
	if !json.Valid(body) {
		writeJSON(w, http.StatusBadRequest, errInvalidBody)
		return
	}
	s.mu.Lock()
	s.nextOffer++
	id := strconv.Itoa(s.nextOffer)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, struct {
		OfferID string `json:"offerId"`
	}{id})
}

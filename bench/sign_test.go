package bench_test

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/ebayauth/ebayauth/ebaysig"
)

// The signing benchmarks measure what an eBay digital signature costs per
// request: Signer.Sign alone, and a POST with a 1 KiB body to a loopback
// httptest server, unsigned and signed through ebaysig.Transport. Keys are
// generated before the timer starts.

// signJWE is eBay's published test JWE, the length of a real one.
const signJWE = "eyJhbGciOiJBMjU2R0NNS1ciLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIiwiaXYiOiJvSzFwdXJNVHQtci14VUwzIiwidGFnIjoiTjB4WjI4ZklZckFmYkd5UWFrTnpjZyJ9.AYdKU7ObIc7Z764OrlKpwUViK8Rphxl0xMP9v2_o9mI.1DbZiSQNRK6pLeIw.Yzp3IDV8RM_h_lMAnwGpMA4DXbaDdmqAh-65kO9xyDgzHD6s0kY3p-yO6oPR9kEcAbjGXIULeQKWVYzbfHKwXTY09Npj_mNuO5yxgZtWnL55uIgP2HL1So2dKkZRK0eyPa6DEXJT71lPtwZtpIGyq9R5h6s3kGMbqA.m4t_MX4VnlXJGx1X_zZ-KQ"

// signPath is a call eBay wants signed: Fulfillment's issueRefund.
const signPath = "/sell/fulfillment/v1/order/12-34567-89012/issue_refund"

// signBody is a 1 KiB JSON body.
var signBody = func() []byte {
	b := []byte(`{"reasonForRefund":"BUYER_CANCEL","comment":"`)
	b = append(b, bytes.Repeat([]byte("x"), 1024-len(b)-2)...)
	return append(b, `"}`...)
}()

type signKey struct {
	name string
	priv crypto.Signer
}

// signKeys are one key of each cipher eBay accepts.
func signKeys(b *testing.B) []signKey {
	b.Helper()
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	return []signKey{{"ed25519", ed}, {"rsa2048", rk}}
}

// BenchmarkSign is Signer.Sign alone on a POST with a 1 KiB body (hashed
// through GetBody), re-signing the same request.
func BenchmarkSign(b *testing.B) {
	for _, k := range signKeys(b) {
		b.Run(k.name, func(b *testing.B) {
			s := &ebaysig.Signer{Key: ebaysig.Key{ID: "bench", JWE: signJWE, PrivateKey: k.priv}}
			req, err := http.NewRequest(http.MethodPost, "https://api.ebay.com"+signPath, bytes.NewReader(signBody))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for b.Loop() {
				if err := s.Sign(req); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
	}
}

// BenchmarkSignedRoundTrip is a whole POST with a 1 KiB body to a loopback
// server, which reads the body and answers 200: "plain" unsigned, the others
// through ebaysig.Transport.
func BenchmarkSignedRoundTrip(b *testing.B) {
	var signed atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Signature") != "" {
			signed.Add(1)
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	base := srv.Client().Transport

	trips := []struct {
		name string
		rt   http.RoundTripper
	}{{"plain", base}}
	for _, k := range signKeys(b) {
		s := &ebaysig.Signer{Key: ebaysig.Key{ID: "bench", JWE: signJWE, PrivateKey: k.priv}}
		trips = append(trips, struct {
			name string
			rt   http.RoundTripper
		}{k.name, &ebaysig.Transport{Signer: s, Base: base}})
	}
	for _, tr := range trips {
		b.Run(tr.name, func(b *testing.B) {
			client := &http.Client{Transport: tr.rt}
			do := func() {
				req, err := http.NewRequest(http.MethodPost, srv.URL+signPath, bytes.NewReader(signBody))
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			before := signed.Load()
			do() // open the connection before the timer starts
			if got := signed.Load() > before; got != (tr.name != "plain") {
				b.Fatalf("request signed: %v; want %v", got, tr.name != "plain")
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for b.Loop() {
				do()
			}
			cpu.report(b)
		})
	}
}

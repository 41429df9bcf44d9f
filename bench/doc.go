// Package bench measures ebayauth side by side with golang.org/x/oauth2.
//
// It is a module of its own, so that x/oauth2 never enters the library's
// dependencies. Its tests hold the micro-benchmarks
// (BenchmarkRoundTrip, BenchmarkRoundTripParallel) and what an eBay digital
// signature costs (BenchmarkSign, BenchmarkSignedRoundTrip); cmd/scenarios runs the
// scenarios against the fake eBay of package ebaytest and prints one Markdown
// table. BENCHMARKS.md at the root of the repository holds the latest numbers
// and the commands that produced them.
//
// The package itself holds what both share: the base RoundTripper that
// answers at once, the floor transport, and x/oauth2 set up for eBay.
package bench

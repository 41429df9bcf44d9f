package accounthttp

import "html/template"

// defaultPages are the onboarding pages used when OnboardingConfig.Pages is
// nil: plain, self-contained HTML that loads nothing from elsewhere.
var defaultPages = template.Must(template.New("pages").Parse(`
{{- define "head"}}<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.}}</title></head>
<body>
<h1>{{.}}</h1>
{{end -}}

{{- define "connected"}}{{template "head" "eBay account connected"}}
<p>The eBay seller <strong>{{.Seller.Username}}</strong> (user ID {{.Seller.ID}}
{{- with .Seller.Marketplace}}, registered on {{.}}{{end}}) is now connected.</p>
</body>
</html>
{{end -}}

{{- define "declined"}}{{template "head" "eBay account not connected"}}
<p>You declined to grant access to your eBay account, so nothing was connected.</p>
<p><a href="{{.ConnectPath}}">Connect an eBay account</a></p>
</body>
</html>
{{end -}}

{{- define "failed"}}{{template "head" "eBay account not connected"}}
<p>{{.Problem}}</p>
<p><a href="{{.ConnectPath}}">Connect an eBay account</a></p>
</body>
</html>
{{end -}}
`))

package pgstore

import "strings"

// statements are the SQL a Store runs, with its schema in place.
type statements struct {
	load, save, delete                     string
	lock, unlock                           string
	loadAccount, saveAccount, listAccounts string
	deleteAccount, deleteAccountTokens     string
	resealTokensPage, resealToken          string
	resealAccountsPage, resealAccount      string
	loadSecret, saveSecret                 string
}

func newStatements(schema string) statements {
	r := strings.NewReplacer("{{schema}}", quote(schema))
	return statements{
		load: r.Replace(`SELECT expiry_ms, account, payload FROM {{schema}}.tokens WHERE key = $1`),

		loadSecret: r.Replace(`SELECT payload FROM {{schema}}.secrets WHERE name = $1`),
		saveSecret: r.Replace(`INSERT INTO {{schema}}.secrets (name, payload, updated_at) VALUES ($1, $2, now())
ON CONFLICT (name) DO UPDATE SET payload = EXCLUDED.payload, updated_at = now()`),

		// Replace the stored record only if its token does not expire later
		// than the new one: expiry_ms 0 is never, the latest of all.
		save: r.Replace(`INSERT INTO {{schema}}.tokens AS t (key, expiry_ms, account, payload, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (key) DO UPDATE
SET expiry_ms = EXCLUDED.expiry_ms, account = EXCLUDED.account, payload = EXCLUDED.payload, updated_at = now()
WHERE EXCLUDED.expiry_ms = 0 OR (t.expiry_ms <> 0 AND t.expiry_ms <= EXCLUDED.expiry_ms)`),

		delete: r.Replace(`DELETE FROM {{schema}}.tokens WHERE key = $1`),

		// Take the lock if it is free, lapsed, or implausibly far ahead
		// (more than twice the lease and a minute: its holder's setting went
		// wrong). A row comes back only if we got it; its column says
		// whether a lock that had not lapsed was broken.
		lock: r.Replace(`WITH old AS (SELECT until FROM {{schema}}.locks WHERE key = $1)
INSERT INTO {{schema}}.locks AS l (key, holder, until)
VALUES ($1, $2, now() + $3::bigint * interval '1 microsecond')
ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
WHERE l.until < now() OR l.until > now() + 2 * $3::bigint * interval '1 microsecond' + interval '1 minute'
RETURNING COALESCE((SELECT old.until >= now() FROM old), false)`),

		unlock: r.Replace(`DELETE FROM {{schema}}.locks WHERE key = $1 AND holder = $2`),

		loadAccount: r.Replace(`SELECT ` + accountColumns + ` FROM {{schema}}.accounts WHERE id = $1`),

		saveAccount: r.Replace(`INSERT INTO {{schema}}.accounts (` + accountColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE
SET refresh_token = EXCLUDED.refresh_token, username = EXCLUDED.username, marketplace = EXCLUDED.marketplace,
    scopes = EXCLUDED.scopes, needs_consent = EXCLUDED.needs_consent,
    refresh_token_expiry = EXCLUDED.refresh_token_expiry, created = EXCLUDED.created, updated = EXCLUDED.updated`),

		listAccounts: r.Replace(`SELECT ` + accountColumns + ` FROM {{schema}}.accounts WHERE id > $1 ORDER BY id LIMIT $2`),

		deleteAccount:       r.Replace(`DELETE FROM {{schema}}.accounts WHERE id = $1`),
		deleteAccountTokens: r.Replace(`DELETE FROM {{schema}}.tokens WHERE account = $1`),

		// Reseal pages through the rows not sealed with the current key
		// ($2, compared with bytes 2-5 of the value) and swaps each value
		// only if it is still the one it read.
		resealTokensPage: r.Replace(`SELECT key, expiry_ms, account, payload FROM {{schema}}.tokens
WHERE key > $1 AND substring(payload FROM 2 FOR 4) <> $2 ORDER BY key LIMIT $3`),
		resealToken: r.Replace(`UPDATE {{schema}}.tokens SET payload = $3, updated_at = now() WHERE key = $1 AND payload = $2`),
		resealAccountsPage: r.Replace(`SELECT id, refresh_token FROM {{schema}}.accounts
WHERE id > $1 AND substring(refresh_token FROM 2 FOR 4) <> $2 ORDER BY id LIMIT $3`),
		resealAccount: r.Replace(`UPDATE {{schema}}.accounts SET refresh_token = $3 WHERE id = $1 AND refresh_token = $2`),
	}
}

// accountColumns are the columns of an account, in the order
// scanAccount reads them and SaveAccount writes them.
const accountColumns = `id, refresh_token, username, marketplace, scopes, needs_consent, refresh_token_expiry, created, updated`

-- 0001: token records, mint locks, sellers' accounts.
--
-- {{schema}} is replaced by the quoted schema name (WithSchema). Columns that
-- hold credentials are sealed by pgstore (AES-GCM) before they get here.
-- Keys and ids are compared byte by byte (COLLATE "C"), as Go compares
-- strings, whatever the database's collation: ListAccounts pages by id.

-- One row per ebayauth.Store key: the whole ebayauth.Record, sealed.
-- expiry_ms is the token's expiry in Unix milliseconds, 0 for never: Save
-- compares it and never replaces a later token with an earlier one. The
-- database judges no expiry: nothing here is deleted by a clock.
CREATE TABLE {{schema}}.tokens (
	key        text COLLATE "C" PRIMARY KEY,
	expiry_ms  bigint NOT NULL,
	account    text COLLATE "C",
	payload    bytea NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- DeleteAccount deletes the records of the account.
CREATE INDEX tokens_account_idx ON {{schema}}.tokens (account) WHERE account IS NOT NULL;

-- Mint locks: one holder per key until the lease, by the database's clock.
CREATE TABLE {{schema}}.locks (
	key    text COLLATE "C" PRIMARY KEY,
	holder text NOT NULL,
	until  timestamptz NOT NULL
);

-- Sellers: the refresh token sealed, the rest in clear.
CREATE TABLE {{schema}}.accounts (
	id                   text COLLATE "C" PRIMARY KEY,
	refresh_token        bytea NOT NULL,
	username             text NOT NULL DEFAULT '',
	marketplace          text NOT NULL DEFAULT '',
	scopes               text[] NOT NULL DEFAULT '{}',
	needs_consent        boolean NOT NULL DEFAULT false,
	refresh_token_expiry timestamptz,
	created              timestamptz,
	updated              timestamptz
);

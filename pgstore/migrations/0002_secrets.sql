-- 0002: named secrets beside the tokens (ebayauth.SecretStore), such as
-- the private key of eBay's digital signatures (ebaysig.SaveKey). The value
-- is sealed by pgstore like the token records.
CREATE TABLE {{schema}}.secrets (
	name       text COLLATE "C" PRIMARY KEY,
	payload    bytea NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
);

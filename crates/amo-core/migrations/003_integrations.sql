-- The integrations the user added, by client ID: each connection keeps the one that issued its
-- tokens, and is refreshed with that one's secret (in the keychain, per client ID) and
-- redirect URI. NULL redirect_uri or platform: the saved defaults apply.
-- secret_stored: 1 once its client secret is in the keychain, NULL when not known yet (an
-- integration from before this table: the keychain is asked once).
CREATE TABLE integrations (
    client_id     TEXT PRIMARY KEY,
    redirect_uri  TEXT,
    platform      TEXT,
    secret_stored INTEGER CHECK (secret_stored IN (0, 1)),
    created_at    INTEGER NOT NULL
) STRICT;

-- The integration saved before, and those connections were made with.
INSERT INTO integrations (client_id, secret_stored, created_at)
SELECT value, NULL, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM settings WHERE key = 'client_id';
INSERT OR IGNORE INTO integrations (client_id, secret_stored, created_at)
SELECT DISTINCT client_id, NULL, CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM connections WHERE client_id IS NOT NULL;

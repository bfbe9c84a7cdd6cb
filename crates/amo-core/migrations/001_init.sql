-- Non-secret facts only: tokens and the client secret live in the OS keychain.
-- Times are Unix milliseconds.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per OAuth flow; only the SHA-256 of the state is kept.
CREATE TABLE oauth_states (
    state_hash   TEXT PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    redirect_uri TEXT NOT NULL
) STRICT;

CREATE TABLE connections (
    account          TEXT PRIMARY KEY,
    account_id       INTEGER,
    name             TEXT,
    kind             TEXT NOT NULL CHECK (kind IN ('oauth', 'long_lived')),
    client_id        TEXT,
    expires_at       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    last_refresh_at  INTEGER,
    last_error       TEXT,
    reconnect_reason TEXT
) STRICT;

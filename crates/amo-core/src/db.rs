//! The SQLite store: settings, OAuth states (hashed) and the non-secret facts of connections.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};
use std::path::Path;

use crate::error::{Error, Result};
use crate::paths::set_private;
use crate::types::{AccountHost, TokenKind, TokenSet};

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/001_init.sql"),
    include_str!("../migrations/002_token_facts.sql"),
    include_str!("../migrations/003_integrations.sql"),
];

/// The database of one data folder.
pub struct Db {
    conn: Connection,
}

/// What the database knows of one connection; its tokens are in the keychain.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRow {
    pub account: AccountHost,
    pub account_id: Option<i64>,
    pub name: Option<String>,
    pub kind: TokenKind,
    pub client_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_refresh_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub reconnect_reason: Option<String>,
    /// What views show of the token set; `None` on a row stored before these were kept.
    pub facts: Option<TokenFacts>,
}

/// An integration the user added: its redirect URI and platform (`None`: the saved
/// defaults), and whether its client secret is in the keychain (`None`: not known yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationRow {
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub platform: Option<String>,
    pub secret_stored: Option<bool>,
    pub created_at: DateTime<Utc>,
}

/// What a view shows of a token set, kept beside its row whenever the set is stored, so
/// listing connections reads SQLite alone. Nothing here is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFacts {
    /// The access token masked ([`crate::secret::AccessToken::masked`]).
    pub access_masked: String,
    /// Whether the set has a refresh token.
    pub refreshable: bool,
}

impl TokenFacts {
    pub fn of(set: &TokenSet) -> TokenFacts {
        TokenFacts {
            access_masked: set.access_token.masked(),
            refreshable: set.refresh_token.is_some(),
        }
    }
}

impl Db {
    /// Opens (creating) the file, runs pending migrations, turns on WAL and a busy timeout,
    /// and makes the files private to the user.
    ///
    /// # Errors
    /// [`Error::Database`] when the file cannot be opened or migrated.
    pub fn open(path: &Path) -> Result<Db> {
        // Two processes opening a fresh folder at once would both see version 0 and both
        // migrate: the second would fail. Setting up is one process at a time.
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = std::path::PathBuf::from(lock_path);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .and_then(|f| set_private(&lock_path, 0o600).map(|()| f))
            .map_err(|e| Error::Database {
                reason: format!("{}: {e}", lock_path.display()),
            })?;
        crate::lockfile::lock(&lock, &lock_path, crate::lockfile::Wait::Setup)?;
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut db = Db { conn };
        db.migrate()?;
        drop(lock);
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            if p.exists() {
                set_private(&p, 0o600).map_err(|e| Error::Database {
                    reason: e.to_string(),
                })?;
            }
        }
        Ok(db)
    }

    /// A private database for tests.
    ///
    /// # Errors
    /// [`Error::Database`] when SQLite fails.
    pub fn open_in_memory() -> Result<Db> {
        let mut db = Db {
            conn: Connection::open_in_memory()?,
        };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&mut self) -> Result<()> {
        let steps: Vec<M> = MIGRATIONS.iter().map(|sql| M::up(sql)).collect();
        Migrations::new(steps).to_latest(&mut self.conn)?;
        Ok(())
    }

    // --- settings -------------------------------------------------------------------------

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// The hosts renamed accounts moved to (the `moved_to:<old host>` settings).
    pub fn moved_hosts(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT value FROM settings WHERE substr(key, 1, 9) = 'moved_to:'")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Every renamed account's current host, with the host it was last moved from.
    pub fn moves(&self) -> Result<std::collections::HashMap<String, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT value, substr(key, 10) FROM settings WHERE substr(key, 1, 9) = 'moved_to:'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    // --- oauth_states ---------------------------------------------------------------------

    pub fn insert_state(
        &self,
        hash: &str,
        created: DateTime<Utc>,
        expires: DateTime<Utc>,
        redirect_uri: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO oauth_states (state_hash, created_at, expires_at, redirect_uri)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                hash,
                created.timestamp_millis(),
                expires.timestamp_millis(),
                redirect_uri
            ],
        )?;
        Ok(())
    }

    /// Checks a state without spending it.
    ///
    /// # Errors
    /// [`Error::StateUnknown`], [`Error::StateExpired`] or [`Error::StateReused`].
    pub fn check_state(&self, hash: &str, now: DateTime<Utc>) -> Result<()> {
        let row: Option<(i64, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT expires_at, used_at FROM oauth_states WHERE state_hash = ?1",
                [hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match row {
            None => Err(Error::StateUnknown),
            Some((_, Some(_))) => Err(Error::StateReused),
            Some((exp, None)) if exp <= now.timestamp_millis() => Err(Error::StateExpired),
            Some(_) => Ok(()),
        }
    }

    /// Spends a state: it succeeds once, for an unexpired state. Answers the redirect URI
    /// the flow started with, which its code exchange must use.
    ///
    /// # Errors
    /// As [`Db::check_state`].
    pub fn consume_state(&self, hash: &str, now: DateTime<Utc>) -> Result<String> {
        let redirect_uri: Option<String> = self
            .conn
            .query_row(
                "UPDATE oauth_states SET used_at = ?2
                 WHERE state_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                 RETURNING redirect_uri",
                params![hash, now.timestamp_millis()],
                |r| r.get(0),
            )
            .optional()?;
        match redirect_uri {
            Some(r) => Ok(r),
            None => self.check_state(hash, now).and(Err(Error::StateReused)),
        }
    }

    /// Spends a state whatever its expiry: its flow was cancelled or timed out, so a tab
    /// left open from it can never complete a later flow. Answers whether it was unspent.
    pub fn spend_state(&self, hash: &str, now: DateTime<Utc>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE oauth_states SET used_at = ?2 WHERE state_hash = ?1 AND used_at IS NULL",
            params![hash, now.timestamp_millis()],
        )?;
        Ok(n == 1)
    }

    /// Deletes every state past its expiry; returns how many.
    pub fn delete_expired_states(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM oauth_states WHERE expires_at <= ?1",
            [now.timestamp_millis()],
        )?)
    }

    // --- integrations ---------------------------------------------------------------------

    /// Adds the integration `client_id`, or changes what is given of it.
    pub fn upsert_integration(
        &self,
        client_id: &str,
        redirect_uri: Option<&str>,
        platform: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO integrations (client_id, redirect_uri, platform, secret_stored, created_at)
             VALUES (?1, ?2, ?3, 0, ?4)
             ON CONFLICT (client_id) DO UPDATE SET
                 redirect_uri = coalesce(excluded.redirect_uri, redirect_uri),
                 platform = coalesce(excluded.platform, platform)",
            params![client_id, redirect_uri, platform, now.timestamp_millis()],
        )?;
        Ok(())
    }

    /// Records whether the integration's client secret is in the keychain.
    pub fn set_secret_stored(&self, client_id: &str, stored: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE integrations SET secret_stored = ?2 WHERE client_id = ?1",
            params![client_id, stored],
        )?;
        Ok(())
    }

    pub fn integration(&self, client_id: &str) -> Result<Option<IntegrationRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("{SELECT_INTEGRATION} WHERE client_id = ?1"),
                [client_id],
                read_integration,
            )
            .optional()?)
    }

    /// Every integration, oldest first.
    pub fn integrations(&self) -> Result<Vec<IntegrationRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "{SELECT_INTEGRATION} ORDER BY created_at, client_id"
        ))?;
        let rows = stmt.query_map([], read_integration)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many connections each integration's tokens serve, by client ID.
    pub fn connections_by_integration(&self) -> Result<std::collections::HashMap<String, usize>> {
        let mut stmt = self.conn.prepare(
            "SELECT client_id, count(*) FROM connections WHERE client_id IS NOT NULL
             GROUP BY client_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        rows.map(|r| r.map(|(id, n)| (id, usize::try_from(n).unwrap_or(0))))
            .collect::<rusqlite::Result<_>>()
            .map_err(Into::into)
    }

    pub fn delete_integration(&self, client_id: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM integrations WHERE client_id = ?1", [client_id])?
            > 0)
    }

    // --- connections ----------------------------------------------------------------------

    pub fn upsert_connection(&self, c: &ConnectionRow) -> Result<()> {
        self.conn.execute(
            "INSERT INTO connections (account, account_id, name, kind, client_id, expires_at,
                 created_at, updated_at, last_refresh_at, last_error, reconnect_reason,
                 access_masked, refreshable)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (account) DO UPDATE SET
                 account_id = excluded.account_id, name = excluded.name, kind = excluded.kind,
                 client_id = excluded.client_id, expires_at = excluded.expires_at,
                 updated_at = excluded.updated_at, last_refresh_at = excluded.last_refresh_at,
                 last_error = excluded.last_error, reconnect_reason = excluded.reconnect_reason,
                 access_masked = excluded.access_masked, refreshable = excluded.refreshable",
            params![
                c.account.as_str(),
                c.account_id,
                c.name,
                c.kind.as_str(),
                c.client_id,
                c.expires_at.map(|t| t.timestamp_millis()),
                c.created_at.timestamp_millis(),
                c.updated_at.timestamp_millis(),
                c.last_refresh_at.map(|t| t.timestamp_millis()),
                c.last_error,
                c.reconnect_reason,
                c.facts.as_ref().map(|f| f.access_masked.as_str()),
                c.facts.as_ref().map(|f| f.refreshable),
            ],
        )?;
        Ok(())
    }

    pub fn connection(&self, account: &AccountHost) -> Result<Option<ConnectionRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("{SELECT_CONNECTION} WHERE account = ?1"),
                [account.as_str()],
                read_connection,
            )
            .optional()?)
    }

    pub fn connections(&self) -> Result<Vec<ConnectionRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT_CONNECTION} ORDER BY account"))?;
        let rows = stmt.query_map([], read_connection)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn delete_connection(&self, account: &AccountHost) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM connections WHERE account = ?1",
            [account.as_str()],
        )? > 0)
    }

    /// Records a successful refresh: the new set's expiry and facts.
    pub fn mark_refreshed(
        &self,
        account: &AccountHost,
        set: &TokenSet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let facts = TokenFacts::of(set);
        self.conn.execute(
            "UPDATE connections SET expires_at = ?2, updated_at = ?3, last_refresh_at = ?3,
                 last_error = NULL, reconnect_reason = NULL, access_masked = ?4,
                 refreshable = ?5
             WHERE account = ?1",
            params![
                account.as_str(),
                set.expires_at.map(|t| t.timestamp_millis()),
                now.timestamp_millis(),
                facts.access_masked,
                facts.refreshable,
            ],
        )?;
        Ok(())
    }

    /// Brings the row's view of its token set in line with `set`, the keychain's: read
    /// for a row stored before the facts were kept, or changed outside the connector.
    /// True when the row changed.
    pub fn note_tokens(&self, account: &AccountHost, set: &TokenSet) -> Result<bool> {
        let facts = TokenFacts::of(set);
        Ok(self.conn.execute(
            "UPDATE connections SET expires_at = ?2, access_masked = ?3, refreshable = ?4
             WHERE account = ?1 AND (access_masked IS NOT ?3 OR refreshable IS NOT ?4
                 OR expires_at IS NOT ?2)",
            params![
                account.as_str(),
                set.expires_at.map(|t| t.timestamp_millis()),
                facts.access_masked,
                facts.refreshable,
            ],
        )? > 0)
    }

    /// Records a failure; `reconnect` marks the connection as needing the user again.
    pub fn mark_failed(
        &self,
        account: &AccountHost,
        error: &str,
        reconnect: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE connections SET last_error = ?2, updated_at = ?3,
                 reconnect_reason = CASE WHEN ?4 THEN ?2 ELSE reconnect_reason END
             WHERE account = ?1",
            params![account.as_str(), error, now.timestamp_millis(), reconnect],
        )?;
        Ok(())
    }
}

const SELECT_CONNECTION: &str = "SELECT account, account_id, name, kind, client_id, expires_at,
    created_at, updated_at, last_refresh_at, last_error, reconnect_reason, access_masked,
    refreshable FROM connections";

fn read_connection(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConnectionRow> {
    let bad = |i, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            what.to_owned().into(),
        )
    };
    let account: String = r.get(0)?;
    let kind: String = r.get(3)?;
    Ok(ConnectionRow {
        account: AccountHost::parse(&account).map_err(|_| bad(0, "account host"))?,
        account_id: r.get(1)?,
        name: r.get(2)?,
        kind: TokenKind::parse(&kind).ok_or_else(|| bad(3, "token kind"))?,
        client_id: r.get(4)?,
        expires_at: r.get::<_, Option<i64>>(5)?.map(ts),
        created_at: ts(r.get(6)?),
        updated_at: ts(r.get(7)?),
        last_refresh_at: r.get::<_, Option<i64>>(8)?.map(ts),
        last_error: r.get(9)?,
        reconnect_reason: r.get(10)?,
        facts: match (
            r.get::<_, Option<String>>(11)?,
            r.get::<_, Option<bool>>(12)?,
        ) {
            (Some(access_masked), Some(refreshable)) => Some(TokenFacts {
                access_masked,
                refreshable,
            }),
            _ => None,
        },
    })
}

const SELECT_INTEGRATION: &str =
    "SELECT client_id, redirect_uri, platform, secret_stored, created_at FROM integrations";

fn read_integration(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntegrationRow> {
    Ok(IntegrationRow {
        client_id: r.get(0)?,
        redirect_uri: r.get(1)?,
        platform: r.get(2)?,
        secret_stored: r.get(3)?,
        created_at: ts(r.get(4)?),
    })
}

fn ts(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        ts(Utc::now().timestamp_millis())
    }

    #[test]
    fn a_state_is_spent_once_and_only_before_it_expires() {
        let db = Db::open_in_memory().unwrap();
        let t = now();
        db.insert_state("a", t, t + Duration::minutes(15), "http://127.0.0.1:1/cb")
            .unwrap();
        db.insert_state(
            "b",
            t - Duration::minutes(20),
            t - Duration::minutes(5),
            "x",
        )
        .unwrap();
        assert!(db.check_state("a", t).is_ok());
        db.consume_state("a", t).unwrap();
        assert!(matches!(db.consume_state("a", t), Err(Error::StateReused)));
        assert!(matches!(db.consume_state("b", t), Err(Error::StateExpired)));
        assert!(matches!(
            db.consume_state("zzz", t),
            Err(Error::StateUnknown)
        ));
        assert_eq!(db.delete_expired_states(t).unwrap(), 1);
        assert!(matches!(db.check_state("b", t), Err(Error::StateUnknown)));
    }

    #[test]
    fn connections_round_trip_and_record_refreshes_and_failures() {
        let db = Db::open_in_memory().unwrap();
        let t = now();
        let row = ConnectionRow {
            account: AccountHost::parse("example.amocrm.ru").unwrap(),
            account_id: Some(42),
            name: Some("Example".into()),
            kind: TokenKind::Oauth,
            client_id: Some("cid".into()),
            expires_at: Some(t + Duration::hours(24)),
            created_at: t,
            updated_at: t,
            last_refresh_at: None,
            last_error: None,
            reconnect_reason: None,
            facts: Some(TokenFacts {
                access_masked: "abc…wxyz".into(),
                refreshable: true,
            }),
        };
        db.upsert_connection(&row).unwrap();
        assert_eq!(db.connection(&row.account).unwrap().as_ref(), Some(&row));
        db.mark_failed(&row.account, "Token has been revoked", true, t)
            .unwrap();
        let failed = db.connection(&row.account).unwrap().unwrap();
        assert_eq!(
            failed.reconnect_reason.as_deref(),
            Some("Token has been revoked")
        );
        let set = TokenSet {
            kind: TokenKind::Oauth,
            access_token: crate::secret::AccessToken::new("new-access-token-0123456789"),
            refresh_token: None,
            expires_at: Some(t + Duration::hours(48)),
        };
        db.mark_refreshed(&row.account, &set, t).unwrap();
        let fresh = db.connection(&row.account).unwrap().unwrap();
        assert_eq!(fresh.reconnect_reason, None);
        assert_eq!(fresh.last_refresh_at, Some(t));
        assert_eq!(fresh.expires_at, set.expires_at);
        assert_eq!(fresh.facts, Some(TokenFacts::of(&set)));
        assert!(!fresh.facts.unwrap().access_masked.contains("0123456789"));
        assert!(
            !db.note_tokens(&row.account, &set).unwrap(),
            "nothing changed"
        );
        let outside = TokenSet {
            refresh_token: Some(crate::secret::RefreshToken::new("r")),
            ..set
        };
        assert!(db.note_tokens(&row.account, &outside).unwrap());
        let noted = db.connection(&row.account).unwrap().unwrap();
        assert_eq!(noted.facts, Some(TokenFacts::of(&outside)));
        assert_eq!(db.connections().unwrap().len(), 1);
        assert!(db.delete_connection(&row.account).unwrap());
        assert!(db.connections().unwrap().is_empty());
    }

    #[test]
    fn a_row_from_before_token_facts_reads_as_unknown() {
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(MIGRATIONS[0])])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute(
            "INSERT INTO connections (account, kind, created_at, updated_at)
             VALUES ('old.amocrm.ru', 'oauth', 0, 0)",
            [],
        )
        .unwrap();
        let mut db = Db { conn };
        db.migrate().unwrap();
        let rows = db.connections().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].facts, None);
    }

    #[test]
    fn the_integration_saved_before_and_those_connections_used_are_kept_as_integrations() {
        let mut conn = Connection::open_in_memory().unwrap();
        Migrations::new(vec![M::up(MIGRATIONS[0]), M::up(MIGRATIONS[1])])
            .to_latest(&mut conn)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO settings VALUES ('client_id', 'current');
             INSERT INTO connections (account, kind, client_id, created_at, updated_at)
             VALUES ('a.amocrm.ru', 'oauth', 'older', 0, 0),
                    ('b.amocrm.ru', 'oauth', 'current', 0, 0),
                    ('c.amocrm.ru', 'long_lived', NULL, 0, 0);",
        )
        .unwrap();
        let mut db = Db { conn };
        db.migrate().unwrap();
        let mut ids: Vec<String> = db
            .integrations()
            .unwrap()
            .into_iter()
            .map(|i| i.client_id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["current", "older"]);
        assert_eq!(
            db.integration("older").unwrap().unwrap().secret_stored,
            None
        );
        let used = db.connections_by_integration().unwrap();
        assert_eq!((used["older"], used["current"]), (1, 1));
    }

    #[test]
    fn an_integration_keeps_what_is_not_given_again() {
        let db = Db::open_in_memory().unwrap();
        let t = now();
        db.upsert_integration("id", Some("http://127.0.0.1:1/cb"), Some("kommo"), t)
            .unwrap();
        db.upsert_integration("id", None, Some("amocrm"), t)
            .unwrap();
        db.set_secret_stored("id", true).unwrap();
        let row = db.integration("id").unwrap().unwrap();
        assert_eq!(row.redirect_uri.as_deref(), Some("http://127.0.0.1:1/cb"));
        assert_eq!(row.platform.as_deref(), Some("amocrm"));
        assert_eq!(row.secret_stored, Some(true));
        assert!(db.delete_integration("id").unwrap());
        assert!(db.integrations().unwrap().is_empty());
    }

    #[test]
    fn settings_overwrite() {
        let db = Db::open_in_memory().unwrap();
        db.set_setting("client_id", "a").unwrap();
        db.set_setting("client_id", "b").unwrap();
        assert_eq!(db.setting("client_id").unwrap().as_deref(), Some("b"));
        assert_eq!(db.setting("nope").unwrap(), None);
    }
}

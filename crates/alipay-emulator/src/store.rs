//! `--state DIR` in SQLite: `DIR/state.sqlite3` (rusqlite with the bundled library) holds the
//! apps, trades, refunds and the notification queue and log, plus the keys and counters that
//! let a restarted emulator continue where it stopped.
//!
//! Tables (one row per object; the objects themselves as JSON, with the columns a person
//! looking at the file with `sqlite3` wants next to them):
//!
//! | table | key | columns |
//! |---|---|---|
//! | `meta` | `key` | `value`: the state version, emulator time, the Alipay key, the CA, grants, OAuth codes and tokens, settle keys, the sequence counter, the default app |
//! | `apps` | `app_id` | `json` |
//! | `trades` | `trade_no` | `app_id`, `out_trade_no`, `status`, `total_fen`, `json` (the trade without its refunds) |
//! | `refunds` | `trade_no`, `seq` | `out_request_no`, `amount_fen`, `reason`, `at_ms` |
//! | `notifications` | `id` | `out_trade_no`, `trade_status`, `delivered`, `next_at_ms`, `json` |
//!
//! Writes are incremental: each write compares every object with what was last written and
//! touches only the rows that changed, in one transaction. Snapshots are numbered when they are
//! taken (under the state lock), so an older snapshot never overwrites a newer one. The file
//! holds private keys and is created readable by its owner only (the journal inherits that).
//!
//! A `state.json` left by an earlier version is imported the first time and renamed
//! `state.json.imported`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{Connection, OptionalExtension as _, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::model::{Refund, Trade};
use crate::state::{Notification, STATE_FILE, STATE_VERSION, SavedState};

/// The database file in `--state`.
pub(crate) const DB_FILE: &str = "state.sqlite3";

/// The schema version kept in `meta` (`schema`).
const SCHEMA_VERSION: &str = "1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS apps (app_id TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trades (
    trade_no TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    status TEXT NOT NULL,
    total_fen INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trades_by_out ON trades (app_id, out_trade_no);
CREATE TABLE IF NOT EXISTS refunds (
    trade_no TEXT NOT NULL,
    seq INTEGER NOT NULL,
    out_request_no TEXT NOT NULL,
    amount_fen INTEGER NOT NULL,
    reason TEXT,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (trade_no, seq)
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY,
    out_trade_no TEXT NOT NULL,
    trade_status TEXT NOT NULL,
    delivered INTEGER NOT NULL,
    next_at_ms INTEGER,
    json TEXT NOT NULL
);
";

/// What was last written, to write only what changed.
#[derive(Default)]
struct Written {
    meta: HashMap<&'static str, Zeroizing<String>>,
    apps: HashMap<String, Zeroizing<String>>,
    trades: HashMap<String, String>,
    notifications: HashMap<u64, String>,
    generation: u64,
    /// Whether the keys already in the database (from an earlier process) are known.
    loaded: bool,
}

impl Written {
    /// Learns which rows the database already has, with empty fingerprints: the first write
    /// rewrites them once and deletes those that are gone.
    fn load_keys(&mut self, conn: &Connection, path: &Path) -> Result<(), Error> {
        let keys = |sql: &str| -> Result<Vec<(String, i64)>, Error> {
            let mut stmt = conn
                .prepare(sql)
                .map_err(|e| db_error(path, "cannot list the saved rows", e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(|e| db_error(path, "cannot list the saved rows", e))?;
            rows.collect::<Result<_, _>>()
                .map_err(|e| db_error(path, "cannot list the saved rows", e))
        };
        for (app_id, _) in keys("SELECT app_id, 0 FROM apps")? {
            self.apps.insert(app_id, Zeroizing::new(String::new()));
        }
        for (trade_no, _) in keys("SELECT trade_no, 0 FROM trades")? {
            self.trades.insert(trade_no, String::new());
        }
        for (_, id) in keys("SELECT '', id FROM notifications")? {
            if let Ok(id) = u64::try_from(id) {
                self.notifications.insert(id, String::new());
            }
        }
        self.loaded = true;
        Ok(())
    }
}

/// An open `state.sqlite3`.
pub(crate) struct Store {
    path: PathBuf,
    conn: Mutex<(Connection, Written)>,
    next_generation: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn db_error(path: &Path, what: &str, e: rusqlite::Error) -> Error {
    Error::state(format!("{what} ({})", path.display())).with_source(e)
}

fn to_json<T: Serialize>(path: &Path, what: &str, value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| {
        Error::state(format!("cannot serialise {what} for {}", path.display())).with_source(e)
    })
}

fn from_json<T: DeserializeOwned>(path: &Path, what: &str, text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| {
        Error::state(format!(
            "{} holds a {what} this version cannot read",
            path.display()
        ))
        .with_source(e)
    })
}

/// Creates `path` readable and writable by its owner only (on Unix), if it does not exist.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path).map(drop)
}

/// An unsigned count or amount as an SQLite integer (they stay far below `i64::MAX`: amounts
/// are at most 10^10 fen, ids are a counter).
fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A trade as the `trades` table keeps it: without its refunds (they have their own table).
fn trade_row(t: &Trade) -> Trade {
    let mut row = t.clone();
    row.refunds = Vec::new();
    row
}

impl Store {
    /// Opens (or creates) `dir/state.sqlite3`.
    pub(crate) fn open(dir: &Path) -> Result<Store, Error> {
        let path = dir.join(DB_FILE);
        create_private(&path)
            .map_err(|e| Error::io(format!("cannot create {}", path.display()), e))?;
        let conn = Connection::open(&path)
            .map_err(|e| db_error(&path, "cannot open the state database", e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| db_error(&path, "cannot set the busy timeout", e))?;
        // WAL: a write does not block readers, and a committed write survives the process
        // being killed.
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(()))
            .map_err(|e| db_error(&path, "cannot switch to WAL", e))?;
        conn.execute_batch("PRAGMA synchronous=NORMAL;")
            .map_err(|e| db_error(&path, "cannot set synchronous", e))?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| db_error(&path, "cannot create the tables", e))?;
        let schema: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| db_error(&path, "cannot read the schema version", e))?;
        match schema.as_deref() {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?1)",
                    params![SCHEMA_VERSION],
                )
                .map_err(|e| db_error(&path, "cannot write the schema version", e))?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(Error::state(format!(
                    "{} has schema version {other}; this emulator reads version {SCHEMA_VERSION}",
                    path.display()
                )));
            }
        }
        Ok(Store {
            path,
            conn: Mutex::new((conn, Written::default())),
            next_generation: AtomicU64::new(1),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Connection, Written)> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A number for a snapshot about to be taken; take it while holding the state lock.
    pub(crate) fn next_generation(&self) -> u64 {
        self.next_generation.fetch_add(1, Ordering::Relaxed)
    }

    /// The saved state, if the database has one; else the `state.json` of an earlier version,
    /// which is then written here and renamed `state.json.imported`.
    pub(crate) fn read(&self, dir: &Path) -> Result<Option<SavedState>, Error> {
        if let Some(saved) = self.read_db()? {
            return Ok(Some(saved));
        }
        let Some(saved) = SavedState::read(dir)? else {
            return Ok(None);
        };
        self.write(self.next_generation(), &saved)?;
        let json = dir.join(STATE_FILE);
        let imported = dir.join(format!("{STATE_FILE}.imported"));
        std::fs::rename(&json, &imported)
            .map_err(|e| Error::io(format!("cannot rename {}", json.display()), e))?;
        Ok(Some(saved))
    }

    fn read_db(&self) -> Result<Option<SavedState>, Error> {
        let path = self.path.clone();
        let guard = self.lock();
        let (conn, _) = &*guard;
        let mut meta: HashMap<String, Zeroizing<String>> = HashMap::new();
        {
            let mut stmt = conn
                .prepare("SELECT key, value FROM meta")
                .map_err(|e| db_error(&path, "cannot read meta", e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(|e| db_error(&path, "cannot read meta", e))?;
            for row in rows {
                let (k, v) = row.map_err(|e| db_error(&path, "cannot read meta", e))?;
                meta.insert(k, Zeroizing::new(v));
            }
        }
        if !meta.contains_key("version") {
            return Ok(None);
        }
        let field = |key: &str| {
            meta.get(key)
                .map(|v| v.as_str())
                .ok_or_else(|| Error::state(format!("{} has no {key} in meta", path.display())))
        };
        let version: u32 = from_json(&path, "version", field("version")?)?;
        if version != STATE_VERSION {
            return Err(Error::state(format!(
                "{} has state version {version}; this emulator reads version {STATE_VERSION}",
                path.display()
            )));
        }
        let mut trades: Vec<Trade> = query_json(
            conn,
            &path,
            "SELECT json FROM trades ORDER BY rowid",
            "trade",
        )?;
        let mut refunds: HashMap<String, Vec<Refund>> = HashMap::new();
        {
            let mut stmt = conn
                .prepare(
                    "SELECT trade_no, out_request_no, amount_fen, reason, at_ms FROM refunds \
                     ORDER BY trade_no, seq",
                )
                .map_err(|e| db_error(&path, "cannot read refunds", e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Refund {
                            out_request_no: r.get(1)?,
                            amount_fen: u64::try_from(r.get::<_, i64>(2)?).map_err(|e| {
                                rusqlite::Error::FromSqlConversionFailure(
                                    2,
                                    rusqlite::types::Type::Integer,
                                    Box::new(e),
                                )
                            })?,
                            reason: r.get(3)?,
                            at_ms: r.get(4)?,
                        },
                    ))
                })
                .map_err(|e| db_error(&path, "cannot read refunds", e))?;
            for row in rows {
                let (trade_no, refund) =
                    row.map_err(|e| db_error(&path, "cannot read a refund", e))?;
                refunds.entry(trade_no).or_default().push(refund);
            }
        }
        for t in &mut trades {
            t.refunds = refunds.remove(&t.trade_no).unwrap_or_default();
        }
        Ok(Some(SavedState {
            version,
            clock_ms: from_json(&path, "clock_ms", field("clock_ms")?)?,
            alipay_key: from_json(&path, "alipay_key", field("alipay_key")?)?,
            ca: from_json(&path, "ca", field("ca")?)?,
            apps: query_json(conn, &path, "SELECT json FROM apps ORDER BY rowid", "app")?,
            grants: from_json(&path, "grants", field("grants")?)?,
            trades,
            notifications: query_json(
                conn,
                &path,
                "SELECT json FROM notifications ORDER BY id",
                "notification",
            )?,
            oauth_codes: from_json(&path, "oauth_codes", field("oauth_codes")?)?,
            user_tokens: from_json(&path, "user_tokens", field("user_tokens")?)?,
            settle_keys: from_json(&path, "settle_keys", field("settle_keys")?)?,
            seq: from_json(&path, "seq", field("seq")?)?,
            default_app: from_json(&path, "default_app", field("default_app")?)?,
        }))
    }

    /// Writes snapshot `generation`: only what changed since the last write, in one
    /// transaction. A snapshot older than the last one written is skipped.
    pub(crate) fn write(&self, generation: u64, saved: &SavedState) -> Result<(), Error> {
        let path = self.path.clone();
        let mut guard = self.lock();
        let (conn, written) = &mut *guard;
        if generation < written.generation {
            return Ok(());
        }
        if !written.loaded {
            written.load_keys(conn, &path)?;
        }
        let meta_now = meta_values(&path, saved)?;
        let apps_now: Vec<(String, Zeroizing<String>)> = saved
            .apps
            .iter()
            .map(|a| {
                Ok((
                    a.app_id.clone(),
                    Zeroizing::new(to_json(&path, "an app", a)?),
                ))
            })
            .collect::<Result<_, Error>>()?;
        let trades_now: Vec<(&Trade, String)> = saved
            .trades
            .iter()
            .map(|t| Ok((t, to_json(&path, "a trade", t)?)))
            .collect::<Result<_, Error>>()?;
        let notifications_now: Vec<(&Notification, String)> = saved
            .notifications
            .iter()
            .map(|n| Ok((n, to_json(&path, "a notification", n)?)))
            .collect::<Result<_, Error>>()?;

        let tx = conn
            .transaction()
            .map_err(|e| db_error(&path, "cannot begin a transaction", e))?;
        for (key, value) in &meta_now {
            if written.meta.get(key).map(|v| v.as_str()) != Some(value.as_str()) {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value.as_str()],
                )
                .map_err(|e| db_error(&path, "cannot write meta", e))?;
            }
        }
        for (app_id, json) in &apps_now {
            if written.apps.get(app_id).map(|v| v.as_str()) != Some(json.as_str()) {
                tx.execute(
                    "INSERT INTO apps (app_id, json) VALUES (?1, ?2) \
                     ON CONFLICT (app_id) DO UPDATE SET json = excluded.json",
                    params![app_id, json.as_str()],
                )
                .map_err(|e| db_error(&path, "cannot write an app", e))?;
            }
        }
        for app_id in written.apps.keys() {
            if !apps_now.iter().any(|(id, _)| id == app_id) {
                tx.execute("DELETE FROM apps WHERE app_id = ?1", params![app_id])
                    .map_err(|e| db_error(&path, "cannot delete an app", e))?;
            }
        }
        for (t, fingerprint) in &trades_now {
            if written.trades.get(&t.trade_no) == Some(fingerprint) {
                continue;
            }
            let row = to_json(&path, "a trade", &trade_row(t))?;
            tx.execute(
                "INSERT INTO trades (trade_no, app_id, out_trade_no, status, total_fen, json) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (trade_no) DO UPDATE SET \
                 app_id = excluded.app_id, out_trade_no = excluded.out_trade_no, \
                 status = excluded.status, total_fen = excluded.total_fen, json = excluded.json",
                params![
                    t.trade_no,
                    t.app_id,
                    t.out_trade_no,
                    t.status.as_str(),
                    sql_int(t.total_fen),
                    row
                ],
            )
            .map_err(|e| db_error(&path, "cannot write a trade", e))?;
            tx.execute(
                "DELETE FROM refunds WHERE trade_no = ?1",
                params![t.trade_no],
            )
            .map_err(|e| db_error(&path, "cannot write refunds", e))?;
            for (seq, r) in t.refunds.iter().enumerate() {
                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                tx.execute(
                    "INSERT INTO refunds (trade_no, seq, out_request_no, amount_fen, reason, at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        t.trade_no,
                        seq,
                        r.out_request_no,
                        sql_int(r.amount_fen),
                        r.reason,
                        r.at_ms
                    ],
                )
                .map_err(|e| db_error(&path, "cannot write a refund", e))?;
            }
        }
        for trade_no in written.trades.keys() {
            if !trades_now.iter().any(|(t, _)| &t.trade_no == trade_no) {
                tx.execute("DELETE FROM trades WHERE trade_no = ?1", params![trade_no])
                    .and_then(|_| {
                        tx.execute("DELETE FROM refunds WHERE trade_no = ?1", params![trade_no])
                    })
                    .map_err(|e| db_error(&path, "cannot delete a trade", e))?;
            }
        }
        for (n, json) in &notifications_now {
            if written.notifications.get(&n.id) == Some(json) {
                continue;
            }
            tx.execute(
                "INSERT INTO notifications (id, out_trade_no, trade_status, delivered, next_at_ms, json) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET \
                 out_trade_no = excluded.out_trade_no, trade_status = excluded.trade_status, \
                 delivered = excluded.delivered, next_at_ms = excluded.next_at_ms, json = excluded.json",
                params![
                    sql_int(n.id),
                    n.out_trade_no,
                    n.trade_status,
                    n.delivered,
                    n.next_at_ms,
                    json
                ],
            )
            .map_err(|e| db_error(&path, "cannot write a notification", e))?;
        }
        for id in written.notifications.keys() {
            if !notifications_now.iter().any(|(n, _)| n.id == *id) {
                tx.execute(
                    "DELETE FROM notifications WHERE id = ?1",
                    params![sql_int(*id)],
                )
                .map_err(|e| db_error(&path, "cannot delete a notification", e))?;
            }
        }
        tx.commit()
            .map_err(|e| db_error(&path, "cannot commit the state", e))?;

        written.meta = meta_now.into_iter().collect();
        written.apps = apps_now.into_iter().collect();
        written.trades = trades_now
            .into_iter()
            .map(|(t, j)| (t.trade_no.clone(), j))
            .collect();
        written.notifications = notifications_now
            .into_iter()
            .map(|(n, j)| (n.id, j))
            .collect();
        written.generation = generation;
        Ok(())
    }
}

fn query_json<T: DeserializeOwned>(
    conn: &Connection,
    path: &Path,
    sql: &str,
    what: &str,
) -> Result<Vec<T>, Error> {
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| db_error(path, &format!("cannot read the {what} rows"), e))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(|e| db_error(path, &format!("cannot read the {what} rows"), e))?;
    let mut out = Vec::new();
    for row in rows {
        let text = Zeroizing::new(
            row.map_err(|e| db_error(path, &format!("cannot read a {what} row"), e))?,
        );
        out.push(from_json(path, what, &text)?);
    }
    Ok(out)
}

/// The meta fields of `saved`, each as JSON.
fn meta_values(
    path: &Path,
    saved: &SavedState,
) -> Result<Vec<(&'static str, Zeroizing<String>)>, Error> {
    let settle_keys = &saved.settle_keys;
    let values: [(&'static str, Result<String, Error>); 10] = [
        ("version", to_json(path, "version", &saved.version)),
        ("clock_ms", to_json(path, "clock_ms", &saved.clock_ms)),
        ("alipay_key", to_json(path, "alipay_key", &saved.alipay_key)),
        ("ca", to_json(path, "ca", &saved.ca)),
        ("grants", to_json(path, "grants", &saved.grants)),
        (
            "oauth_codes",
            to_json(path, "oauth_codes", &saved.oauth_codes),
        ),
        (
            "user_tokens",
            to_json(path, "user_tokens", &saved.user_tokens),
        ),
        ("settle_keys", to_json(path, "settle_keys", settle_keys)),
        ("seq", to_json(path, "seq", &saved.seq)),
        (
            "default_app",
            to_json(path, "default_app", &saved.default_app),
        ),
    ];
    values
        .into_iter()
        .map(|(k, v)| v.map(|v| (k, Zeroizing::new(v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{DB_FILE, Store};
    use crate::model::Trade;
    use crate::state::{STATE_FILE, SavedState};
    use crate::{Emulator, KeyMode};
    use std::path::PathBuf;

    fn fresh_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "alipay-emulator-store-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn trade(no: &str, status: &str, refunds: &[(&str, u64)]) -> Trade {
        let refunds: Vec<serde_json::Value> = refunds
            .iter()
            .enumerate()
            .map(|(i, (r, fen))| {
                serde_json::json!({"out_request_no": r, "amount_fen": fen, "reason": null,
                    "at_ms": 1_715_565_600_000_i64 + i64::try_from(i).unwrap()})
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "app_id": "2021000000000001", "auth_app_id": "2021000000000001",
            "seller_id": "2088000000000001", "out_trade_no": no, "trade_no": format!("T{no}"),
            "origin": "precreate", "product_code": "FACE_TO_FACE_PAYMENT", "subject": "绿茶",
            "total_fen": 10_000, "status": status, "visible": true, "abandoned": false,
            "created_ms": 1_715_565_600_000_i64, "charset": "utf-8", "sign_type": "RSA2",
            "refunds": refunds, "settles": [],
        }))
        .unwrap()
    }

    /// A state with the keys and the app of a real emulator.
    async fn base_state(dir: &std::path::Path) -> SavedState {
        let emu = Emulator::builder()
            .time_scale(0.0)
            .state_dir(dir)
            .start()
            .await
            .unwrap();
        assert_eq!(emu.app().mode, KeyMode::PublicKey);
        emu.shutdown().await.unwrap();
        Store::open(dir).unwrap().read(dir).unwrap().unwrap()
    }

    /// `(out_trade_no, status, [(out_request_no, fen)])` per trade.
    type TradeSummary = (String, String, Vec<(String, u64)>);

    fn summary(saved: &SavedState) -> Vec<TradeSummary> {
        saved
            .trades
            .iter()
            .map(|t| {
                (
                    t.out_trade_no.clone(),
                    t.status.as_str().to_owned(),
                    t.refunds
                        .iter()
                        .map(|r| (r.out_request_no.clone(), r.amount_fen))
                        .collect(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn trades_and_refunds_round_trip_and_old_snapshots_lose() {
        let dir = fresh_dir("roundtrip");
        let mut saved = base_state(&dir).await;
        saved.trades = vec![
            trade("A1", "TRADE_SUCCESS", &[("R1", 100), ("R2", 250)]),
            trade("A2", "WAIT_BUYER_PAY", &[]),
        ];
        saved.seq = 41;
        let store = Store::open(&dir).unwrap();
        let (g1, g2) = (store.next_generation(), store.next_generation());
        store.write(g2, &saved).unwrap();
        // An older snapshot arriving late is skipped.
        let mut stale: SavedState =
            serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap();
        stale.trades.truncate(1);
        stale.seq = 7;
        store.write(g1, &stale).unwrap();
        drop(store);

        let back = Store::open(&dir).unwrap().read(&dir).unwrap().unwrap();
        assert_eq!(back.seq, 41);
        assert_eq!(
            summary(&back),
            [
                (
                    "A1".to_owned(),
                    "TRADE_SUCCESS".to_owned(),
                    vec![("R1".to_owned(), 100), ("R2".to_owned(), 250)]
                ),
                ("A2".to_owned(), "WAIT_BUYER_PAY".to_owned(), vec![]),
            ]
        );
        assert_eq!(back.alipay_key, saved.alipay_key);
        assert_eq!(back.default_app, saved.default_app);

        // A refund removed and a trade dropped: the rows follow.
        let store = Store::open(&dir).unwrap();
        let mut next = back;
        next.trades = vec![trade("A1", "TRADE_CLOSED", &[("R1", 100)])];
        store.write(store.next_generation(), &next).unwrap();
        let conn = rusqlite::Connection::open(dir.join(DB_FILE)).unwrap();
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM trades"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM refunds"), 1);
        assert_eq!(
            conn.query_row("SELECT status FROM trades", [], |r| r.get::<_, String>(0))
                .unwrap(),
            "TRADE_CLOSED"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_state_json_of_an_earlier_version_is_imported_once() {
        let source = fresh_dir("json-source");
        let mut saved = base_state(&source).await;
        saved.trades = vec![trade("J1", "TRADE_SUCCESS", &[("R1", 500)])];
        let dir = fresh_dir("json-import");
        std::fs::write(dir.join(STATE_FILE), serde_json::to_string(&saved).unwrap()).unwrap();

        let back = Store::open(&dir).unwrap().read(&dir).unwrap().unwrap();
        assert_eq!(
            summary(&back),
            [(
                "J1".to_owned(),
                "TRADE_SUCCESS".to_owned(),
                vec![("R1".to_owned(), 500)]
            )]
        );
        assert!(!dir.join(STATE_FILE).exists());
        assert!(dir.join(format!("{STATE_FILE}.imported")).is_file());
        // Now from SQLite.
        let again = Store::open(&dir).unwrap().read(&dir).unwrap().unwrap();
        assert_eq!(summary(&again), summary(&back));
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&source);
    }

    #[test]
    fn an_empty_folder_has_no_state() {
        let dir = fresh_dir("empty");
        assert!(Store::open(&dir).unwrap().read(&dir).unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn unreadable_rows_and_other_schemas_are_errors_that_say_where() {
        let dir = fresh_dir("bad");
        let mut saved = base_state(&dir).await;
        saved.trades = vec![trade("B1", "TRADE_SUCCESS", &[])];
        let store = Store::open(&dir).unwrap();
        store.write(store.next_generation(), &saved).unwrap();
        drop(store);
        let db = dir.join(DB_FILE);
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE trades SET json = '{\"trade_no\":'", [])
            .unwrap();
        let err = Store::open(&dir).unwrap().read(&dir).unwrap_err();
        assert!(err.is_state(), "{err}");
        assert_eq!(
            err.to_string(),
            format!("{} holds a trade this version cannot read", db.display())
        );
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'", [])
            .unwrap();
        let err = Store::open(&dir).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{} has schema version 99; this emulator reads version 1",
                db.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

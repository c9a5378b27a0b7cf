//! One small SQL interface over the two databases the store supports: SQLite (embedded, the
//! default) and PostgreSQL (`DATABASE_URL=postgres://…`, shared by several machines).
//!
//! Statements are written once, with PostgreSQL's `$1, $2, …` placeholders (SQLite reads them
//! as `?1, ?2, …`), and only use SQL both dialects share; each dialect has its own migration
//! files (`migrations/sqlite`, `migrations/postgres`) because DDL differs. Values cross as
//! [`Value`]: integers are 64-bit (BIGINT in PostgreSQL), reals double precision, booleans
//! integers 0/1, timestamps RFC 3339 text.

use std::sync::Mutex;

/// A database error. The driver's own error is kept as the source (`#[from]`), so a caller can
/// still ask PostgreSQL's error for its SQLSTATE code; the rest name what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    #[error("connecting to {location}")]
    Connect {
        location: String,
        #[source]
        source: postgres::Error,
    },
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the database connection was poisoned by a panic")]
    Poisoned,
    #[error(
        "the {component} schema in {location} has version {found}; this build knows up to {known}: upgrade nivesh-ml"
    )]
    SchemaTooNew { component: String, location: String, found: i64, known: i64 },
    #[error("result has no column {0}")]
    NoColumn(usize),
    #[error("column {index}: expected {expected}, found {found}")]
    ColumnType { index: usize, expected: &'static str, found: String },
    #[error("column {column}: unsupported type {ty}")]
    UnsupportedType { column: String, ty: String },
    #[error("no row from {0}")]
    NoRow(String),
    /// A value could not be encoded for storage (e.g. JSON).
    #[error("encoding {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// A value in a parameter or a result column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            Value::Real(v) if v.fract() == 0.0 => Some(*v as i64),
            _ => None,
        }
    }
    pub fn real(&self) -> Option<f64> {
        match self {
            Value::Real(v) => Some(*v),
            Value::Int(v) => Some(*v as f64),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A result row, with typed accessors that name the column on a mismatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, DbError> {
        self.0.get(i).ok_or(DbError::NoColumn(i))
    }
    fn mismatch(&self, index: usize, expected: &'static str) -> DbError {
        DbError::ColumnType { index, expected, found: format!("{:?}", self.0.get(index)) }
    }
    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        self.at(i)?.int().ok_or_else(|| self.mismatch(i, "an integer"))
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub fn real(&self, i: usize) -> Result<f64, DbError> {
        self.at(i)?.real().ok_or_else(|| self.mismatch(i, "a number"))
    }
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        self.at(i)?.text().map(str::to_string).ok_or_else(|| self.mismatch(i, "text"))
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
}

/// Statements inside a transaction (or on the connection, auto-committed).
pub trait Sql {
    /// Run a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Run a query; returns every row.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Run several `;`-separated statements without parameters (a migration file), parsed by
    /// the database itself: comments and string literals are the database's business.
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// Exactly one row.
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::NoRow(sql.to_string()))
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>),
}

/// A connection, shareable between threads (statements run one at a time).
pub struct Db {
    conn: Mutex<Conn>,
    dialect: Dialect,
    /// Where it points, with any password removed (for messages).
    pub location: String,
    /// PostgreSQL's URL (password included: never shown), to connect again after the server
    /// restarted or the connection broke.
    reconnect: Option<String>,
}

/// `$1` → `?1` for SQLite (outside string literals).
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    for c in sql.chars() {
        if c == '\'' {
            in_string = !in_string;
        }
        out.push(if c == '$' && !in_string { '?' } else { c });
    }
    out
}

/// Values bind to SQLite without copying their text.
impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

fn sqlite_row(row: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Row> {
    (0..n)
        .map(|i| {
            Ok(match row.get::<_, rusqlite::types::Value>(i)? {
                rusqlite::types::Value::Null => Value::Null,
                rusqlite::types::Value::Integer(v) => Value::Int(v),
                rusqlite::types::Value::Real(v) => Value::Real(v),
                rusqlite::types::Value::Text(v) => Value::Text(v),
                rusqlite::types::Value::Blob(v) => Value::Text(String::from_utf8_lossy(&v).into_owned()),
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()
        .map(Row)
}

impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Value::Null => Ok(postgres::types::IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT4 => (*v as f32).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }
    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }
    postgres::types::to_sql_checked!();
}

fn postgres_row(row: &postgres::Row) -> Result<Row, DbError> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(|v| Value::Int(v.into())),
            Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(|v| Value::Int(v.into())),
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map(|v| Value::Real(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(|v| Value::Int(v.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            ref other => {
                return Err(DbError::UnsupportedType { column: col.name().to_string(), ty: other.to_string() });
            }
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

fn pg_params(params: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn postgres::types::ToSql + Sync)).collect()
}

struct SqliteTx<'a>(&'a rusqlite::Connection);

impl Sql for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        // prepared once per connection (the cache keeps the last few statements): a statement
        // run row by row in a transaction, like the prediction log's insert, is parsed once
        let mut st = self.0.prepare_cached(&sqlite_placeholders(sql))?;
        let n = st.execute(rusqlite::params_from_iter(params))?;
        Ok(n as u64)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut st = self.0.prepare_cached(&sqlite_placeholders(sql))?;
        let n = st.column_count();
        let rows = st.query_map(rusqlite::params_from_iter(params), |r| sqlite_row(r, n))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.execute_batch(sql)?)
    }
}

struct PgTx<'a, 'b>(&'a mut postgres::Transaction<'b>);

impl Sql for PgTx<'_, '_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        Ok(self.0.execute(sql, &pg_params(params))?)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        self.0.query(sql, &pg_params(params))?.iter().map(postgres_row).collect()
    }
    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.batch_execute(sql)?)
    }
}

/// Connect with a 3-second limit and TCP keepalives (a host that went silent is noticed),
/// unless the URL sets its own.
fn pg_connect(url: &str) -> Result<postgres::Client, postgres::Error> {
    let mut config: postgres::Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(3));
    }
    config.keepalives(true).keepalives_idle(std::time::Duration::from_secs(30));
    config.connect(postgres::NoTls)
}

impl Db {
    /// Open a SQLite file (created with its directory if missing).
    pub fn sqlite(path: &std::path::Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| DbError::Io { path: dir.display().to_string(), source })?;
        }
        let conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::sqlite_conn(conn, path.display().to_string())
    }

    /// A SQLite database in memory (tests).
    pub fn sqlite_in_memory() -> Result<Self, DbError> {
        Self::sqlite_conn(rusqlite::Connection::open_in_memory()?, ":memory:".into())
    }

    fn sqlite_conn(conn: rusqlite::Connection, location: String) -> Result<Self, DbError> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(Db { conn: Mutex::new(Conn::Sqlite(conn)), dialect: Dialect::Sqlite, location, reconnect: None })
    }

    /// Connect to PostgreSQL (`postgres://user:password@host:port/db`).
    pub fn postgres(url: &str) -> Result<Self, DbError> {
        let location = nivesh_core::redact::redact_url(url);
        let client = pg_connect(url).map_err(|source| DbError::Connect { location: location.clone(), source })?;
        Ok(Db {
            conn: Mutex::new(Conn::Postgres(Box::new(client))),
            dialect: Dialect::Postgres,
            location,
            reconnect: Some(url.to_string()),
        })
    }

    /// The connection, connected again first if PostgreSQL closed it (a restart, a network
    /// break): the statement that saw it close failed; the next one finds a new connection.
    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Conn>, DbError> {
        let mut guard = self.conn.lock().map_err(|_| DbError::Poisoned)?;
        if let (Conn::Postgres(client), Some(url)) = (&mut *guard, &self.reconnect)
            && client.is_closed()
        {
            // bounded (pg_connect): a silent network does not hold the lock for the kernel's
            // TCP timeout
            let fresh =
                pg_connect(url).map_err(|source| DbError::Connect { location: self.location.clone(), source })?;
            **client = fresh;
        }
        Ok(guard)
    }

    /// `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite:PATH` or a plain path → SQLite.
    pub fn open_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::postgres(url)
        } else {
            let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
            Self::sqlite(std::path::Path::new(path))
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Run `f` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    pub fn transaction<T, E: From<DbError>>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T, E>) -> Result<T, E> {
        let mut guard = self.conn()?;
        match &mut *guard {
            Conn::Sqlite(conn) => {
                let tx = conn.transaction().map_err(DbError::from)?;
                let out = f(&mut SqliteTx(&tx))?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
            Conn::Postgres(client) => {
                let mut tx = client.transaction().map_err(DbError::from)?;
                let out = f(&mut PgTx(&mut tx))?;
                tx.commit().map_err(DbError::from)?;
                Ok(out)
            }
        }
    }

    /// Run statements separated by `;` (migrations), outside any transaction of the caller's.
    pub fn batch(&self, sql: &str) -> Result<(), DbError> {
        let mut guard = self.conn()?;
        match &mut *guard {
            Conn::Sqlite(conn) => conn.execute_batch(sql)?,
            Conn::Postgres(client) => client.batch_execute(sql)?,
        }
        Ok(())
    }

    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        self.transaction(|tx| tx.execute(sql, params))
    }

    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        self.transaction(|tx| tx.query(sql, params))
    }

    pub fn query_opt(&self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        self.transaction(|tx| tx.query_opt(sql, params))
    }

    pub fn query_one(&self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.transaction(|tx| tx.query_one(sql, params))
    }

    /// Bring the schema up to date with `migrations` (index i = schema version i + 1), each
    /// applied in its own transaction with the version it reaches. Refuses a database whose
    /// schema is newer than this build knows. `component` names the schema in
    /// the `schema_versions` table, so several components can share one database.
    pub fn migrate(&self, component: &str, migrations: &[&str]) -> Result<(), DbError> {
        self.batch(
            "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version BIGINT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let known = migrations.len() as i64;
        let current = self
            .query_opt("SELECT version FROM schema_versions WHERE component = $1", &[component.into()])?
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        if current > known {
            return Err(DbError::SchemaTooNew {
                component: component.to_string(),
                location: self.location.clone(),
                found: current,
                known,
            });
        }
        for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
            let version = i as i64 + 1;
            self.transaction(|tx| {
                tx.batch(sql)?;
                let now = chrono::Utc::now().to_rfc3339();
                tx.execute(
                    "INSERT INTO schema_versions (component, version, applied_at) VALUES ($1, $2, $3)
                     ON CONFLICT (component) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at",
                    &[component.into(), version.into(), now.into()],
                )?;
                Ok::<_, DbError>(())
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_translated_outside_strings() {
        assert_eq!(sqlite_placeholders("SELECT $1, '$2' WHERE a = $3"), "SELECT ?1, '$2' WHERE a = ?3");
    }

    #[test]
    fn migrations_run_as_one_batch_and_keep_literals_with_dashes() {
        // `--` inside a string literal is data, not a comment; a failing statement rolls back the
        // whole migration, version included
        let db = Db::sqlite_in_memory().unwrap();
        let m1 = "-- header\nCREATE TABLE a (x TEXT); -- note\n\nINSERT INTO a VALUES ('a -- b;');\n";
        db.migrate("m", &[m1]).unwrap();
        let rows = db.query("SELECT x FROM a", &[]).unwrap();
        assert_eq!(rows[0].text(0).unwrap(), "a -- b;");
        let m2 = "INSERT INTO a VALUES ('two'); INSERT INTO missing VALUES (1);";
        assert!(db.migrate("m", &[m1, m2]).is_err());
        assert_eq!(db.query("SELECT x FROM a", &[]).unwrap().len(), 1);
        let v = db.query_one("SELECT version FROM schema_versions WHERE component = 'm'", &[]).unwrap();
        assert_eq!(v.int(0).unwrap(), 1);
    }

    #[test]
    fn transactions_roll_back_on_error_and_values_round_trip() {
        let db = Db::sqlite_in_memory().unwrap();
        db.migrate("t", &["CREATE TABLE t (a BIGINT, b DOUBLE PRECISION, c TEXT);"]).unwrap();
        db.execute("INSERT INTO t VALUES ($1, $2, $3)", &[1i64.into(), 0.5.into(), Value::Null]).unwrap();
        let failed: Result<(), DbError> = db.transaction(|tx| {
            tx.execute("INSERT INTO t VALUES ($1, $2, $3)", &[2i64.into(), 1.5.into(), "x".into()])?;
            Err(DbError::NoRow("stop".into()))
        });
        assert!(failed.is_err());
        let rows = db.query("SELECT a, b, c FROM t", &[]).unwrap();
        assert_eq!(rows, vec![Row(vec![Value::Int(1), Value::Real(0.5), Value::Null])]);
        assert_eq!(rows[0].opt_text(2).unwrap(), None);
        assert!(rows[0].text(0).unwrap_err().to_string().contains("column 0: expected text"));
        // migrations are applied once; a newer schema is refused
        db.migrate("t", &["CREATE TABLE t (a BIGINT, b DOUBLE PRECISION, c TEXT);"]).unwrap();
        db.execute("UPDATE schema_versions SET version = 5 WHERE component = 't'", &[]).unwrap();
        let e = db.migrate("t", &["SELECT 1;"]).unwrap_err().to_string();
        assert!(e.contains("version 5"), "{e}");
    }
}

//! One small SQL interface over the two databases the store supports: SQLite (embedded, the
//! default) and PostgreSQL (`DATABASE_URL=postgres://…`, shared by several machines).
//!
//! Statements are written once, with PostgreSQL's `$1, $2, …` placeholders (SQLite reads them
//! as `?1, ?2, …`), and only use SQL both dialects share; each dialect has its own migration
//! files (`migrations/sqlite`, `migrations/postgres`) because DDL differs. Values cross as
//! [`Value`]: integers are 64-bit (BIGINT in PostgreSQL), reals double precision, booleans
//! integers 0/1, timestamps RFC 3339 text.

use std::sync::Mutex;

/// A database error, with the statement that failed where there was one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub message: String,
}

impl DbError {
    fn new(message: impl Into<String>) -> Self {
        DbError { message: message.into() }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::new(e.to_string())
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        // the server's message (e.g. a constraint) is in the source chain
        let detail = e.as_db_error().map(|d| format!(": {}", d.message())).unwrap_or_default();
        DbError::new(format!("{e}{detail}"))
    }
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
        self.0.get(i).ok_or_else(|| DbError::new(format!("result has no column {i}")))
    }
    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        let v = self.at(i)?;
        v.int().ok_or_else(|| DbError::new(format!("column {i}: expected an integer, found {v:?}")))
    }
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }
    pub fn real(&self, i: usize) -> Result<f64, DbError> {
        let v = self.at(i)?;
        v.real().ok_or_else(|| DbError::new(format!("column {i}: expected a number, found {v:?}")))
    }
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        let v = self.at(i)?;
        v.text().map(str::to_string).ok_or_else(|| DbError::new(format!("column {i}: expected text, found {v:?}")))
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
    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }
    /// Exactly one row.
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::new(format!("no row from {sql}")))
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

fn sqlite_params(params: &[Value]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|v| match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Real(r) => rusqlite::types::Value::Real(*r),
            Value::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
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
                return Err(DbError::new(format!("column {}: unsupported type {other}", col.name())));
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
        let n = self.0.execute(&sqlite_placeholders(sql), rusqlite::params_from_iter(sqlite_params(params)))?;
        Ok(n as u64)
    }
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut st = self.0.prepare_cached(&sqlite_placeholders(sql))?;
        let n = st.column_count();
        let rows = st.query_map(rusqlite::params_from_iter(sqlite_params(params)), |r| sqlite_row(r, n))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
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
}

/// Remove the password from a URL, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Db {
    /// Open a SQLite file (created with its directory if missing).
    pub fn sqlite(path: &std::path::Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DbError::new(format!("{}: {e}", dir.display())))?;
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
        Ok(Db { conn: Mutex::new(Conn::Sqlite(conn)), dialect: Dialect::Sqlite, location })
    }

    /// Connect to PostgreSQL (`postgres://user:password@host:port/db`).
    pub fn postgres(url: &str) -> Result<Self, DbError> {
        let location = redact_url(url);
        let client = postgres::Client::connect(url, postgres::NoTls)
            .map_err(|e| DbError::new(format!("connecting to {location}: {}", DbError::from(e))))?;
        Ok(Db { conn: Mutex::new(Conn::Postgres(Box::new(client))), dialect: Dialect::Postgres, location })
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
        let mut guard = self.conn.lock().map_err(|_| DbError::new("the database connection was poisoned"))?;
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
        let mut guard = self.conn.lock().map_err(|_| DbError::new("the database connection was poisoned"))?;
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
            return Err(DbError::new(format!(
                "the {component} schema in {} has version {current}; this build knows up to {known}: upgrade nivesh-ml",
                self.location
            )));
        }
        for (i, sql) in migrations.iter().enumerate().skip(current as usize) {
            let version = i as i64 + 1;
            self.transaction(|tx| {
                for statement in split_statements(sql) {
                    tx.execute(&statement, &[])?;
                }
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

/// Split a migration file into statements: on `;` at the end of a line, without `--` comments.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or("");
        if line.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            out.push(current.trim().trim_end_matches(';').to_string());
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_translated_outside_strings() {
        assert_eq!(sqlite_placeholders("SELECT $1, '$2' WHERE a = $3"), "SELECT ?1, '$2' WHERE a = ?3");
    }

    #[test]
    fn statements_split_on_line_ends_without_comments() {
        let s = split_statements("-- header\nCREATE TABLE a (x INT); -- note\n\nCREATE INDEX i\n ON a (x);\n");
        assert_eq!(s, vec!["CREATE TABLE a (x INT)", "CREATE INDEX i\n ON a (x)"]);
    }

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(redact_url("postgres://me:secret@db:5432/x"), "postgres://me:***@db:5432/x");
        assert_eq!(redact_url("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn transactions_roll_back_on_error_and_values_round_trip() {
        let db = Db::sqlite_in_memory().unwrap();
        db.migrate("t", &["CREATE TABLE t (a BIGINT, b DOUBLE PRECISION, c TEXT);"]).unwrap();
        db.execute("INSERT INTO t VALUES ($1, $2, $3)", &[1i64.into(), 0.5.into(), Value::Null]).unwrap();
        let failed: Result<(), DbError> = db.transaction(|tx| {
            tx.execute("INSERT INTO t VALUES ($1, $2, $3)", &[2i64.into(), 1.5.into(), "x".into()])?;
            Err(DbError::new("stop"))
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

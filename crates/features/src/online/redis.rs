//! The Redis online store: one hash per entity (`nivesh:fs:user_id:U`), a field per
//! view and feature (`user_spending_profile:spend_30d`), and per view `…:__as_of`,
//! `…:__version` (and `…:__state` for state views). A Lua script makes each write atomic and
//! drops it when the stored `__as_of` is newer; the key expires when its longest-lived view
//! does. Reads for many entities are one pipelined round trip.

use super::{OnlineRecord, OnlineStore};
use crate::FeatureError;
use crate::definitions::View;
use std::collections::HashMap;
use std::sync::Mutex;

const WRITE_SCRIPT: &str = r#"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
local ttl = redis.call('TTL', KEYS[1])
if ttl < tonumber(ARGV[3]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
"#;

pub struct RedisOnlineStore {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    script: redis::Script,
    prefix: String,
    location: String,
}

impl RedisOnlineStore {
    /// Connect to `url` (redis://[:password@]host:port/db); `prefix` namespaces the keys.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, FeatureError> {
        let location = nivesh_core::redact::redact_url(url);
        let client =
            redis::Client::open(url).map_err(|source| FeatureError::Redis { location: location.clone(), source })?;
        let store = RedisOnlineStore {
            client,
            conn: Mutex::new(None),
            script: redis::Script::new(WRITE_SCRIPT),
            prefix: prefix.to_string(),
            location,
        };
        store.with_conn(|c| redis::cmd("PING").query::<String>(c))?;
        Ok(store)
    }

    fn key(&self, entity: &str) -> String {
        format!("{}:user_id:{entity}", self.prefix)
    }

    /// Run `f` on the connection, reconnecting once if it was lost.
    fn with_conn<T>(&self, f: impl Fn(&mut redis::Connection) -> redis::RedisResult<T>) -> Result<T, FeatureError> {
        let mut guard =
            self.conn.lock().map_err(|_| FeatureError::Online("redis online store: lock poisoned".into()))?;
        for attempt in 0..2 {
            if guard.is_none() {
                let c = self
                    .client
                    .get_connection_with_timeout(std::time::Duration::from_secs(3))
                    .map_err(|source| FeatureError::Redis { location: self.location.clone(), source })?;
                *guard = Some(c);
            }
            let Some(conn) = guard.as_mut() else { continue };
            match f(conn) {
                Ok(v) => return Ok(v),
                Err(e) if attempt == 0 && (e.is_io_error() || e.is_connection_dropped()) => *guard = None,
                Err(source) => return Err(FeatureError::Redis { location: self.location.clone(), source }),
            }
        }
        Err(FeatureError::Online(format!("redis online store at {}: connection lost", self.location)))
    }
}

impl OnlineStore for RedisOnlineStore {
    fn write(&self, view: &View, records: &[(String, OnlineRecord)], now: i64) -> Result<usize, FeatureError> {
        let as_of_field = format!("{}:__as_of", view.name);
        let mut pipe = redis::pipe();
        let mut n = 0;
        for (entity, r) in records {
            let left = r.as_of + view.ttl_secs() - now;
            if left <= 0 {
                continue;
            }
            let mut inv = self.script.key(self.key(entity));
            inv.arg(&as_of_field).arg(r.as_of).arg(left);
            inv.arg(&as_of_field).arg(r.as_of);
            inv.arg(format!("{}:__version", view.name)).arg(r.version);
            for (f, v) in view.features.iter().zip(&r.values) {
                // missing is an empty string: HSET needs a value
                inv.arg(format!("{}:{}", view.name, f.name)).arg(v.map(|x| x.to_string()).unwrap_or_default());
            }
            if let Some(state) = &r.state {
                inv.arg(format!("{}:__state", view.name)).arg(state);
            }
            pipe.invoke_script(&inv);
            n += 1;
        }
        if n == 0 {
            return Ok(0);
        }
        // EVALSHA in a pipeline needs the script loaded (a restarted server forgets it)
        let results: Vec<i64> = self.with_conn(|c| {
            redis::cmd("SCRIPT").arg("LOAD").arg(WRITE_SCRIPT).query::<String>(c)?;
            pipe.query(c)
        })?;
        Ok(results.iter().filter(|&&r| r == 1).count())
    }

    fn read(&self, entities: &[&str], views: &[&View]) -> Result<Vec<Vec<Option<OnlineRecord>>>, FeatureError> {
        let mut pipe = redis::pipe();
        for e in entities {
            pipe.cmd("HGETALL").arg(self.key(e));
        }
        let hashes: Vec<HashMap<String, String>> = self.with_conn(|c| pipe.query(c))?;
        let mut out = Vec::with_capacity(entities.len());
        for h in &hashes {
            let mut row = Vec::with_capacity(views.len());
            for view in views {
                let field = |f: &str| h.get(&format!("{}:{f}", view.name));
                let version = field("__version").and_then(|v| v.parse::<u32>().ok());
                let as_of = field("__as_of").and_then(|v| v.parse::<i64>().ok());
                row.push(match (version, as_of) {
                    (Some(version), Some(as_of)) if version == view.version => {
                        let values =
                            view.features.iter().map(|f| field(&f.name).and_then(|v| v.parse::<f64>().ok())).collect();
                        Some(OnlineRecord { version, as_of, values, state: field("__state").cloned() })
                    }
                    _ => None,
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    fn count(&self, view: &View) -> Result<u64, FeatureError> {
        let pattern = format!("{}:user_id:*", self.prefix);
        let field = format!("{}:__version", view.name);
        let version = view.version.to_string();
        self.with_conn(|c| {
            // SCAN, not KEYS: it does not block the server on a large keyspace
            let keys: Vec<String> = {
                use redis::TypedCommands;
                c.scan_match::<_, String>(&pattern)?.collect::<redis::RedisResult<Vec<String>>>()?
            };
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("HGET").arg(k).arg(&field);
            }
            let got: Vec<Option<String>> = if keys.is_empty() { Vec::new() } else { pipe.query(c)? };
            Ok(got.iter().filter(|v| v.as_deref() == Some(version.as_str())).count() as u64)
        })
    }

    fn has_any(&self, view: &View) -> Result<bool, FeatureError> {
        // bounded work, whatever else the Redis holds (the prediction cache shares it): at most
        // 8 SCAN calls of ~1,000 keys, at most 4,096 matching keys looked at
        const CALLS: usize = 8;
        const LOOK_AT: usize = 4096;
        let pattern = format!("{}:user_id:*", self.prefix);
        let field = format!("{}:__version", view.name);
        let version = view.version.to_string();
        self.with_conn(|c| {
            let mut keys: Vec<String> = Vec::new();
            let mut cursor: u64 = 0;
            for _ in 0..CALLS {
                let (next, page): (u64, Vec<String>) =
                    redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(1000).query(c)?;
                keys.extend(page);
                cursor = next;
                if cursor == 0 || keys.len() >= LOOK_AT {
                    break;
                }
            }
            keys.truncate(LOOK_AT);
            if keys.is_empty() {
                return Ok(false);
            }
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("HGET").arg(k).arg(&field);
            }
            let got: Vec<Option<String>> = pipe.query(c)?;
            Ok(got.iter().any(|v| v.as_deref() == Some(version.as_str())))
        })
    }

    fn describe(&self) -> String {
        format!("redis ({})", self.location)
    }
}

-- nivesh-ml feature store, offline side, version 1 (PostgreSQL).
-- Raw events, appended by `features ingest`, idempotent on transaction_id.
CREATE TABLE feature_events (
    seq            BIGSERIAL PRIMARY KEY,
    transaction_id TEXT NOT NULL UNIQUE,
    user_id        TEXT NOT NULL,
    ts             BIGINT NOT NULL,
    payload        TEXT NOT NULL
);
CREATE INDEX feature_events_user_ts ON feature_events (user_id, ts);

-- The definition each view version had when first used: a changed definition needs a new version.
CREATE TABLE feature_views (
    name            TEXT NOT NULL,
    version         BIGINT NOT NULL,
    definition_hash TEXT NOT NULL,
    registered_at   TEXT NOT NULL,
    PRIMARY KEY (name, version)
);

-- The last materialization of each view version: up to which event, as of when, how long.
CREATE TABLE feature_materializations (
    view      TEXT NOT NULL,
    version   BIGINT NOT NULL,
    last_seq  BIGINT NOT NULL,
    as_of     BIGINT NOT NULL,
    entities  BIGINT NOT NULL,
    seconds   DOUBLE PRECISION NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (view, version)
);

-- nivesh-ml tracking and registry schema, version 1 (PostgreSQL).
CREATE TABLE experiments (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    experiment_id BIGINT NOT NULL REFERENCES experiments(id),
    status        TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    git_commit    TEXT,
    dataset_hash  TEXT,
    dataset_rows  BIGINT,
    params        TEXT NOT NULL DEFAULT '{}',
    tags          TEXT NOT NULL DEFAULT '{}',
    mlflow_sync   TEXT NOT NULL DEFAULT 'none'
);

CREATE TABLE metrics (
    run_id  TEXT NOT NULL REFERENCES runs(id),
    key     TEXT NOT NULL,
    value   DOUBLE PRECISION NOT NULL,
    step    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, key, step)
);

CREATE TABLE run_artifacts (
    run_id  TEXT NOT NULL REFERENCES runs(id),
    name    TEXT NOT NULL,
    digest  TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE model_versions (
    model       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    run_id      TEXT NOT NULL REFERENCES runs(id),
    digest      TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    metric      DOUBLE PRECISION NOT NULL,
    higher_is_better BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (model, version)
);

CREATE TABLE aliases (
    model    TEXT NOT NULL,
    alias    TEXT NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (model, alias),
    FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
);

-- every alias change, including forced promotions and rollbacks
CREATE TABLE alias_events (
    id        BIGSERIAL PRIMARY KEY,
    model     TEXT NOT NULL,
    alias     TEXT NOT NULL,
    version   BIGINT NOT NULL,
    previous  BIGINT,
    reason    TEXT NOT NULL,
    forced    BIGINT NOT NULL DEFAULT 0,
    at        TEXT NOT NULL
);

-- The prediction log, outcomes fed back for logged predictions, and drift-check history.
CREATE TABLE prediction_log (
    id          TEXT PRIMARY KEY,          -- the prediction_id answered to the caller
    model       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    ts          BIGINT NOT NULL,           -- unix milliseconds
    latency_us  DOUBLE PRECISION NOT NULL,
    input_hash  TEXT NOT NULL,             -- SHA-256 of the checked input's JSON
    input       TEXT NOT NULL,             -- that JSON (free text redacted)
    observation TEXT NOT NULL,             -- features and prediction as monitoring sees them
    output      TEXT NOT NULL              -- the answer (free text redacted)
);
CREATE INDEX prediction_log_model_ts ON prediction_log (model, ts);
CREATE INDEX prediction_log_model_hash ON prediction_log (model, input_hash);

CREATE TABLE feedback (
    prediction_id TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    outcome       TEXT NOT NULL,           -- JSON: what really happened
    received_at   BIGINT NOT NULL          -- unix milliseconds
);

CREATE TABLE drift_checks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    model          TEXT NOT NULL,
    checked_at     BIGINT NOT NULL,        -- unix milliseconds
    drift_detected BIGINT NOT NULL,
    drift_share    DOUBLE PRECISION NOT NULL,
    report         TEXT NOT NULL           -- the whole report, JSON
);
CREATE INDEX drift_checks_model_at ON drift_checks (model, checked_at);

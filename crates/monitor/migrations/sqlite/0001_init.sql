-- The prediction log, outcomes fed back for logged predictions, and drift-check history.
CREATE TABLE prediction_log (
    id          TEXT PRIMARY KEY,          -- the prediction_id answered to the caller
    model       TEXT NOT NULL,
    version     BIGINT NOT NULL,
    ts          BIGINT NOT NULL,           -- unix milliseconds
    latency_us  DOUBLE PRECISION NOT NULL,
    input_hash  TEXT NOT NULL,             -- SHA-256 of the checked input's JSON
    input_key   BIGINT NOT NULL,           -- its first 60 bits, indexed: a small index on a random key
    input       TEXT NOT NULL,             -- that JSON (free text redacted)
    observation TEXT NOT NULL,             -- features and prediction as monitoring sees them
    output      TEXT NOT NULL              -- the answer (free text redacted)
);
CREATE INDEX prediction_log_model_ts ON prediction_log (model, ts);
-- An index on the 64-character hash itself, inserted at random, was most of the cost of a
-- write once the log outgrew the page cache; the integer key's index stays small.
CREATE INDEX prediction_log_input_key ON prediction_log (input_key);

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

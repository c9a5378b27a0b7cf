-- version 3: who changed an alias (the CLI's user, the training pipeline, a dashboard session),
-- and an index for listing runs newest first.
ALTER TABLE alias_events ADD COLUMN actor TEXT;
CREATE INDEX runs_started ON runs (started_at);

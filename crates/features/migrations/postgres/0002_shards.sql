-- Sharded materializations (`features materialize --shard i/N`) keep a cutoff of their own:
-- the shard is part of the key ('' for a run over every entity).
ALTER TABLE feature_materializations ADD COLUMN shard TEXT NOT NULL DEFAULT '';
ALTER TABLE feature_materializations DROP CONSTRAINT feature_materializations_pkey;
ALTER TABLE feature_materializations ADD PRIMARY KEY (view, version, shard);

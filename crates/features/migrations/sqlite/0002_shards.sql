-- Sharded materializations (`features materialize --shard i/N`) keep a cutoff of their own:
-- the shard is part of the key ('' for a run over every entity).
CREATE TABLE feature_materializations_v2 (
    view      TEXT NOT NULL,
    version   BIGINT NOT NULL,
    shard     TEXT NOT NULL DEFAULT '',
    last_seq  BIGINT NOT NULL,
    as_of     BIGINT NOT NULL,
    entities  BIGINT NOT NULL,
    seconds   DOUBLE PRECISION NOT NULL,
    at        TEXT NOT NULL,
    PRIMARY KEY (view, version, shard)
);
INSERT INTO feature_materializations_v2 (view, version, shard, last_seq, as_of, entities, seconds, at)
    SELECT view, version, '', last_seq, as_of, entities, seconds, at FROM feature_materializations;
DROP TABLE feature_materializations;
ALTER TABLE feature_materializations_v2 RENAME TO feature_materializations;

-- Every change of a product bumps its version in the same UPDATE; the sale rules published
-- to Redis ({p:ID}:info) carry it, and a publish older than what Redis holds is ignored, so
-- two concurrent updates (or an update racing a delete) cannot leave Redis with the older.
ALTER TABLE products ADD COLUMN version bigint NOT NULL DEFAULT 1;

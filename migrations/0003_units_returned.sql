-- When Redis confirmed that a cancelled order's units are back in the counters. A cancel
-- commits in PostgreSQL first and returns the units to Redis after; a crash or a Redis
-- timeout in between leaves this NULL, and a repeated DELETE or `orders reconcile --fix`
-- finishes the return (the Redis marker returned:{id} keeps it to once) and sets it.
ALTER TABLE orders ADD COLUMN units_returned_at timestamptz;
-- Orders cancelled before the column existed: their cancel returned the units, or the
-- counters were set from the record since.
UPDATE orders SET units_returned_at = updated_at WHERE status = 'CANCELLED';
-- Cancelled orders whose units may still be owed to Redis: few, read by reconcile.
CREATE INDEX orders_units_owed_idx ON orders (id) WHERE status = 'CANCELLED' AND units_returned_at IS NULL;

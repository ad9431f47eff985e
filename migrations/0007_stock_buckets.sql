-- Hot products in buckets (SPEC sections 4 and 8): on Redis Cluster a product's live stock may
-- be split over `stock_buckets` counters in as many slots. Fixed when the product is created: a
-- change would move buyers' home buckets and with them their per-user counts.
ALTER TABLE products ADD COLUMN stock_buckets integer NOT NULL DEFAULT 1
    CHECK (stock_buckets BETWEEN 1 AND 64);

-- Order and line totals wide enough for any order the API can accept (50 items x quantity 1000
-- x a numeric(12, 2) price is below 10^15), indeed for any amount the worker reads (int64 cents
-- are below 10^17 units), so the record can always hold the order, CONFIRMED or FAILED:
-- numeric(14, 2) refused totals from 10^12 up, and such an order was dead-lettered with its
-- reserved units stranded. Raising a numeric's precision keeps its scale: PostgreSQL
-- changes the type without rewriting the table.
ALTER TABLE orders ALTER COLUMN total_price TYPE numeric(19, 2);
ALTER TABLE order_items ALTER COLUMN total_price TYPE numeric(19, 2);

-- The payment window (SPEC sections 4, 6, G7): a product may give its buyers a number of
-- seconds to pay; an order's deadline is its creation plus the smallest window among its items.
-- An order not PAID by then is EXPIRED by a worker's sweeper and its units sell again.
ALTER TABLE products ADD COLUMN payment_window_seconds integer
    CHECK (payment_window_seconds BETWEEN 1 AND 86400);
ALTER TABLE orders ADD COLUMN expires_at timestamptz;

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('PENDING', 'CONFIRMED', 'PAID', 'COMPLETED', 'CANCELLED', 'FAILED', 'EXPIRED'));
ALTER TABLE inventory_movements DROP CONSTRAINT inventory_movements_reason_check;
ALTER TABLE inventory_movements ADD CONSTRAINT inventory_movements_reason_check
    CHECK (reason IN ('INITIAL', 'ADJUSTMENT', 'ORDER', 'CANCEL', 'FAILED', 'EXPIRED'));

-- What the sweeper looks for: unpaid orders with a deadline, oldest deadline first.
CREATE INDEX orders_expiring_idx ON orders (expires_at) WHERE status = 'CONFIRMED' AND expires_at IS NOT NULL;
-- Orders whose units went back in PostgreSQL and may still be owed to Redis (a cancel or an
-- expiry that stopped between its commit and Redis): few, read by the sweeper and reconcile.
DROP INDEX orders_units_owed_idx;
CREATE INDEX orders_units_owed_idx ON orders (id)
    WHERE status IN ('CANCELLED', 'EXPIRED') AND units_returned_at IS NULL;

-- The lifecycle events other systems must learn of (order.cancelled, order.expired,
-- order.status_changed for PAID and COMPLETED), written in the transaction that changes the
-- status, so a crash between the commit and the publish loses none: every worker relays what
-- is here with publisher confirms and deletes a row once the broker confirmed it. At least once:
-- the event id is the message_id, so consumers drop repeats.
CREATE TABLE event_outbox (
    id          uuid PRIMARY KEY,
    routing_key text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_outbox_created_idx ON event_outbox (created_at, id);

-- The whole schema of SPEC section 6. Columns are the snake_case forms of the API's fields.
-- Constraints enforce what must never happen: negative stock, empty quantities, duplicate
-- orders or idempotency keys, dangling references.

CREATE TABLE categories (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 200),
    description text CHECK (length(description) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_name_key UNIQUE (name),
    CONSTRAINT categories_slug_key UNIQUE (slug)
);

CREATE TABLE products (
    id             uuid PRIMARY KEY,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description    text CHECK (length(description) <= 5000),
    sku            text CHECK (length(sku) BETWEEN 1 AND 64),
    -- Exact decimal money, never binary floats.
    price          numeric(12, 2) NOT NULL CHECK (price >= 0),
    stock          integer NOT NULL CHECK (stock >= 0),
    category_id    uuid REFERENCES categories (id) ON DELETE SET NULL,
    max_per_user   integer CHECK (max_per_user > 0),
    sale_starts_at timestamptz,
    sale_ends_at   timestamptz,
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_sale_window CHECK (
        sale_starts_at IS NULL OR sale_ends_at IS NULL OR sale_ends_at > sale_starts_at)
);
-- Listing is newest first, optionally by category, active products only.
CREATE INDEX products_active_created_idx ON products (created_at DESC, id DESC) WHERE is_active;
CREATE INDEX products_category_created_idx ON products (category_id, created_at DESC, id DESC)
    WHERE is_active;

CREATE TABLE orders (
    id              uuid PRIMARY KEY,
    reference_no    text NOT NULL,
    user_id         text NOT NULL CHECK (user_id ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    status          text NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'FAILED')),
    total_price     numeric(14, 2) NOT NULL CHECK (total_price >= 0),
    idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    failure_reason  text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_reference_no_key UNIQUE (reference_no),
    -- G2: one Idempotency-Key of one user yields at most one order.
    CONSTRAINT orders_user_idempotency_key UNIQUE (user_id, idempotency_key)
);

CREATE TABLE order_items (
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id  uuid NOT NULL REFERENCES products (id),
    quantity    integer NOT NULL CHECK (quantity > 0 AND quantity <= 1000),
    unit_price  numeric(12, 2) NOT NULL CHECK (unit_price >= 0),
    total_price numeric(14, 2) NOT NULL CHECK (total_price >= 0),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX order_items_product_idx ON order_items (product_id);

-- The stock ledger: products.stock = sum(delta) of its movements, at every commit.
CREATE TABLE inventory_movements (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id uuid NOT NULL REFERENCES products (id),
    order_id   uuid REFERENCES orders (id),
    delta      integer NOT NULL CHECK (delta <> 0),
    reason     text NOT NULL CHECK (reason IN ('INITIAL', 'ADJUSTMENT', 'ORDER', 'CANCEL', 'FAILED')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inventory_movements_product_idx ON inventory_movements (product_id);
-- An order moves a product's stock at most once per reason: a redelivered event or a second
-- cancel cannot move it again.
CREATE UNIQUE INDEX inventory_movements_order_once_idx
    ON inventory_movements (order_id, product_id, reason) WHERE order_id IS NOT NULL;

-- The audit trail of every order, oldest first by id.
CREATE TABLE order_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    event_type  text NOT NULL,
    from_status text,
    to_status   text,
    details     jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_events_order_idx ON order_events (order_id, id);

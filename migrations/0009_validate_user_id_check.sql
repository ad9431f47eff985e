-- 0008's check over the rows that were there before it (SHARE UPDATE EXCLUSIVE: the table stays
-- readable and writable while it scans).
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_check;

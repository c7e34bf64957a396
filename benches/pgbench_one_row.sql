-- One-row ceiling of PostgreSQL (benches/api/ceilings.rs): each transaction one insert into a
-- table with a primary key index. Run by the bench as
--   pgbench -n -M prepared -c 16 -j 2 -t N -f benches/pgbench_one_row.sql DATABASE_URL
-- after CREATE TABLE bench_one_row (id bigserial PRIMARY KEY, at timestamptz NOT NULL, payload text NOT NULL).
INSERT INTO bench_one_row (at, payload) VALUES (now(), 'one row');

-- Same-work ceiling of PostgreSQL (benches/api/ceilings.rs): the statements the service runs for
-- one booking of a free slot (src/services/bookings/one_statement.rs, src/store/slots.rs,
-- bookings.rs, audit.rs), with prepared statements: a read and one statement. Each booking takes
-- the next free slot from bench_free_slots (numbered 1..N) through the sequence bench_pick;
-- -D actor=ID names the staff member who books. Run by the bench as
--   pgbench -n -M prepared -c C -j 2 -t N/C -D actor=ID -f benches/pgbench_booking.sql DATABASE_URL
-- The slot as read (store::slots::find), a plain read outside a transaction; the bench's pick of
-- the next free slot rides along in the same statement.
SELECT s.id AS s_id, s.unit_id AS s_unit_id, s.counsellor_id AS s_counsellor_id, s.starts_at AS s_starts_at,
       s.ends_at AS s_ends_at
  FROM slots s JOIN bench_free_slots f ON f.slot_id = s.id
 WHERE f.n = (SELECT nextval('bench_pick')) \gset
-- One statement, its own transaction (store::bookings::insert_taking_seat): the booking, its
-- created event and the audit record as data-modifying WITHs, and take_seat (migration
-- m20261203_300000_take_seat_function): the seat, then the closure and absence check. The bench
-- books without an email, so no outbox row.
WITH created_booking AS (
  INSERT INTO bookings (id, reference, unit_id, counsellor_id, slot_id, starts_at, ends_at, status, channel,
    citizen_name, citizen_email, citizen_phone, citizen_language, interpreter_language, accessibility_needs,
    email_consent, note, override_reason, cancel_reason, sequence, created_at, created_by, updated_at, updated_by,
    search_name, search_phone, erased_at)
  VALUES (gen_random_uuid(), 'P' || lpad(:s_id::text, 7, '0'), :s_unit_id, :s_counsellor_id, :s_id, :s_starts_at,
    :s_ends_at, 'booked', 'phone', 'Bench Citizen', NULL, '0511 123456', 'tr', NULL, NULL, false, NULL, NULL, NULL,
    0, now(), :actor, now(), :actor, 'bench citizen', '0511123456', NULL)
  RETURNING id),
also_0 AS (
  INSERT INTO audit_events (at, actor_id, actor_kind, client_addr, action, unit_id, booking_ids, item_count, target, detail)
  VALUES (now(), :actor, 'staff', NULL, 'booking_created', :s_unit_id, '', NULL, 'booking', '{}')),
created_event AS (
  INSERT INTO booking_events (booking_id, at, actor_id, kind, detail)
  SELECT id, now(), :actor, 'created',
    -- (no colon in literals here: pgbench would read one as a variable)
    json_build_object('slot_id', 1, 'starts_at', now(), 'ends_at', now(), 'adhoc', false, 'channel', 'phone',
      'override_reason', NULL)
  FROM created_booking)
SELECT take_seat(:s_id, :s_unit_id, :s_counsellor_id, :s_starts_at, :s_ends_at, true);

-- Same-work ceiling of PostgreSQL (benches/api/ceilings.rs): the statement the service runs for
-- one booking of a free slot that a search listed (src/services/bookings/one_statement.rs,
-- src/store/bookings.rs, booking_insert.rs, audit.rs), with prepared statements: one statement,
-- its own transaction. Each booking takes the next free slot from bench_free_slots (numbered
-- 1..N, with the slot's values as the search listed them) through the sequence bench_pick, inside
-- the statement (one primary-key lookup the service does not make: it has the values already);
-- -D actor=ID names the staff member who books. Run by the bench as
--   pgbench -n -M prepared -c C -j 2 -t N/C -D actor=ID -f benches/pgbench_booking.sql DATABASE_URL
-- The booking, its created event and the audit record as data-modifying WITHs, and take_seat
-- (migration m20261203_300000_take_seat_function): the seat, then the closure and absence check.
-- The bench books without an email, so no outbox row.
WITH pick AS (
  SELECT slot_id, unit_id, counsellor_id, starts_at, ends_at FROM bench_free_slots
   WHERE n = (SELECT nextval('bench_pick'))),
created_booking AS (
  INSERT INTO bookings (id, reference, unit_id, counsellor_id, slot_id, starts_at, ends_at, status, channel,
    citizen_name, citizen_email, citizen_phone, citizen_language, interpreter_language, accessibility_needs,
    email_consent, note, override_reason, cancel_reason, sequence, created_at, created_by, updated_at, updated_by,
    search_name, search_phone, erased_at)
  SELECT gen_random_uuid(), 'P' || lpad(slot_id::text, 7, '0'), unit_id, counsellor_id, slot_id, starts_at, ends_at,
    'booked', 'phone', 'Bench Citizen', NULL, '0511 123456', 'tr', NULL, NULL, false, NULL, NULL, NULL,
    0, now(), :actor, now(), :actor, 'bench citizen', '0511123456', NULL
  FROM pick
  RETURNING id),
also_0 AS (
  INSERT INTO audit_events (at, actor_id, actor_kind, client_addr, action, unit_id, booking_ids, item_count, target, detail)
  SELECT now(), :actor, 'staff', NULL, 'booking_created', unit_id, '', NULL, 'booking', '{}' FROM pick),
created_event AS (
  INSERT INTO booking_events (booking_id, at, actor_id, kind, detail)
  SELECT id, now(), :actor, 'created',
    -- (no colon in literals here: pgbench would read one as a variable)
    json_build_object('slot_id', 1, 'starts_at', now(), 'ends_at', now(), 'adhoc', false, 'channel', 'phone',
      'override_reason', NULL)
  FROM created_booking)
SELECT take_seat(slot_id, unit_id, counsellor_id, starts_at, ends_at, true) FROM pick;

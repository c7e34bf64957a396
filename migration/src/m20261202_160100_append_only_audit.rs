//! The audit is append-only by the database itself, for every connection: an `UPDATE` of an
//! audit record fails, and so does a `DELETE` of one younger than the audit retention period.
//! The period lives in the one-row table `audit_retention` (the server writes
//! `TERMINBUCH_AUDIT_RETENTION_DAYS` there at start); it cannot go below 30 days, its row cannot be
//! deleted, and every change of it is itself recorded in the audit by the database. So the
//! retention of audit records, or anyone else, can remove only old records.
//!
//! SQLite: triggers compare `julianday(at)` with the database's own clock; an `at` that cannot be
//! read counts as recent (kept). A `REPLACE` that would overwrite a record (SQLite deletes without
//! firing delete triggers then) is refused by an insert trigger. PostgreSQL: trigger functions
//! (with the schema's search path fixed at creation) and a `TRUNCATE` guard.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES,
            _ => SQLITE,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}

const SQLITE: &str = "
CREATE TABLE audit_retention (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    days INTEGER NOT NULL CHECK (days >= 30)
);
INSERT INTO audit_retention (id, days) VALUES (1, 730);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events_append_only: audit records cannot be changed'); END;

CREATE TRIGGER audit_events_keep_recent BEFORE DELETE ON audit_events
WHEN julianday(OLD.at) IS NULL
  OR julianday(OLD.at) >= julianday('now') - coalesce((SELECT days FROM audit_retention WHERE id = 1), 1000000)
BEGIN SELECT RAISE(ABORT, 'audit_events_append_only: records within the audit retention period cannot be deleted'); END;

CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'audit_events_append_only: audit records cannot be replaced'); END;

CREATE TRIGGER audit_retention_kept BEFORE DELETE ON audit_retention
BEGIN SELECT RAISE(ABORT, 'audit_retention_kept: the audit retention period cannot be removed'); END;

CREATE TRIGGER audit_retention_no_replace BEFORE INSERT ON audit_retention
WHEN EXISTS (SELECT 1 FROM audit_retention)
BEGIN SELECT RAISE(ABORT, 'audit_retention_kept: there is one audit retention period'); END;

CREATE TRIGGER audit_retention_changed AFTER UPDATE ON audit_retention
WHEN NEW.days IS NOT OLD.days
BEGIN
    INSERT INTO audit_events (at, actor_id, actor_kind, client_addr, action, unit_id, booking_ids, item_count, target, detail)
    VALUES (strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), NULL, 'system', NULL, 'audit_retention_changed', NULL, '',
            NULL, '', json_object('from_days', OLD.days, 'to_days', NEW.days));
END;
";

const POSTGRES: &str = "
CREATE TABLE audit_retention (
    id integer PRIMARY KEY CHECK (id = 1),
    days integer NOT NULL CHECK (days >= 30)
);
INSERT INTO audit_retention (id, days) VALUES (1, 730);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    RAISE EXCEPTION 'audit_events_append_only: % on % refused', TG_OP, TG_TABLE_NAME;
END $$;

CREATE FUNCTION audit_keep_recent() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    keep_days integer;
BEGIN
    SELECT days INTO keep_days FROM audit_retention WHERE id = 1;
    IF keep_days IS NULL OR OLD.at IS NULL OR OLD.at >= now() - make_interval(days => keep_days) THEN
        RAISE EXCEPTION 'audit_events_append_only: record % is within the audit retention period', OLD.id;
    END IF;
    RETURN OLD;
END $$;

CREATE FUNCTION audit_retention_record_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF NEW.days IS DISTINCT FROM OLD.days THEN
        INSERT INTO audit_events (at, actor_id, actor_kind, client_addr, action, unit_id, booking_ids, item_count, target, detail)
        VALUES (date_trunc('second', now()), NULL, 'system', NULL, 'audit_retention_changed', NULL, '', NULL, '',
                json_build_object('from_days', OLD.days, 'to_days', NEW.days)::text);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_keep_recent BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_keep_recent();
CREATE TRIGGER audit_retention_kept BEFORE DELETE ON audit_retention
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_retention_no_truncate BEFORE TRUNCATE ON audit_retention
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_retention_changed AFTER UPDATE ON audit_retention
    FOR EACH ROW EXECUTE FUNCTION audit_retention_record_change();
";

//! Name search keys gain a third form: the German spelling's "ae", "oe", "ue" as one letter, so
//! that a name stored as "Mueller" is found by "Muller" and one stored as "Muller" by "Mueller"
//! (the forms before only met through "Müller"). Only keys holding such a pair change, so only
//! those rows are read, in batches, and their keys computed again from the stored name.

use sea_orm::ConnectionTrait;
use sea_orm::prelude::Uuid;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BATCH: u64 = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let pairs = Condition::any()
            .add(Expr::col(Bookings::SearchName).like("%ae%"))
            .add(Expr::col(Bookings::SearchName).like("%oe%"))
            .add(Expr::col(Bookings::SearchName).like("%ue%"));
        let mut after: Option<Uuid> = None;
        loop {
            let mut select = Query::select();
            select
                .columns([Bookings::Id, Bookings::CitizenName])
                .from(Bookings::Table)
                .cond_where(pairs.clone())
                .order_by(Bookings::Id, Order::Asc)
                .limit(BATCH);
            if let Some(last) = after {
                select.and_where(Expr::col(Bookings::Id).gt(last));
            }
            let rows = db.query_all(&select).await?;
            let Some(last) = rows.last() else { return Ok(()) };
            after = Some(last.try_get::<Uuid>("", "id")?);
            let mut keys = CaseStatement::new();
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: Uuid = row.try_get("", "id")?;
                let name: String = row.try_get("", "citizen_name")?;
                keys = keys.case(Expr::col(Bookings::Id).eq(id), fold::name_key(&name));
                ids.push(id);
            }
            let update = Query::update()
                .table(Bookings::Table)
                .value(Bookings::SearchName, keys.finally(Expr::col(Bookings::SearchName)))
                .and_where(Expr::col(Bookings::Id).is_in(ids))
                .to_owned();
            db.execute(&update).await?;
            if (rows.len() as u64) < BATCH {
                return Ok(());
            }
        }
    }
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    CitizenName,
    SearchName,
}

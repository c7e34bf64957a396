//! Name search keys gain the sound of each word (Kölner Phonetik, `fold::name_key`), so that a
//! name heard on the phone ("Muhammad") finds it as it was written down ("Mohammed"). Every key
//! of a name not erased is computed again from the stored name, in batches.

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
        let mut after: Option<Uuid> = None;
        loop {
            let mut select = Query::select();
            select
                .columns([Bookings::Id, Bookings::CitizenName])
                .from(Bookings::Table)
                .and_where(Expr::col(Bookings::SearchName).ne(""))
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

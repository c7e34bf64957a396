//! Phone search keys of numbers written with the German country code and the trunk zero after
//! it ("+49 0511 987654"): the fold kept that zero ("0511987654"), so a request of the person
//! concerned by "0511 987654" (key "511987654", matched exactly) missed the booking. The fold
//! now drops it; the keys stored before are computed again here. Only such keys can start with
//! a 0 (a national number loses its zero, an international one its "00" or "+"), so only those
//! rows are read, in batches.

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
                .columns([Bookings::Id, Bookings::CitizenPhone])
                .from(Bookings::Table)
                .and_where(Expr::col(Bookings::SearchPhone).like("0%"))
                .order_by(Bookings::Id, Order::Asc)
                .limit(BATCH);
            if let Some(last) = after {
                select.and_where(Expr::col(Bookings::Id).gt(last));
            }
            let rows = db.query_all(&select).await?;
            let Some(last) = rows.last() else { return Ok(()) };
            after = Some(last.try_get::<Uuid>("", "id")?);
            let mut phones = CaseStatement::new();
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: Uuid = row.try_get("", "id")?;
                let phone: Option<String> = row.try_get("", "citizen_phone")?;
                phones = phones.case(Expr::col(Bookings::Id).eq(id), phone.as_deref().and_then(fold::phone_key));
                ids.push(id);
            }
            let update = Query::update()
                .table(Bookings::Table)
                .value(Bookings::SearchPhone, phones.finally(Expr::col(Bookings::SearchPhone)))
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
    CitizenPhone,
    SearchPhone,
}

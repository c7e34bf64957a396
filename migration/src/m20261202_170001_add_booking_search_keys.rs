//! Search keys of bookings: the citizen's name and phone number folded the way people type
//! them (crate `fold`), so that "yilmaz" finds "Yılmaz" and "0511987654" finds "0511 987654" on
//! SQLite and PostgreSQL alike. Rows stored before are filled here, in batches.

use sea_orm::ConnectionTrait;
use sea_orm::prelude::Uuid;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string, string_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

const BATCH: u64 = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter().table(Bookings::Table).add_column(string(Bookings::SearchName).default("")).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Bookings::Table).add_column(string_null(Bookings::SearchPhone)).to_owned(),
            )
            .await?;
        fill(manager).await
    }
}

/// Computes the keys of every stored booking, `BATCH` rows per statement.
async fn fill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = Query::select();
        select
            .columns([Bookings::Id, Bookings::CitizenName, Bookings::CitizenPhone])
            .from(Bookings::Table)
            .order_by(Bookings::Id, Order::Asc)
            .limit(BATCH);
        if let Some(last) = after {
            select.and_where(Expr::col(Bookings::Id).gt(last));
        }
        let rows = db.query_all(&select).await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = Some(last.try_get::<Uuid>("", "id")?);
        let mut names = CaseStatement::new();
        let mut phones = CaseStatement::new();
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: Uuid = row.try_get("", "id")?;
            let name: String = row.try_get("", "citizen_name")?;
            let phone: Option<String> = row.try_get("", "citizen_phone")?;
            names = names.case(Expr::col(Bookings::Id).eq(id), fold::name_key(&name));
            phones = phones.case(Expr::col(Bookings::Id).eq(id), phone.as_deref().and_then(fold::phone_key));
            ids.push(id);
        }
        let update = Query::update()
            .table(Bookings::Table)
            .value(Bookings::SearchName, names.finally(Expr::col(Bookings::SearchName)))
            .value(Bookings::SearchPhone, phones.finally(Expr::col(Bookings::SearchPhone)))
            .and_where(Expr::col(Bookings::Id).is_in(ids))
            .to_owned();
        db.execute(&update).await?;
        if (rows.len() as u64) < BATCH {
            return Ok(());
        }
    }
}

#[derive(DeriveIden)]
enum Bookings {
    Table,
    Id,
    CitizenName,
    CitizenPhone,
    SearchName,
    SearchPhone,
}

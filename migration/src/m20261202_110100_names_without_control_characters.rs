//! Names of units, staff and locations are one line without control characters from now on;
//! names stored before (a CR/LF in a unit name broke its emails' headers) get each such
//! character replaced by a space, so they can be shown, mailed and saved again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns holding names, per table.
const NAMES: &[(&str, &[&str])] =
    &[("units", &["name", "short_name", "phone"]), ("staff", &["display_name"]), ("locations", &["name"])];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, columns) in NAMES {
            let mut select = Query::select();
            select.column(Alias::new("id")).from(Alias::new(*table));
            for column in *columns {
                select.column(Alias::new(*column));
            }
            for row in db.query_all(&select).await? {
                let id: i32 = row.try_get("", "id")?;
                let mut update = Query::update();
                update.table(Alias::new(*table)).and_where(Expr::col(Alias::new("id")).eq(id));
                let mut changed = false;
                for column in *columns {
                    let value: String = row.try_get("", column)?;
                    let fixed = one_line(&value);
                    if fixed != value {
                        update.value(Alias::new(*column), fixed);
                        changed = true;
                    }
                }
                if changed {
                    db.execute(&update).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // The replaced characters are not kept; nothing to undo.
        Ok(())
    }
}

/// The rule of this migration, frozen here (the application's own lives in `domain::text`).
fn one_line(name: &str) -> String {
    let forbidden = |c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}');
    name.chars().map(|c| if forbidden(c) { ' ' } else { c }).collect::<String>().trim().to_owned()
}

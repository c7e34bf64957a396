//! Search over bookings' stored search keys (see `domain::search`), and keeping the keys
//! current when a citizen's name or phone number changes or is erased.

use entity::booking::{self, BookingStatus as StatusRow};
use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::StoreError;
use crate::domain::search::{SearchKeys, SearchQuery};

/// The fewest digits a stored number without area code has to be found by a number with it
/// (German subscriber numbers have 3 to 8; fewer than 5 would match many callers' numbers).
const LOCAL_DIGITS_MIN: usize = 5;

/// Bookings whose name key contains every word of the query (each in one of its forms, in any
/// order), whose phone key contains its digits (or, written without area code, ends them), or whose
/// reference it spells. Keys and forms are
/// lower-case ASCII letters, digits, spaces and `|`, so `LIKE` needs no escaping and compares
/// alike on both engines.
pub(super) fn condition(query: &SearchQuery) -> Condition {
    matching(query, true)
}

/// Sorts the bookings a query finds only by the sound of a name after those it finds as spelled
/// (or by number, reference or address): "Meier" lists the Meiers and Mayers before a "Maria"
/// who merely sounds alike.
pub(super) fn heard_only_last(query: &SearchQuery) -> Expr {
    Expr::case(matching(query, false), 0).finally(1).into()
}

/// [`condition`], with the sound forms of the name's words (`~…~`) or without them.
fn matching(query: &SearchQuery, by_sound: bool) -> Condition {
    let mut any = Condition::any();
    if !query.name_words().is_empty() {
        let mut every = Condition::all();
        for forms in query.name_words() {
            let mut word = Condition::any();
            for form in forms.iter().filter(|form| by_sound || !form.starts_with(fold::SOUND_MARK)) {
                word = word.add(booking::Column::SearchName.like(LikeExpr::new(format!("%{form}%"))));
            }
            every = every.add(word);
        }
        any = any.add(every);
    }
    if let Some(digits) = query.phone_digits() {
        any = any.add(booking::Column::SearchPhone.like(LikeExpr::new(format!("%{digits}%"))));
        // A number written down without its area code ("987654") is found by the caller's number
        // with it ("0511 987654"): the stored digits end the searched ones. At least
        // `LOCAL_DIGITS_MIN` of them, so that a short fragment is not found by every number.
        any = any.add(
            Condition::all()
                .add(Expr::cust(format!("LENGTH(bookings.search_phone) >= {LOCAL_DIGITS_MIN}")))
                .add(Expr::val(digits.to_owned()).binary(BinOper::Like, Expr::cust("('%' || bookings.search_phone)"))),
        );
    }
    if let Some(reference) = query.reference() {
        any = any.add(booking::Column::Reference.eq(reference));
    }
    if let Some(half) = query.reference_half() {
        // Either half, as the caller read it out (letters and digits of the reference's alphabet:
        // nothing to escape).
        any = any.add(booking::Column::Reference.like(LikeExpr::new(format!("{half}%"))));
        any = any.add(booking::Column::Reference.like(LikeExpr::new(format!("%{half}"))));
    }
    if let Some(email) = query.email() {
        // Stored as typed: compared in lower case (the query is), which both engines do alike
        // for the ASCII of addresses.
        any = any.add(Expr::expr(Func::lower(Expr::col(booking::Column::CitizenEmail))).eq(email));
    }
    any
}

/// Sorts cancelled bookings after the others (live ones: booked, attended, no-show).
pub(super) fn cancelled_last() -> Expr {
    Expr::case(booking::Column::Status.eq(StatusRow::Cancelled), 1).finally(0).into()
}

/// Recomputes the search keys of the bookings `ids` from their stored name and phone number:
/// call it in the same transaction after writing a citizen's name or phone by other means than
/// creating a booking (which stores its keys itself).
///
/// # Errors
/// Database failures.
pub async fn refresh_search_keys<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        let rows: Vec<(Uuid, String, Option<String>)> = booking::Entity::find()
            .select_only()
            .columns([booking::Column::Id, booking::Column::CitizenName, booking::Column::CitizenPhone])
            .filter(booking::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, name, phone) in rows {
            set_keys(db, &[id], &SearchKeys::of(&name, phone.as_deref())).await?;
        }
    }
    Ok(())
}

/// Empties the search keys of the bookings `ids`: after their personal data is erased, no
/// search finds them by name or phone (only by reference).
///
/// # Errors
/// Database failures.
pub async fn clear_search_keys<C: ConnectionTrait>(db: &C, ids: &[Uuid]) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        set_keys(db, chunk, &SearchKeys::cleared()).await?;
    }
    Ok(())
}

async fn set_keys<C: ConnectionTrait>(db: &C, ids: &[Uuid], keys: &SearchKeys) -> Result<(), StoreError> {
    booking::Entity::update_many()
        .col_expr(booking::Column::SearchName, Expr::value(keys.name.clone()))
        .col_expr(booking::Column::SearchPhone, Expr::value(keys.phone.clone()))
        .filter(booking::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

//! Entity re-exports under their table-ish names.

pub use crate::absence::Entity as Absence;
pub use crate::api_token::Entity as ApiToken;
pub use crate::audit_event::Entity as AuditEvent;
pub use crate::booking::Entity as Booking;
pub use crate::booking_event::Entity as BookingEvent;
pub use crate::calendar_feed::Entity as CalendarFeed;
pub use crate::callback_request::Entity as CallbackRequest;
pub use crate::closure::Entity as Closure;
pub use crate::counselling_hours::Entity as CounsellingHours;
pub use crate::location::Entity as Location;
pub use crate::membership::Entity as Membership;
pub use crate::outbox_message::Entity as OutboxMessage;
pub use crate::password_reset::Entity as PasswordReset;
pub use crate::recovery_code::Entity as RecoveryCode;
pub use crate::slot::Entity as Slot;
pub use crate::staff::Entity as Staff;
pub use crate::staff_totp::Entity as StaffTotp;
pub use crate::unit::Entity as Unit;

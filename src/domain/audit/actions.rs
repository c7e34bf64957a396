//! The actions an audit record can be about, with their stored names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares the actions with their stored names (the serde names, pinned by a test).
macro_rules! audit_actions {
    ($($(#[doc = $doc:literal])* $variant:ident => $name:literal,)+) => {
        /// What an audit record is about. Stored and sent as its snake_case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum AuditAction {
            $($(#[doc = $doc])* $variant,)+
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &[Self] = &[$(Self::$variant,)+];

            /// The stored name, e.g. `booking_viewed`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }
    };
}

audit_actions! {
    /// A booking's details (citizen, history, emails) were shown.
    BookingViewed => "booking_viewed",
    /// Bookings were listed by unit, time or status (no search term).
    BookingsListed => "bookings_listed",
    /// Bookings were searched by reference, name or phone (the term itself is not recorded).
    BookingsSearched => "bookings_searched",
    DayListViewed => "day_list_viewed",
    WeekListViewed => "week_list_viewed",
    /// The bookings whose confirmation could not be delivered were listed.
    FailedEmailsViewed => "failed_emails_viewed",
    /// Booked appointments a change of hours, an absence or a closure would affect were shown.
    AffectedBookingsViewed => "affected_bookings_viewed",
    BookingCreated => "booking_created",
    BookingCancelled => "booking_cancelled",
    BookingRescheduled => "booking_rescheduled",
    OutcomeRecorded => "outcome_recorded",
    EmailResent => "email_resent",
    /// The citizen's details of a booking were corrected; `detail.fields` names which (no values).
    ContactCorrected => "contact_corrected",
    /// A unit's callback list (names and phone numbers of waiting callers) was shown.
    CallbacksListed => "callbacks_listed",
    /// One entry of a callback list was shown.
    CallbackViewed => "callback_viewed",
    CallbackAdded => "callback_added",
    CallbackWithdrawn => "callback_withdrawn",
    /// A printable confirmation (with a new citizen's link) was made at the desk.
    ConfirmationPrinted => "confirmation_printed",
    /// Every link of the citizen's to a booking issued so far was ended at the desk (a print
    /// handed to the wrong person, a mailbox others read); the count says how many.
    CitizenLinksRevoked => "citizen_links_revoked",
    LoginSucceeded => "login_succeeded",
    LoginFailed => "login_failed",
    /// Too many failed logins: the password was not checked.
    LoginThrottled => "login_throttled",
    LoggedOut => "logged_out",
    UnitCreated => "unit_created",
    /// A location (address, floor, accessibility notes) was added; its id in the detail.
    LocationCreated => "location_created",
    /// A location's texts changed; its id and the fields changed in the detail.
    LocationChanged => "location_changed",
    /// A location no unit used was deleted; its id and name in the detail.
    LocationDeleted => "location_deleted",
    /// A unit's settings changed (its retention of personal data); old and new value in the detail.
    UnitChanged => "unit_changed",
    /// A unit's self-service settings (what citizens may do through their link) changed.
    UnitSelfServiceChanged => "unit_self_service_changed",
    /// A staff member was added, or a role given to one.
    StaffAdded => "staff_added",
    StaffChanged => "staff_changed",
    StaffDeactivated => "staff_deactivated",
    StaffActivated => "staff_activated",
    RoleAdded => "role_added",
    RoleRemoved => "role_removed",
    PasswordChanged => "password_changed",
    /// A password change was refused: the current password given was wrong.
    PasswordChangeFailed => "password_change_failed",
    /// A password change was refused unchecked: too many wrong current passwords.
    PasswordChangeThrottled => "password_change_throttled",
    PasswordResetLinkCreated => "password_reset_link_created",
    PasswordResetLinkUsed => "password_reset_link_used",
    SecondFactorEnrolled => "second_factor_enrolled",
    /// A wrong (or already used) code at the second step of a login.
    SecondFactorFailed => "second_factor_failed",
    /// Too many wrong codes: the code at the second step of a login was not checked.
    SecondFactorThrottled => "second_factor_throttled",
    RecoveryCodesRenewed => "recovery_codes_renewed",
    /// An admin removed a person's second factor (they enrol again at their next login).
    SecondFactorReset => "second_factor_reset",
    TokenCreated => "token_created",
    TokenRevoked => "token_revoked",
    HoursSaved => "hours_saved",
    HoursDeleted => "hours_deleted",
    AbsenceAdded => "absence_added",
    AbsenceRemoved => "absence_removed",
    ClosureAdded => "closure_added",
    ClosureRemoved => "closure_removed",
    /// Personal data of expired bookings was removed (counts only).
    RetentionRun => "retention_run",
    /// A retention run failed; `detail.next_try_in_seconds` says when it is tried again (none:
    /// at the next run time).
    RetentionRunFailed => "retention_run_failed",
    /// Someone's bookings were looked up by email or phone for a request of the person concerned.
    DataSubjectSearched => "data_subject_searched",
    DataSubjectExported => "data_subject_exported",
    DataSubjectErased => "data_subject_erased",
    AuditViewed => "audit_viewed",
    AuditExported => "audit_exported",
    /// The audit retention period stored in the database changed (written by the database).
    AuditRetentionChanged => "audit_retention_changed",
    /// Audit records older than the retention period were removed (counts only).
    AuditRetentionRun => "audit_retention_run",
    /// The database was restored from a backup (`terminbuch restore`): by the operator; `detail`
    /// says from what and what the restore carried over from the replaced database.
    DatabaseRestored => "database_restored",
    /// An access was refused; `detail.attempted` names what was tried.
    AccessDenied => "access_denied",
}

impl AuditAction {
    /// The action stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|action| action.as_str() == name)
    }
}

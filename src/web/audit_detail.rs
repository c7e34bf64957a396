//! The audit page's "Details" column, worded for people: what a record concerns (a person as
//! "Name (login)", another object as "Regel 3") and its JSON detail as short "label: value"
//! items in the page's language. Known keys and values are translated; an unknown key shows
//! with its value as compact JSON, so nothing is hidden. Long lists and texts are cut ("(+N)").
//! The CSV and the API keep the raw `target` and `detail`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::format;
use super::i18n::Lang;
use crate::domain::audit::{ActorKind, Area, AuditRecord, AuditTarget};
use crate::domain::ids::StaffId;

/// Items of a list shown at most (the rest counted as "(+N)"), in the bookings column too.
pub(super) const LIST_SHOWN: usize = 12;
/// Characters of one text shown at most.
const TEXT_SHOWN: usize = 160;
/// Items of one record's details shown at most.
const FACTS_SHOWN: usize = 24;

/// The detail keys the services write, in the order the column shows them; each has its label
/// `audit.key.<key>`. Any other key is shown last, as it is.
const KEYS: &[&str] = &[
    "login",
    "role",
    "unit",
    "first_admin",
    "generated_password",
    "fields",
    "changed",
    "counsellor_id",
    "staff_id",
    "weekday",
    "start",
    "end",
    "slot_minutes",
    "buffer_minutes",
    "capacity",
    "valid_from",
    "valid_until",
    "starts_at",
    "ends_at",
    "reason",
    "self_service_cutoff_hours",
    "self_service_max_moves",
    "self_service_shows_counsellor",
    "retention_days",
    "from_days",
    "to_days",
    "after_restore",
    "location",
    "name",
    "notify_citizens",
    "notices_queued",
    "token_id",
    "parent_token_id",
    "expires_at",
    "made_with_it",
    "revoked",
    "tokens_revoked",
    "reset_links_voided",
    "calendar_feed_deleted",
    "password_cleared",
    "password_change_required",
    "account_inactive",
    "held_by",
    "had_second_factor",
    "second_factor",
    "wrong_codes_before",
    "attempted",
    "status",
    "links_revoked",
    "sent_again",
    "via",
    "what",
    "link",
    "link_from",
    "message_id",
    "printed_by",
    "search",
    "from",
    "to",
    "actor",
    "subject",
    "booking",
    "action",
    "before",
    "by",
    "bookings",
    "callbacks",
    "history_events",
    "emails",
    "callback_ids",
    "counts",
    "erasures",
    "as_of",
    "part",
    "parts",
    "attempt",
    "next_try_in_seconds",
    "old",
    "new",
];

/// Keys whose number is a staff member's id.
const STAFF_KEYS: &[&str] = &["counsellor_id", "staff_id", "printed_by"];

/// One item of the column: "Geänderte Felder: Name, E-Mail".
pub(super) struct Fact {
    pub label: String,
    pub value: String,
}

/// What the wording of a page's records needs: the language, the zone, the staff's names.
pub(super) struct Wording<'a> {
    pub lang: Lang,
    pub tz: Tz,
    /// Login and name by id.
    pub staff: &'a HashMap<StaffId, (String, String)>,
}

impl Wording<'_> {
    /// "Name (login)", or "#N" for an id that names nobody any more.
    pub fn person(&self, id: StaffId) -> String {
        match self.staff.get(&id) {
            Some((login, name)) => format!("{name} ({login})"),
            None => format!("#{id}"),
        }
    }

    /// The column of `record`: what it concerns, then its details.
    pub fn facts(&self, record: &AuditRecord) -> Vec<Fact> {
        let mut facts = Vec::new();
        if let Some(target) = self.target(&AuditTarget::parse(&record.target)) {
            facts.push(Fact { label: self.lang.t("audit.target").to_owned(), value: target });
        }
        match &record.detail {
            Value::Object(map) => facts.extend(self.object(map)),
            Value::Null => {}
            Value::String(text) => facts.push(self.fact("audit.key.other", cut(text))),
            other => facts.push(self.fact("audit.key.other", self.compact(other))),
        }
        if facts.len() > FACTS_SHOWN {
            let left = facts.len() - FACTS_SHOWN;
            facts.truncate(FACTS_SHOWN);
            facts.push(self.fact("audit.key.more", format!("(+{left})")));
        }
        facts
    }

    fn fact(&self, key: &str, value: String) -> Fact {
        Fact { label: self.lang.t(key).to_owned(), value }
    }

    fn target(&self, target: &AuditTarget) -> Option<String> {
        let named = |key: &str, id: &dyn std::fmt::Display| format!("{} {id}", self.lang.t(key));
        Some(match target {
            AuditTarget::Nothing => return None,
            AuditTarget::Staff(id) => self.person(*id),
            AuditTarget::Unit(id) => named("audit.target.unit", id),
            AuditTarget::Booking(id) => named("audit.target.booking", id),
            AuditTarget::Slot(id) => named("audit.target.slot", id),
            AuditTarget::Rule(id) => named("audit.target.rule", id),
            AuditTarget::Absence(id) => named("audit.target.absence", id),
            AuditTarget::Closure(id) => named("audit.target.closure", id),
            AuditTarget::Callback(id) => named("audit.target.callback", id),
            AuditTarget::Area(area) => self
                .lang
                .t(match area {
                    Area::Administration => "audit.target.admin",
                    Area::Staff => "audit.target.staff",
                    Area::Units => "audit.target.units",
                    Area::DataSubjectRequests => "audit.target.data_subject",
                })
                .to_owned(),
            AuditTarget::Other(text) => cut(text),
        })
    }

    /// The items of a detail object: a change's `old` and `new` objects compared field by field,
    /// then every other key that holds something, known keys in the order of [`KEYS`].
    fn object(&self, map: &Map<String, Value>) -> Vec<Fact> {
        let mut facts = Vec::new();
        let (old, new) = (map.get("old").filter(|v| !v.is_null()), map.get("new").filter(|v| !v.is_null()));
        let compared = match (old, new) {
            (Some(Value::Object(old)), Some(Value::Object(new))) => Some(self.compared(old, new)),
            // A rule added or deleted: its fields as they are.
            (None, Some(Value::Object(one))) | (Some(Value::Object(one)), None) => Some(self.object(one)),
            _ => None,
        };
        let mut keys: Vec<&String> = map.keys().collect();
        if let Some(compared) = compared {
            facts.extend(compared);
            keys.retain(|key| !matches!(key.as_str(), "old" | "new"));
        }
        keys.sort_by(|a, b| (order(a), a).cmp(&(order(b), b)));
        for key in keys {
            match &map[key.as_str()] {
                Value::Null => {}
                value => facts.push(Fact { label: self.label(key), value: self.value(key, value) }),
            }
        }
        facts
    }

    /// The fields of `old` and `new`: one that stayed once, one that changed as "vorher … /
    /// nachher …".
    fn compared(&self, old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<Fact> {
        let mut keys: Vec<&String> = new.keys().chain(old.keys().filter(|key| !new.contains_key(*key))).collect();
        keys.sort_by(|a, b| (order(a), a).cmp(&(order(b), b)));
        let mut facts = Vec::new();
        for key in keys {
            let (before, after) =
                (old.get(key.as_str()).unwrap_or(&Value::Null), new.get(key.as_str()).unwrap_or(&Value::Null));
            let value = if before == after {
                if before.is_null() {
                    continue;
                }
                self.value(key, before)
            } else {
                self.before_after(key, before, after)
            };
            facts.push(Fact { label: self.label(key), value });
        }
        facts
    }

    fn before_after(&self, key: &str, before: &Value, after: &Value) -> String {
        format!(
            "{} {} / {} {}",
            self.lang.t("audit.before"),
            self.value(key, before),
            self.lang.t("audit.after"),
            self.value(key, after)
        )
    }

    fn label(&self, key: &str) -> String {
        if KEYS.contains(&key) { self.lang.t(&format!("audit.key.{key}")).to_owned() } else { cut(key) }
    }

    /// A value of `key` as read: translated, a person's name, a local time, or as it is.
    fn value(&self, key: &str, value: &Value) -> String {
        if !KEYS.contains(&key) {
            return self.compact(value);
        }
        match value {
            Value::Null => "–".to_owned(),
            Value::Bool(yes) => self.lang.t(if *yes { "audit.yes" } else { "audit.no" }).to_owned(),
            Value::Number(number) => self.number(key, number),
            Value::String(text) => self.text(key, text),
            Value::Array(items) => self.list(items, |item| self.value(key, item)),
            Value::Object(map) => self.nested(map),
        }
    }

    fn number(&self, key: &str, number: &serde_json::Number) -> String {
        let small = number.as_i64().and_then(|n| i32::try_from(n).ok());
        match (key, small) {
            (key, Some(id)) if STAFF_KEYS.contains(&key) => self.person(StaffId::new(id)),
            ("weekday", Some(day @ 1..=7)) => format::weekday_name(day.unsigned_abs(), self.lang).to_owned(),
            _ => number.to_string(),
        }
    }

    fn text(&self, key: &str, text: &str) -> String {
        if let Some(word) = self.word(key, text) {
            return word.to_owned();
        }
        if matches!(key, "actor" | "subject") {
            if let AuditTarget::Staff(id) = AuditTarget::parse(text) {
                return self.person(id);
            }
            if let Some(kind) = ActorKind::parse(text) {
                return self.lang.t(&format!("audit.kind.{}", kind.as_str())).to_owned();
            }
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            return format::short(at.with_timezone(&Utc), self.tz, self.lang);
        }
        if let Ok(date) = text.parse::<NaiveDate>() {
            return format::date_numeric(date, self.lang);
        }
        cut(text)
    }

    /// The word for a known value of `key` (a role, an action, a changed field, …).
    fn word(&self, key: &str, value: &str) -> Option<&'static str> {
        let text_key = match key {
            "role" => format!("role.{value}"),
            "reason" => format!("ds.reason.{value}"),
            "action" => format!("audit.action.{value}"),
            "fields" | "changed" => format!("audit.field.{value}"),
            "via" | "search" | "status" | "link_from" | "by" | "what" | "second_factor" | "held_by" => {
                format!("audit.val.{key}.{value}")
            }
            _ => return None,
        };
        Some(self.lang.t(&text_key)).filter(|word| *word != "??")
    }

    /// A nested object: an `old`/`new` pair as "vorher … / nachher …", else its items in a row.
    fn nested(&self, map: &Map<String, Value>) -> String {
        if !map.is_empty() && map.keys().all(|key| matches!(key.as_str(), "old" | "new")) {
            let (before, after) = (map.get("old").unwrap_or(&Value::Null), map.get("new").unwrap_or(&Value::Null));
            return self.before_after("old", before, after);
        }
        let facts = self.object(map);
        let shown: Vec<String> =
            facts.iter().take(LIST_SHOWN).map(|fact| format!("{}: {}", fact.label, fact.value)).collect();
        with_rest(shown.join(", "), facts.len())
    }

    /// Up to [`LIST_SHOWN`] items joined with ", ", then "(+N)" for the rest.
    /// The items as words, "–" for none (an empty list said nothing, after its label).
    fn list(&self, items: &[Value], word: impl Fn(&Value) -> String) -> String {
        if items.is_empty() {
            return "–".to_owned();
        }
        let shown: Vec<String> = items.iter().take(LIST_SHOWN).map(word).collect();
        with_rest(shown.join(", "), items.len())
    }

    /// A value of an unknown key: a text as it is, a list item by item, anything else as
    /// compact JSON; cut when long.
    fn compact(&self, value: &Value) -> String {
        match value {
            Value::String(text) => cut(text),
            Value::Array(items) => self.list(items, |item| self.compact(item)),
            other => cut(&other.to_string()),
        }
    }
}

/// `shown` (of `total` items, [`LIST_SHOWN`] at most) with "(+N)" for the items left out.
fn with_rest(shown: String, total: usize) -> String {
    match total.checked_sub(LIST_SHOWN) {
        Some(left) if left > 0 => format!("{shown} (+{left})"),
        _ => shown,
    }
}

/// The place of `key` in [`KEYS`]; unknown keys after the known ones.
fn order(key: &str) -> usize {
    KEYS.iter().position(|known| *known == key).unwrap_or(KEYS.len())
}

/// `text`, or its first [`TEXT_SHOWN`] characters and "…".
fn cut(text: &str) -> String {
    match text.char_indices().nth(TEXT_SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::audit::{AuditAction, AuditActor};

    fn record(target: &str, detail: Value) -> AuditRecord {
        AuditRecord {
            id: 1,
            at: DateTime::parse_from_rfc3339("2026-11-24T08:00:00Z").expect("a time").with_timezone(&Utc),
            actor: AuditActor::System,
            client: None,
            action: AuditAction::StaffChanged,
            unit_id: None,
            booking_ids: Vec::new(),
            item_count: None,
            target: target.to_owned(),
            detail,
        }
    }

    fn shown(lang: Lang, target: &str, detail: Value) -> Vec<String> {
        let staff = HashMap::from([(StaffId::new(12), ("anna".to_owned(), "Anna Berg".to_owned()))]);
        let words = Wording { lang, tz: chrono_tz::Europe::Berlin, staff: &staff };
        words.facts(&record(target, detail)).into_iter().map(|f| format!("{}: {}", f.label, f.value)).collect()
    }

    #[test]
    fn a_staff_change_names_the_person_and_the_fields() {
        let detail = json!({ "fields": ["name", "email"], "login": "anna" });
        assert_eq!(
            shown(Lang::De, "staff:12", detail.clone()),
            ["Betrifft: Anna Berg (anna)", "Anmeldename: anna", "Geänderte Felder: Name, E-Mail"]
        );
        assert_eq!(
            shown(Lang::En, "staff:12", detail),
            ["Concerns: Anna Berg (anna)", "Login: anna", "Changed fields: name, email"]
        );
        assert_eq!(shown(Lang::De, "staff:99", json!({})), ["Betrifft: #99"], "a person no longer found");
    }

    #[test]
    fn other_targets_are_named_with_their_id() {
        for (target, de, en) in [
            ("rule:3", "Regel 3", "rule 3"),
            ("callback:7", "Rückrufwunsch 7", "callback entry 7"),
            ("absence:4", "Abwesenheit 4", "absence 4"),
            ("closure:5", "Schließzeit 5", "closure 5"),
            ("slot:40", "Zeitfenster 40", "slot 40"),
            ("unit:2", "Stelle 2", "unit 2"),
            ("admin", "Verwaltung", "administration"),
            ("data-subject", "Anfragen betroffener Personen", "requests of persons concerned"),
            ("room:<b>1</b>", "room:<b>1</b>", "room:<b>1</b>"),
        ] {
            assert_eq!(shown(Lang::De, target, json!({})), [format!("Betrifft: {de}")]);
            assert_eq!(shown(Lang::En, target, json!({})), [format!("Concerns: {en}")]);
        }
        assert!(shown(Lang::De, "", json!({})).is_empty(), "nothing to show");
    }

    #[test]
    fn a_change_of_hours_shows_what_changed_before_and_after() {
        let old = json!({ "counsellor_id": 12, "weekday": 5, "start": "09:00", "end": "11:00", "capacity": 1,
            "valid_from": "2026-11-27", "valid_until": null });
        let mut new = old.clone();
        new["end"] = json!("12:00");
        new["valid_until"] = json!("2027-03-31");
        assert_eq!(
            shown(Lang::De, "rule:3", json!({ "old": old, "new": new })),
            [
                "Betrifft: Regel 3",
                "Berater/in: Anna Berg (anna)",
                "Wochentag: Freitag",
                "Beginn: 09:00",
                "Ende: vorher 11:00 / nachher 12:00",
                "Plätze: 1",
                "Gültig ab: 27.11.2026",
                "Gültig bis: vorher – / nachher 31.03.2027",
            ]
        );
        let deleted = shown(Lang::En, "rule:3", json!({ "old": { "weekday": 1, "start": "09:00" } }));
        assert_eq!(deleted, ["Concerns: rule 3", "Weekday: Monday", "Start: 09:00"]);
        let retention = shown(Lang::En, "", json!({ "retention_days": { "old": 30, "new": 60 } }));
        assert_eq!(retention, ["Retention (days): before 30 / after 60"]);
    }

    #[test]
    fn unknown_keys_show_as_compact_json_and_long_values_are_cut() {
        let ids: Vec<i32> = (1..=300).collect();
        let facts = shown(
            Lang::De,
            "",
            json!({ "callback_ids": ids, "zz": { "a": [1, 2] }, "yy": "frei", "xx": true, "search": "reference" }),
        );
        assert_eq!(
            facts,
            [
                "Suche nach: Buchungsnummer",
                "Rückrufwünsche (Nr.): 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 (+288)",
                "xx: true",
                "yy: frei",
                "zz: {\"a\":[1,2]}",
            ]
        );
        assert_eq!(shown(Lang::De, "", json!({ "callback_ids": [] })), ["Rückrufwünsche (Nr.): –"], "none, said");
        let long = "x".repeat(1000);
        let cut_text = &shown(Lang::De, "", json!({ "name": long }))[0];
        assert_eq!(cut_text.chars().count(), "Name: ".len() + TEXT_SHOWN + 1, "{cut_text}");
        let many: Map<String, Value> = (0..100).map(|n| (format!("k{n:03}"), json!(n))).collect();
        let facts = shown(Lang::En, "", Value::Object(many));
        assert_eq!(facts.len(), FACTS_SHOWN + 1);
        assert_eq!(facts[FACTS_SHOWN], "More items: (+76)");
    }

    #[test]
    fn an_audit_read_names_its_filters() {
        let detail = json!({ "from": "2026-11-23T23:00:00Z", "to": null, "actor": "staff:12", "subject": "staff:13",
            "action": "staff_changed", "booking": null, "before": null });
        assert_eq!(
            shown(Lang::De, "", detail),
            [
                "Von: Di, 24.11.2026, 00:00",
                "Wer: Anna Berg (anna)",
                "Betroffene Person: #13",
                "Aktion: Mitarbeitende geändert",
            ]
        );
        assert_eq!(shown(Lang::En, "", json!({ "actor": "system" })), ["Who: System"]);
    }

    #[test]
    fn every_known_key_and_value_has_a_text_in_both_languages() {
        let values = [
            ("via", &["calendar_feed", "to_move", "citizen_link"][..]),
            ("search", &["reference", "text"]),
            ("status", &["booked", "cancelled", "attended", "no_show"]),
            ("link_from", &["email", "print"]),
            ("by", &["operator", "email", "phone", "reference"]),
            ("what", &["page", "cancel", "move", "calendar"]),
            ("second_factor", &["totp", "recovery_code"]),
            ("held_by", &["pair", "login", "address", "site", "device", "password", "second_factor", "other"]),
            ("role", &["admin", "unit_lead", "counsellor", "front_desk"]),
            ("reason", &["request", "consent_withdrawn", "no_longer_needed", "unlawful", "other"]),
            (
                "fields",
                &[
                    "name",
                    "email",
                    "languages",
                    "phone",
                    "language",
                    "interpreter_language",
                    "accessibility_needs",
                    "email_consent",
                ],
            ),
            ("changed", &["name", "street", "postal_code", "city", "floor", "accessibility_notes", "translations"]),
        ];
        let staff = HashMap::new();
        for lang in [Lang::De, Lang::En] {
            for key in KEYS {
                assert_ne!(lang.t(&format!("audit.key.{key}")), "??", "{key}");
            }
            let words = Wording { lang, tz: chrono_tz::Europe::Berlin, staff: &staff };
            for (key, known) in values {
                for value in known {
                    assert!(words.word(key, value).is_some(), "{key}: {value}");
                }
            }
        }
    }
}

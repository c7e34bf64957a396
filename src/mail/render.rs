//! Templates (`templates/email/<kind>/<lang>/{subject.txt, body.txt, body.html}` and the calendar
//! entry's title `templates/email/calendar/<lang>/summary.txt`, embedded at build time) rendered
//! with minijinja: all checked at start-up, each compiled when first used; German is the fallback.

use std::collections::BTreeSet;

use minijinja::{Environment, UndefinedBehavior};

use super::MailError;
use super::messages::AppointmentMail;
use crate::domain::outbox::MailKind;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/email_templates.rs"));
}

const FILES: [&str; 3] = ["subject.txt", "body.txt", "body.html"];

/// The template of the calendar entry's title in `lang` (optional per language: German otherwise).
fn summary_name(lang: &str) -> String {
    format!("calendar/{lang}/summary.txt")
}

/// `(name, source)` of templates, such as the embedded ones.
type Sources = &'static [(&'static str, &'static str)];

/// The template named `name` in `sources`.
fn source(sources: Sources, name: &str) -> Option<&'static str> {
    sources.iter().find(|(named, _)| *named == name).map(|(_, source)| *source)
}

/// An environment with the templates' settings and no templates.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env
}

/// The fallback language: every kind must exist in it.
pub const FALLBACK: &str = "de";

/// Subject, plain text and HTML of one email, and the title of its calendar entry.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The same for every kind, so the citizen's calendar entry keeps its name on a change or reminder.
    pub calendar_summary: String,
}

/// Every email template, checked.
pub struct Templates {
    /// Compiles a template of `sources` when it is first asked for.
    env: Environment<'static>,
    languages: BTreeSet<String>,
    sources: Sources,
}

impl Templates {
    /// Checks the embedded templates (each parses; each language has all files of all kinds) and
    /// compiles each when it is first used: compiled, a template holds about 11 KB, and a service
    /// sends few of the kinds and languages (BENCHMARKS.md, "idle memory").
    ///
    /// # Errors
    /// `MailError::Template` naming the broken or missing file.
    pub fn load() -> Result<Self, MailError> {
        Self::of(embedded::EMBEDDED)
    }

    /// [`Templates::load`] of `sources`.
    fn of(sources: Sources) -> Result<Self, MailError> {
        let mut check = environment();
        let mut languages = BTreeSet::new();
        for (name, source) in sources {
            check.add_template(name, source).map_err(|err| MailError::Template(format!("{name}: {err:#}")))?;
            check.remove_template(name);
            if let Some(lang) = name.split('/').nth(1) {
                languages.insert(lang.to_owned());
            }
        }
        let mut env = environment();
        env.set_loader(move |name| Ok(source(sources, name).map(str::to_owned)));
        let templates = Self { env, languages, sources };
        for lang in &templates.languages {
            for kind in MailKind::ALL {
                for file in FILES {
                    let name = format!("{}/{lang}/{file}", kind.as_str());
                    source(sources, &name).ok_or_else(|| MailError::Template(format!("{name} is missing")))?;
                }
            }
        }
        if !templates.languages.contains(FALLBACK) {
            return Err(MailError::Template("the German templates are missing".to_owned()));
        }
        let summary = summary_name(FALLBACK);
        source(sources, &summary).ok_or_else(|| MailError::Template(format!("{summary} is missing")))?;
        Ok(templates)
    }

    /// The languages with templates, e.g. `["ar", "de", "en", …]`.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.iter().map(String::as_str)
    }

    /// The template language for a citizen's preferred language (German if there is none).
    pub fn language_for<'a>(&'a self, preferred: &str) -> &'a str {
        self.languages.get(preferred).map_or(FALLBACK, String::as_str)
    }

    /// The calendar entry's title alone (the same as [`Rendered::calendar_summary`]).
    ///
    /// # Errors
    /// `MailError::Template` when the template fails.
    pub fn calendar_summary(&self, lang: &str, mail: &AppointmentMail) -> Result<String, MailError> {
        let name = Some(summary_name(lang))
            .filter(|name| source(self.sources, name).is_some())
            .unwrap_or_else(|| summary_name(FALLBACK));
        let template = self.env.get_template(&name).map_err(|err| MailError::Template(format!("{name}: {err}")))?;
        let text = template.render(mail).map_err(|err| MailError::Template(format!("{name}: {err:#}")))?;
        Ok(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Renders one email in `lang` (must be a [`Templates::language_for`] result).
    ///
    /// # Errors
    /// `MailError::Template` when a template fails (e.g. names a field that does not exist).
    pub fn render(&self, kind: MailKind, lang: &str, mail: &AppointmentMail) -> Result<Rendered, MailError> {
        let render = |name: &str| -> Result<String, MailError> {
            let template = self.env.get_template(name).map_err(|err| MailError::Template(format!("{name}: {err}")))?;
            template.render(mail).map_err(|err| MailError::Template(format!("{name}: {err:#}")))
        };
        let part = |file: &str| render(&format!("{}/{lang}/{file}", kind.as_str()));
        let one_line = |text: String| text.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok(Rendered {
            subject: one_line(part("subject.txt")?),
            text: part("body.txt")?,
            html: part("body.html")?,
            calendar_summary: self.calendar_summary(lang, mail)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::ids::{LocationId, UnitId};
    use crate::domain::location::LocationText;
    use crate::domain::records::{Location, Unit};
    use crate::mail::messages::{LinkOffers, MailFacts};

    fn unit(confidential: bool) -> Unit {
        Unit {
            id: UnitId::new(1),
            slug: "ads".into(),
            name: "Antidiskriminierungsstelle".into(),
            short_name: "ADS".into(),
            phone: "0511 168-00000".into(),
            email: "ads@example.org".into(),
            location_id: LocationId::new(1),
            default_slot_minutes: 45,
            languages: vec![crate::domain::language::Language::GERMAN],
            confidential,
            retention_days: 30,
            version: 1,
        }
    }

    fn location() -> Location {
        Location {
            id: LocationId::new(1),
            name: "Hamburger Allee 25".into(),
            street: "Hamburger Allee 25".into(),
            postal_code: "30161".into(),
            city: "Hannover".into(),
            floor: "11. Stock".into(),
            accessibility_notes: "Aufzug vorhanden".into(),
            translations: Vec::new(),
            version: 1,
        }
    }

    fn mail(lang: &str, confidential: bool) -> AppointmentMail {
        mail_to("Ayşe <Test> & Co", lang, confidential)
    }

    fn mail_to(citizen_name: &str, lang: &str, confidential: bool) -> AppointmentMail {
        let starts_at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("valid");
        let (unit, location) = (unit(confidential), location());
        let facts = MailFacts {
            citizen_name,
            starts_at,
            ends_at: starts_at + chrono::TimeDelta::minutes(45),
            unit: &unit,
            location: Some(&location),
            counsellor_name: Some("Frau Beispiel"),
            reference: "ACDEFGH3",
            interpreter_language: Some("tr"),
        };
        AppointmentMail::new(&facts, lang, chrono_tz::Europe::Berlin).with_link(
            Some("https://termine.example/t/0123456789abcdef0123456789abcdef01234567".into()),
            LinkOffers::Move,
        )
    }

    /// The embedded templates with `name` replaced by `source`, or left out without one.
    fn embedded_with(name: &str, source: Option<&'static str>) -> Sources {
        let sources = embedded::EMBEDDED.iter().filter(|(named, _)| *named != name).copied();
        let replaced =
            source.map(|source| (embedded::EMBEDDED.iter().find(|(n, _)| *n == name).expect("a template").0, source));
        Vec::leak(sources.chain(replaced).collect())
    }

    #[test]
    fn a_citizen_name_stored_with_a_line_break_opens_the_email_on_one_line() {
        let mail = mail_to("Ayşe\r\nBcc: x@example.org", "de", false);
        assert_eq!(mail.citizen_name, "Ayşe  Bcc: x@example.org");
        let rendered =
            Templates::load().expect("templates load").render(MailKind::Confirmation, "de", &mail).expect("renders");
        assert!(!rendered.text.lines().any(|line| line.starts_with("Bcc:")), "{}", rendered.text);
    }

    #[test]
    fn a_template_that_does_not_parse_or_is_missing_stops_the_start_naming_it() {
        let name = "confirmation/en/body.txt";
        let Err(MailError::Template(broken)) = Templates::of(embedded_with(name, Some("Hello {{ name"))) else {
            panic!("a template that does not parse was accepted");
        };
        assert!(broken.starts_with(name), "{broken}");
        let Err(MailError::Template(missing)) = Templates::of(embedded_with(name, None)) else {
            panic!("a language without all files was accepted");
        };
        assert_eq!(missing, format!("{name} is missing"));
        assert!(Templates::of(embedded::EMBEDDED).is_ok());
    }

    #[test]
    fn every_kind_renders_in_every_language() {
        let templates = Templates::load().expect("templates load");
        let languages: Vec<&str> = templates.languages().collect();
        for lang in ["de", "en", "tr", "ar", "fa", "ru", "uk"] {
            assert!(languages.contains(&lang), "{lang} templates exist");
        }
        for lang in languages {
            for kind in MailKind::ALL {
                for confidential in [false, true] {
                    let rendered = templates.render(kind, lang, &mail(lang, confidential)).expect("renders");
                    let case = format!("{kind:?}/{lang}/confidential={confidential}");
                    assert!(!rendered.subject.is_empty() && !rendered.subject.contains('\n'), "{case}");
                    assert!(rendered.text.contains("ACDE-FGH3"), "{case}: reference in text");
                    assert!(rendered.html.contains("ACDE-FGH3"), "{case}: reference in html");
                    assert!(rendered.text.contains("0511 168-00000"), "{case}: phone in text");
                    assert!(rendered.html.contains("Ayşe &lt;Test&gt; &amp; Co"), "{case}: html escaped");
                    assert!(!rendered.text.contains("{{") && !rendered.text.contains("{%"), "{case}");
                    assert_eq!(rendered.subject.contains("Antidiskriminierungsstelle"), !confidential, "{case}");
                    assert!(rendered.text.contains("Antidiskriminierungsstelle"), "{case}: the body names the unit");
                    // A confidential unit is named after the appointment's facts, past where an inbox
                    // preview (the first lines) reaches; the others next to the time.
                    for body in [&rendered.text, &rendered.html] {
                        let unit = body.find("Antidiskriminierungsstelle").expect("named");
                        let reference = body.find("ACDE-FGH3").expect("the reference");
                        assert_eq!(unit > reference, confidential, "{case}: where the unit is named");
                    }
                    assert_eq!(rendered.text.contains("Frau Beispiel"), !confidential, "{case}");
                    let link = "https://termine.example/t/0123456789abcdef0123456789abcdef01234567";
                    let with_link = kind != MailKind::Cancellation;
                    assert_eq!(rendered.text.contains(link), with_link, "{case}: the citizen's link in text");
                    // minijinja escapes `/` in HTML (`&#x2f;`), which browsers and mail programs read back.
                    let href = format!(r#"href="{}""#, link.replace('/', "&#x2f;"));
                    assert_eq!(rendered.html.contains(&href), with_link, "{case}: link in html");
                    // A phone's screen is narrower than the link: it wraps anywhere instead of
                    // widening the email (cut off on the left in right-to-left languages).
                    let wraps = format!(r#"{href} style="overflow-wrap: anywhere; word-break: break-all;""#);
                    assert_eq!(rendered.html.contains(&wraps), with_link, "{case}: the link wraps");
                    let phone = "0511 168-00000</";
                    assert!(rendered.html.contains(&format!("nowrap;\">{phone}")), "{case}: the phone on one line");
                }
            }
        }
    }

    #[test]
    fn the_calendar_summary_is_the_same_for_every_kind_and_neutral_for_confidential_units() {
        let templates = Templates::load().expect("templates load");
        for lang in templates.languages().collect::<Vec<_>>() {
            for confidential in [false, true] {
                let summaries: BTreeSet<String> = MailKind::ALL
                    .iter()
                    .map(|&kind| {
                        templates.render(kind, lang, &mail(lang, confidential)).expect("renders").calendar_summary
                    })
                    .collect();
                let case = format!("{lang}/confidential={confidential}: {summaries:?}");
                assert_eq!(summaries.len(), 1, "{case}");
                let summary = summaries.first().expect("one summary");
                assert!(!summary.is_empty() && !summary.contains('\n'), "{case}");
                assert_eq!(summary.contains("Antidiskriminierungsstelle"), !confidential, "{case}");
                // The unit's direct number would name the office the summary keeps quiet.
                let description = mail(lang, confidential).calendar_description();
                assert!(description.contains("ACDE-FGH3"), "{case}: the reference in {description:?}");
                assert_eq!(description.contains("0511 168-00000"), !confidential, "{case}: {description:?}");
            }
        }
        let german = templates.render(MailKind::Reminder, "de", &mail("de", false)).expect("renders");
        assert_eq!(german.calendar_summary, "Beratungstermin: Antidiskriminierungsstelle");
        let neutral = templates.render(MailKind::Change, "en", &mail("en", true)).expect("renders");
        assert_eq!(neutral.calendar_summary, "Appointment");
    }

    #[test]
    fn an_invitation_says_that_declining_it_in_a_calendar_does_not_cancel() {
        let templates = Templates::load().expect("templates load");
        for lang in ["de", "en", "tr", "ar", "fa", "uk", "ru"] {
            for kind in MailKind::ALL {
                let rendered = templates.render(kind, lang, &mail(lang, false)).expect("renders");
                let says = [
                    "Kalenderprogramm",
                    "Declining it",
                    "reddetmeniz",
                    "رفضه",
                    "رد کردن آن",
                    "Відхилення",
                    "Отклонение",
                ]
                .iter()
                .any(|words| rendered.text.contains(words) && rendered.html.contains(words));
                assert_eq!(says, kind != MailKind::Cancellation, "{kind:?} in {lang}");
            }
        }
    }

    #[test]
    fn the_link_promises_only_what_the_page_offers() {
        let templates = Templates::load().expect("templates load");
        let offers = [LinkOffers::Move, LinkOffers::Cancel, LinkOffers::See];
        for lang in templates.languages().collect::<Vec<_>>() {
            for kind in MailKind::ALL.into_iter().filter(|kind| *kind != MailKind::Cancellation) {
                let link = "https://termine.example/t/0123456789abcdef0123456789abcdef01234567";
                let rendered: Vec<Rendered> = offers
                    .iter()
                    .map(|&offer| {
                        let mail = mail(lang, false).with_link(Some(link.into()), offer);
                        templates.render(kind, lang, &mail).expect("renders")
                    })
                    .collect();
                for (i, one) in rendered.iter().enumerate() {
                    assert!(one.text.contains(link), "{kind:?}/{lang}/{:?}: the link", offers[i]);
                    for other in &rendered[i + 1..] {
                        assert_ne!(one.text, other.text, "{kind:?}/{lang}: each offer worded on its own");
                        assert_ne!(one.html, other.html, "{kind:?}/{lang}: each offer worded on its own (html)");
                    }
                }
            }
        }
        let worded = |lang: &str, offer| {
            let mail = mail(lang, false).with_link(Some("https://termine.example/t/x".into()), offer);
            templates.render(MailKind::Reminder, lang, &mail).expect("renders").text
        };
        assert!(worded("en", LinkOffers::Move).contains("cancel or move the appointment through your personal link"));
        assert!(worded("en", LinkOffers::Cancel).contains("or cancel the appointment through your personal link"));
        let see = worded("en", LinkOffers::See);
        assert!(see.contains("see the appointment and add it to your calendar through"), "{see}");
        assert!(!see.contains("cancel the appointment through") && !see.contains("move the appointment through"));
        // The phone number stays the way to change it.
        assert!(see.contains("To cancel or change the appointment, please call 0511 168-00000"), "{see}");
        let sehen = worded("de", LinkOffers::See);
        assert!(sehen.contains("ansehen und in den Kalender übernehmen können Sie"), "{sehen}");
        assert!(!sehen.contains("verschieben können Sie auch"), "{sehen}");
    }

    #[test]
    fn the_floor_and_accessibility_notes_are_told_in_the_emails_language_where_the_location_has_it() {
        let templates = Templates::load().expect("templates load");
        let mut place = location();
        place.translations = vec![
            LocationText { language: "en".into(), floor: "11th floor".into(), accessibility_notes: "Lift".into() },
            LocationText { language: "ar".into(), floor: "الطابق 11".into(), accessibility_notes: String::new() },
            LocationText { language: "fa".into(), floor: "طبقه 11".into(), accessibility_notes: String::new() },
        ];
        let (unit, starts_at) = (unit(false), Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("valid"));
        let render = |lang: &str| {
            let facts = MailFacts {
                citizen_name: "A. K.",
                starts_at,
                ends_at: starts_at + chrono::TimeDelta::minutes(45),
                unit: &unit,
                location: Some(&place),
                counsellor_name: None,
                reference: "ACDEFGH3",
                interpreter_language: None,
            };
            let mail = AppointmentMail::new(&facts, lang, chrono_tz::Europe::Berlin);
            (mail.location_line(), templates.render(MailKind::Confirmation, lang, &mail).expect("renders"))
        };
        let (line, english) = render("en");
        assert!(english.text.contains("Floor: 11th floor") && english.text.contains("Accessibility: Lift"));
        assert!(!english.text.contains("Stock") && !english.text.contains("Aufzug"), "{}", english.text);
        assert!(line.ends_with("11th floor"), "the calendar entry's place: {line}");
        // Arabic has a floor of its own, and the German notes; each isolated with its own direction.
        let (_, arabic) = render("ar");
        assert!(arabic.html.contains("<bdi>الطابق 11</bdi>") && arabic.html.contains("<bdi>Aufzug vorhanden</bdi>"));
        assert!(arabic.text.contains("\u{2068}الطابق 11\u{2069}"), "{}", arabic.text);
        let (_, persian) = render("fa");
        assert!(persian.html.contains("<bdi>طبقه 11</bdi>") && persian.html.contains("<bdi>Aufzug vorhanden</bdi>"));
        assert!(persian.text.contains("\u{2068}طبقه 11\u{2069}"), "{}", persian.text);
        // Turkish has none: German.
        let (_, turkish) = render("tr");
        assert!(turkish.text.contains("11. Stock") && turkish.text.contains("Aufzug vorhanden"));
    }

    #[test]
    fn german_text_spells_out_the_local_time() {
        let templates = Templates::load().expect("templates load");
        let rendered = templates.render(MailKind::Confirmation, "de", &mail("de", false)).expect("renders");
        assert!(rendered.text.contains("Dienstag, 1. Dezember 2026, 10:00 Uhr"), "{}", rendered.text);
        assert!(rendered.text.contains("Dauer: 45 Minuten"));
        assert!(rendered.text.contains("Türkçe"), "interpreter language");
        assert!(rendered.text.contains("11. Stock"));
    }

    #[test]
    fn persian_text_spells_out_the_local_time_in_persian() {
        let templates = Templates::load().expect("templates load");
        let rendered = templates.render(MailKind::Confirmation, "fa", &mail("fa", false)).expect("renders");
        let date = "سه\u{200c}شنبه، 1 دسامبر 2026";
        assert!(rendered.text.contains(&format!("زمان: {date}، ساعت 10:00")), "{}", rendered.text);
        assert!(rendered.text.contains("مدت: 45 دقیقه"), "{}", rendered.text);
        assert!(rendered.html.contains(r#"<html lang="fa" dir="rtl">"#), "{}", rendered.html);
        assert_eq!(rendered.subject, format!("تأیید نوبت: Antidiskriminierungsstelle، {date}"));
        assert_eq!(rendered.calendar_summary, "نوبت مشاوره: Antidiskriminierungsstelle");
    }

    #[test]
    fn arabic_and_persian_html_is_right_to_left_and_unknown_languages_fall_back_to_german() {
        let templates = Templates::load().expect("templates load");
        for lang in ["ar", "fa"] {
            right_to_left(&templates, lang);
        }
        assert_eq!(templates.language_for("xx"), "de");
        assert_eq!(templates.language_for("tr"), "tr");
        assert_eq!(templates.language_for("fa"), "fa");
    }

    /// The checks of a right-to-left language's emails.
    fn right_to_left(templates: &Templates, lang: &str) {
        let rendered = templates.render(MailKind::Reminder, lang, &mail(lang, false)).expect("renders");
        assert!(rendered.html.contains(r#"dir="rtl""#), "{lang}");
        // Webmail drops the attributes of <html> and <body>: the content says its direction itself.
        let content = format!(r#"<div dir="rtl" lang="{lang}" style="direction: rtl; text-align: right;">"#);
        assert!(rendered.html.contains(&content), "{lang}");
        // Left-to-right runs inside right-to-left text are isolated, or their parts swap places.
        for kind in MailKind::ALL {
            let rendered = templates.render(kind, lang, &mail(lang, false)).expect("renders");
            // The phone number is kept on one line too (a phone's screen broke it after "168-").
            for (ltr, style) in [("0511 168-00000", r#" style="white-space: nowrap;""#), ("ACDE-FGH3", "")] {
                assert!(
                    rendered.html.contains(&format!(r#"<bdi dir="ltr"{style}>{ltr}</bdi>"#)),
                    "{lang} {kind:?}: {ltr} in html"
                );
                assert!(rendered.text.contains(&format!("\u{2066}{ltr}\u{2069}")), "{lang} {kind:?}: {ltr} in text");
            }
        }
        // So are the floor and the accessibility notes of every email that names the place, with
        // the direction of their own first letter: German where the location has no text in the language.
        for kind in MailKind::ALL.into_iter().filter(|kind| *kind != MailKind::Cancellation) {
            let rendered = templates.render(kind, lang, &mail(lang, false)).expect("renders");
            for ltr in ["11. Stock", "Aufzug vorhanden"] {
                assert!(rendered.html.contains(&format!("<bdi>{ltr}</bdi>")), "{lang} {kind:?}: {ltr} in html");
                assert!(rendered.text.contains(&format!("\u{2068}{ltr}\u{2069}")), "{lang} {kind:?}: {ltr} in text");
            }
        }
        // A link stands alone on its line, without isolates a linkifier would take into the URL.
        let link = "https://termine.example/t/0123456789abcdef0123456789abcdef01234567";
        let text = templates.render(MailKind::Confirmation, lang, &mail(lang, false)).expect("renders").text;
        assert!(text.lines().any(|line| line == link), "{lang}: {text}");
        // A name in Latin letters ending in a full stop keeps it at its end: the name is isolated.
        for kind in MailKind::ALL {
            let rendered = templates.render(kind, lang, &mail_to("A. K.", lang, false)).expect("renders");
            assert!(rendered.html.contains("<bdi>A. K.</bdi>"), "{lang} {kind:?}: the name in html");
            assert!(rendered.text.contains("\u{2068}A. K.\u{2069}"), "{lang} {kind:?}: the name in text");
        }
    }

    #[test]
    fn a_change_notice_names_the_earlier_time_in_every_language_only_when_given() {
        let templates = Templates::load().expect("templates load");
        let before = chrono::DateTime::parse_from_rfc3339("2026-11-30T14:15:00+01:00").expect("a time").to_utc();
        for lang in templates.languages().collect::<Vec<_>>() {
            let plain = templates.render(MailKind::Change, lang, &mail(lang, false)).expect("renders");
            let moved = mail(lang, false).moved_from(Some(before), lang, chrono_tz::Europe::Berlin);
            let spelled = moved.previous_when.clone().expect("spelled out");
            assert!(spelled.contains("14:15"), "{lang}: {spelled}");
            let named = templates.render(MailKind::Change, lang, &moved).expect("renders");
            for (what, with, without) in [("text", &named.text, &plain.text), ("html", &named.html, &plain.html)] {
                assert!(with.contains(&spelled), "{lang} {what}: {with}");
                assert!(!without.contains("14:15"), "{lang} {what}: no earlier time when none is given");
                assert_eq!(with.lines().count(), without.lines().count() + 1, "{lang} {what}: one line more");
            }
        }
    }

    #[test]
    fn a_place_notice_opens_with_its_own_sentence_in_every_language_and_is_the_change_email_otherwise() {
        let templates = Templates::load().expect("templates load");
        for lang in templates.languages().collect::<Vec<_>>() {
            let moved = templates.render(MailKind::Change, lang, &mail(lang, false)).expect("renders");
            let place =
                templates.render(MailKind::Change, lang, &mail(lang, false).about_place(true)).expect("renders");
            let differing = |a: &str, b: &str| a.lines().zip(b.lines()).filter(|(a, b)| a != b).count();
            assert_eq!(differing(&moved.text, &place.text), 1, "{lang}: only the opening sentence differs");
            assert_eq!(differing(&moved.html, &place.html), 1, "{lang}: only the opening sentence differs (html)");
            assert_eq!(moved.subject, place.subject, "{lang}");
        }
    }
}

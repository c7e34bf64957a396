//! The OpenAPI document: the annotations of the routes, completed in one place with what every
//! operation shares: the bearer scheme as global security, and the problem responses
//! (`application/problem+json`) each kind of operation can give, described once under
//! `components.responses`.

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::routing::{MethodRouter, get};
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

/// The media type of every error body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Where the document is served; it needs no token.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "terminbuch",
        description = "Appointment book for public counselling services. \
        Times are RFC 3339 with the offset of the service's zone (Europe/Berlin); errors are RFC 9457 \
        problem documents (`application/problem+json`) with a stable `code` and, for invalid input, \
        the failing fields in `errors`. Every operation needs `Authorization: Bearer TOKEN` \
        (`terminbuch token create --login LOGIN`) unless it says otherwise."
    ),
    components(schemas(crate::http::error::Problem, crate::http::error::FieldError))
)]
struct ApiDoc;

/// `GET` of the finished document: its JSON text, written once.
pub fn serve<S: Clone + Send + Sync + 'static>(openapi: &utoipa::openapi::OpenApi) -> MethodRouter<S> {
    let text = Bytes::from(serde_json::to_vec(openapi).expect("an OpenAPI document serialises"));
    get(move || {
        let text = text.clone();
        async move { ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], text) }
    })
}

/// The document's base: info and the shared schemas. Routes add their paths to it; [`complete`]
/// finishes it.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Completes the document built from the routes' annotations (call it after all routes are
/// merged, so operations any module adds are covered). An operation whose annotation names no
/// `security` needs none (`/health`); every other one needs the bearer token.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    BearerAuth.modify(openapi);
    add_document_operation(openapi);
    add_problem_components(openapi);
    ErrorResponses.modify(openapi);
    add_links(openapi);
}

/// A link from the success response of a creating `POST` to the operations that take its id.
struct CreatedLink {
    /// The path of the creating `POST`.
    from: &'static str,
    status: &'static str,
    /// Operation ids that take the id.
    to: &'static [&'static str],
    /// Their path parameters and the runtime expressions that fill them.
    parameters: &'static [(&'static str, &'static str)],
}

/// Where a created resource's id is used next. Clients (and schemathesis's stateful phase)
/// follow these instead of guessing ids.
const LINKS: &[CreatedLink] = &[
    CreatedLink {
        from: "/api/v1/bookings",
        status: "201",
        to: &["get_booking", "cancel_booking", "reschedule_booking", "record_outcome", "resend_email"],
        parameters: &[("booking", "$response.body#/id")],
    },
    CreatedLink {
        from: "/api/v1/units/{unit}/absences",
        status: "201",
        to: &["delete_absence"],
        parameters: &[("unit", "$request.path.unit"), ("id", "$response.body#/id")],
    },
    CreatedLink {
        from: "/api/v1/units/{unit}/closures",
        status: "201",
        to: &["delete_closure"],
        parameters: &[("unit", "$request.path.unit"), ("id", "$response.body#/id")],
    },
    CreatedLink {
        from: "/api/v1/units/{unit}/counselling-hours",
        status: "201",
        to: &["update_hours", "delete_hours"],
        parameters: &[("unit", "$request.path.unit"), ("id", "$response.body#/rule/id")],
    },
    CreatedLink {
        from: "/api/v1/units",
        status: "201",
        to: &["list_counsellors", "list_free_slots"],
        parameters: &[("unit", "$response.body#/slug")],
    },
];

/// Adds [`LINKS`] to the responses that exist in the document (and only to operations that exist).
fn add_links(openapi: &mut utoipa::openapi::OpenApi) {
    let known: std::collections::HashSet<String> = openapi
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.put, &item.post, &item.delete, &item.patch])
        .filter_map(|operation| operation.as_ref().and_then(|o| o.operation_id.clone()))
        .collect();
    for CreatedLink { from, status, to, parameters } in LINKS {
        let operation = openapi.paths.paths.get_mut(*from).and_then(|item| item.post.as_mut());
        let Some(RefOr::T(response)) = operation.and_then(|o| o.responses.responses.get_mut(*status)) else {
            continue;
        };
        for target in to.iter().filter(|t| known.contains(**t)) {
            let mut link = utoipa::openapi::link::LinkBuilder::new().operation_id(*target);
            for (name, expression) in *parameters {
                link = link.parameter(*name, *expression);
            }
            response.links.insert((*target).to_owned(), RefOr::T(link.build()));
        }
    }
}

/// The document describes where it is served, as an operation without security.
fn add_document_operation(openapi: &mut utoipa::openapi::OpenApi) {
    let mut document = Response::new("this OpenAPI 3.1 document");
    let object = utoipa::openapi::ObjectBuilder::new().build();
    document.content.insert("application/json".to_owned(), RefOr::T(Content::new(Some(object))));
    let operation = utoipa::openapi::path::OperationBuilder::new()
        .tag("health")
        .operation_id(Some("openapi_document"))
        .summary(Some("The OpenAPI document of this API."))
        .response("200", document)
        .build();
    openapi.paths.add_path_operation(DOCUMENT_PATH, vec![HttpMethod::Get], operation);
}

/// The bearer scheme, required globally.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("opaque").build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    }
}

/// Adds to every operation the problem responses it can give besides those its annotation names
/// (as references to the shared ones, [`PROBLEMS`]), turns annotated problem bodies into
/// `application/problem+json`, and gives every response a description.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                complete_operation(operation);
            }
        }
    }
}

/// The problem responses operations share, each once under `components.responses`: its name,
/// status and description. Operations refer to them (`$ref`) rather than repeating them, which
/// keeps the document small (in the service's memory too).
const PROBLEMS: [(&str, u16, &str); 10] = [
    (
        "MalformedInput",
        400,
        "malformed JSON body (`malformed_json`) or a query parameter of the wrong type (`invalid_query`)",
    ),
    ("Unauthenticated", 401, "no valid bearer token (`unauthenticated`)"),
    ("Forbidden", 403, "the token's owner may not do this here (`forbidden`)"),
    ("NotFound", 404, "the unit, booking or other resource named does not exist"),
    ("NoSuchResource", 404, "no such resource"),
    ("PayloadTooLarge", 413, "the body is larger than 64 KiB (`payload_too_large`)"),
    ("UnsupportedMediaType", 415, "the body is not `application/json` (`unsupported_media_type`)"),
    ("InvalidInput", 422, "invalid input (`validation_failed` with `errors` naming each field) or a refused rule"),
    ("InternalError", 500, "an internal error; it has been logged (`internal_error`)"),
    ("Unavailable", 503, "the database is busy or the request took too long"),
];

/// Adds the shared problem responses to the components.
fn add_problem_components(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (name, _, description) in PROBLEMS {
        components.responses.insert(name.to_owned(), RefOr::T(problem_response(description)));
    }
}

/// Which shared problem responses an operation can give, by what it takes (names in
/// [`PROBLEMS`]).
fn problem_names(operation: &Operation) -> Vec<&'static str> {
    let public = operation.security.is_none();
    let has_body = operation.request_body.is_some();
    let params = operation.parameters.iter().flatten();
    let (mut has_query, mut has_path) = (false, false);
    for parameter in params {
        if let RefOr::T(parameter) = parameter {
            has_query |= parameter.parameter_in == ParameterIn::Query;
            has_path |= parameter.parameter_in == ParameterIn::Path;
        }
    }
    let mut names = Vec::new();
    if has_body || has_query {
        names.push("MalformedInput");
    }
    if !public {
        names.extend(["Unauthenticated", "Forbidden", "NotFound"]);
    } else if has_path {
        names.push("NoSuchResource");
    }
    if has_body {
        names.extend(["PayloadTooLarge", "UnsupportedMediaType"]);
    }
    if !public || has_body || has_query {
        names.push("InvalidInput");
    }
    names.extend(["InternalError", "Unavailable"]);
    names
}

fn complete_operation(operation: &mut Operation) {
    let names = problem_names(operation);
    let public = operation.security.is_none();
    let responses = &mut operation.responses.responses;
    for (name, status, _) in PROBLEMS.iter().filter(|(name, ..)| names.contains(name)) {
        // An operation's own annotation of a status stays.
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))));
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        let error = status.starts_with('4') || status.starts_with('5');
        if error && let Some(content) = response.content.shift_remove("application/json") {
            let problem = matches!(&content, RefOr::T(Content { schema: Some(RefOr::Ref(r)), .. })
                if r.ref_location.ends_with("/Problem"));
            let media_type = if problem { PROBLEM_JSON } else { "application/json" };
            response.content.insert(media_type.to_owned(), content);
        }
        if response.description.is_empty() {
            response.description = reason(status).to_owned();
        }
    }
    if public {
        // No annotation names a scheme: this operation needs none (overrides the global one).
        operation.security = Some(Vec::new());
    }
}

/// A response with a problem document.
fn problem_response(description: &str) -> Response {
    let mut response = Response::new(description);
    response.content.insert(PROBLEM_JSON.to_owned(), RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))));
    response
}

fn reason(status: &str) -> &'static str {
    status
        .parse::<u16>()
        .ok()
        .and_then(|code| axum::http::StatusCode::from_u16(code).ok())
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> serde_json::Value {
        let (_, mut openapi) = utoipa_axum::router::OpenApiRouter::<crate::state::AppState>::with_openapi(base())
            .merge(crate::http::routes::health::router())
            .merge(crate::http::routes::bookings::router())
            .split_for_parts();
        complete(&mut openapi);
        serde_json::to_value(&openapi).expect("the document serialises")
    }

    /// `response`, or the shared response its `$ref` names.
    fn resolved<'a>(doc: &'a serde_json::Value, response: &'a serde_json::Value) -> &'a serde_json::Value {
        match response["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/responses/")) {
            Some(name) => &doc["components"]["responses"][name],
            None => response,
        }
    }

    #[test]
    fn every_operation_documents_its_problems_as_problem_json_and_needs_the_token_unless_public() {
        let doc = document();
        assert_eq!(doc["security"], serde_json::json!([{ "bearer": [] }]));
        let create = &doc["paths"]["/api/v1/bookings"]["post"];
        for status in ["400", "401", "403", "404", "409", "413", "415", "422", "500", "503"] {
            let response = resolved(&doc, &create["responses"][status]);
            let content = &response["content"];
            assert_eq!(content[PROBLEM_JSON]["schema"]["$ref"], "#/components/schemas/Problem", "{status}");
            assert!(content.get("application/json").is_none(), "{status}");
            assert!(response["description"].as_str().is_some_and(|d| !d.is_empty()));
        }
        // The shared ones once, referred to: the operation's own 409 inline.
        assert_eq!(create["responses"]["401"]["$ref"], "#/components/responses/Unauthenticated");
        assert!(create["responses"]["409"].get("$ref").is_none());
        assert_eq!(doc["components"]["responses"].as_object().map(serde_json::Map::len), Some(PROBLEMS.len()));
        let health = &doc["paths"]["/health"]["get"];
        assert_eq!(health["security"], serde_json::json!([]));
        assert!(health["responses"].get("401").is_none());
        assert!(health["responses"]["503"]["content"]["application/json"].is_object(), "health's own body");
        assert_eq!(doc["paths"][DOCUMENT_PATH]["get"]["security"], serde_json::json!([]));
    }

    /// A path parameter is one of the path's `{…}`, and every `{…}` is one: query parameters
    /// documented as path parameters (required, in a template that has no place for them) made
    /// clients built from the document put them nowhere or refuse to call.
    #[test]
    fn every_parameter_is_documented_where_it_is_sent() {
        let doc = document();
        let mut wrong = Vec::new();
        for (path, operations) in doc["paths"].as_object().expect("paths") {
            for (method, operation) in operations.as_object().expect("operations") {
                let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
                for parameter in &parameters {
                    let (name, place) = (parameter["name"].as_str().expect("name"), &parameter["in"]);
                    let templated = path.contains(&format!("{{{name}}}"));
                    if templated != (place == "path") {
                        wrong.push(format!("{method} {path}: {name} in {place}"));
                    }
                }
                let templates = path.matches('{').count();
                let in_path = parameters.iter().filter(|p| p["in"] == "path").count();
                if templates != in_path {
                    wrong.push(format!("{method} {path}: {in_path} path parameters for {templates} templates"));
                }
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn the_citizens_language_is_documented_as_the_supported_list() {
        let doc = document();
        let language = &doc["components"]["schemas"]["Language"];
        let codes: Vec<String> = crate::domain::language::Language::all().map(|l| l.code().to_owned()).collect();
        assert_eq!(language["enum"], serde_json::json!(codes));
        let citizen = &doc["components"]["schemas"]["CitizenInput"]["properties"];
        assert!(citizen["language"].to_string().contains("#/components/schemas/Language"), "{citizen}");
    }
}

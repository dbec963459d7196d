//! `GET /admin[?tenant=T]`: the admin page, like the admin center's self-service purchase
//! settings. Pick a tenant (by id, name or domain; contoso, or else the first by name, when none
//! is given); see the value of each product and offer type for each policy, the change history,
//! newest first (the newest [`AUDIT_ROWS`]; `GET /admin/tenants/{tenant}/audit` has them all), and
//! the delegated admin relationships the tenant is partner or customer in. Plain HTML: no
//! scripts, no outside resources, every value escaped.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::error::ApiError;
use crate::faults::FaultConfig;
use crate::model::{
    AuditEntry, ItemKind, OfferTypePolicy, Policy, PolicyValue, ProductPolicy, Relationship,
    Tenant, TenantId,
};
use crate::routes::html::{escape, Page};
use crate::routes::licensing::PREFIXES;
use crate::routes::ApiQuery;
use crate::{clock, AppState};

/// How many changes the page shows at most.
pub const AUDIT_ROWS: u32 = 200;

/// The page's query.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    tenant: Option<String>,
}

/// One policy's values in a tenant.
struct PolicyValues {
    policy: Policy,
    products: Vec<ProductPolicy>,
    offer_types: Vec<OfferTypePolicy>,
}

/// `GET /admin`.
pub async fn page(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Page, ApiError> {
    let store = state.store();
    let tenants = store.tenants().await?;
    let tenant = match &query.tenant {
        Some(key) => store.find_tenant(key).await?,
        // contoso stays the default now that a tenant sorts before it (adatum).
        None => tenants
            .iter()
            .find(|t| t.id.as_str() == crate::seed::DEFAULT_TENANT_ID)
            .or(tenants.first())
            .cloned(),
    };
    let Some(tenant) = tenant else {
        let message = match &query.tenant {
            Some(key) => format!("Tenant '{key}' was not found."),
            None => "There are no tenants.".to_owned(),
        };
        let body = format!(
            "{}<p class=\"error\">{}</p>\n",
            picker(&tenants, None),
            escape(&message)
        );
        return Ok(document(StatusCode::NOT_FOUND, "Tenant not found", &body));
    };

    let mut values = Vec::new();
    for policy in store.policies(&tenant.id).await? {
        let products = store.product_policies(&tenant.id, &policy.id).await?;
        let offer_types = store.offer_type_policies(&tenant.id, &policy.id).await?;
        values.push(PolicyValues {
            policy,
            products,
            offer_types,
        });
    }
    let audit = store
        .audit_log_newest(&tenant.id, Some(AUDIT_ROWS + 1))
        .await?;
    let faults = knobs_in_effect(&state.faults().status().config)?;
    let mut relationships = store.relationships(Some(&tenant.id), None).await?;
    relationships.extend(store.relationships(None, Some(&tenant.id)).await?);

    let mut body = picker(&tenants, Some(&tenant));
    let _ = writeln!(
        body,
        "<section id=\"tenant\"><h2>{name}</h2><p class=\"hint\">{domain} &middot; \
         tenant id <code>{id}</code></p></section>",
        name = escape(&tenant.name),
        domain = escape(&tenant.domain),
        id = escape(tenant.id.as_str()),
    );
    for policy in &values {
        body.push_str(&policy_section(policy));
    }
    body.push_str(&audit_section(&tenant, &values, &audit));
    body.push_str(&relationships_section(&tenants, &relationships));
    let _ = writeln!(
        body,
        "<section id=\"knobs\"><h2>Emulator</h2><p>Token lifetime: {lifetime} s. \
         Injected faults: <code id=\"faults\">{faults}</code></p>\n\
         <p class=\"hint\" id=\"licensing-api\">Licensing API: {prefixes}, the same routes; \
         a product item has <code>\"scope\": \"product\"</code>, an offer type \
         <code>\"scope\": \"OfferType\"</code>.</p>\n\
         <p class=\"hint\">JSON: <code>/admin/tenants/{id}/audit</code>, \
         <code>/admin/faults</code>, <code>/admin/settings</code>, \
         <code>/admin/relationships</code>, \
         <code>/openapi.json</code>.</p></section>",
        lifetime = state.settings().token_lifetime_s,
        faults = escape(&faults),
        prefixes = licensing_prefixes(state.base_uri()),
        id = escape(tenant.id.as_str()),
    );
    Ok(document(StatusCode::OK, &tenant.name, &body))
}

/// Where the licensing API answers, as HTML: `<code>BASE/v1.0/</code> and <code>BASE/v1/</code>`.
fn licensing_prefixes(base_uri: &str) -> String {
    PREFIXES
        .iter()
        .map(|prefix| format!("<code>{}{prefix}/</code>", escape(base_uri)))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The knobs that are on, as compact JSON (`none` when all are off).
fn knobs_in_effect(config: &FaultConfig) -> Result<String, ApiError> {
    if config.is_off() {
        return Ok("none".to_owned());
    }
    let mut json =
        serde_json::to_value(config).map_err(|error| ApiError::Internal(error.to_string()))?;
    if let Some(knobs) = json.as_object_mut() {
        knobs.retain(|_, value| !value.is_null());
    }
    Ok(json.to_string())
}

/// The tenant picker: a form that reloads the page for the chosen tenant.
fn picker(tenants: &[Tenant], current: Option<&Tenant>) -> String {
    let mut html = String::from(
        "<form method=\"get\" action=\"/admin\" class=\"picker\">\n\
         <label for=\"tenant-choice\">Tenant</label>\n\
         <select id=\"tenant-choice\" name=\"tenant\">\n",
    );
    for tenant in tenants {
        let selected = current.is_some_and(|current| current.id == tenant.id);
        let _ = writeln!(
            html,
            "<option value=\"{id}\"{selected}>{name} ({domain})</option>",
            id = escape(tenant.id.as_str()),
            name = escape(&tenant.name),
            domain = escape(&tenant.domain),
            selected = if selected { " selected" } else { "" },
        );
    }
    html.push_str("</select>\n<button type=\"submit\">Show</button>\n</form>\n");
    html
}

fn value_badge(value: PolicyValue) -> String {
    let class = match value {
        PolicyValue::Enabled => "on",
        PolicyValue::Disabled => "off",
        PolicyValue::OnlyTrialsWithoutPaymentMethod => "trial",
    };
    format!("<span class=\"value {class}\">{}</span>", value.as_str())
}

fn policy_section(values: &PolicyValues) -> String {
    let policy = &values.policy;
    let mut html = format!(
        "<section class=\"policy\" id=\"policy-{id}\">\n<h2>Products</h2>\n\
         <p>Policy <code>{id}</code>, default {default}. <span class=\"hint\">{description}</span></p>\n\
         <table id=\"products\">\n<thead><tr><th>Product</th><th>Product id</th><th>Setting</th>\
         <th>Trial without payment method</th></tr></thead>\n<tbody>\n",
        id = escape(&policy.id),
        default = value_badge(policy.default_value),
        description = escape(&policy.description),
    );
    for item in &values.products {
        let _ = writeln!(
            html,
            "<tr data-product-id=\"{id}\"><td>{name}</td><td><code>{id}</code></td><td>{value}</td>\
             <td>{trial}</td></tr>",
            id = escape(&item.product_id),
            name = escape(&item.product_name),
            value = value_badge(item.policy_value),
            trial = if item.trial_without_payment_method {
                "Offered"
            } else {
                "&mdash;"
            },
        );
    }
    html.push_str(
        "</tbody>\n</table>\n<h2>Third-party offer types</h2>\n<table id=\"offer-types\">\n\
         <thead><tr><th>Offer type</th><th>Id</th><th>Setting</th></tr></thead>\n<tbody>\n",
    );
    for item in &values.offer_types {
        let _ = writeln!(
            html,
            "<tr data-offer-type=\"{id}\"><td>{name}</td><td><code>{id}</code></td><td>{value}</td></tr>",
            id = escape(&item.offer_type_id),
            name = escape(&item.offer_type_name),
            value = value_badge(item.policy_value),
        );
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
    html
}

/// The delegated admin relationships the tenant is partner or customer in.
fn relationships_section(tenants: &[Tenant], relationships: &[Relationship]) -> String {
    let mut html = String::from(
        "<section id=\"relationships\">\n<h2>Delegated admin relationships (GDAP)</h2>\n",
    );
    if relationships.is_empty() {
        html.push_str("<p class=\"hint\">None.</p>\n</section>\n");
        return html;
    }
    let name = |id: &TenantId| {
        tenants
            .iter()
            .find(|t| t.id == *id)
            .map_or_else(|| id.to_string(), |t| t.name.clone())
    };
    html.push_str(
        "<table id=\"relationship-list\">\n<thead><tr><th>Partner</th><th>Customer</th>\
         <th>Roles</th><th>Partner users</th><th>Ends (UTC)</th><th>Status</th><th>Id</th>\
         </tr></thead>\n<tbody>\n",
    );
    let now_ms = clock::now_ms();
    for relationship in relationships {
        let ends = clock::rfc3339(relationship.expires_at_ms.div_euclid(1000)).unwrap_or_default();
        let roles: Vec<&str> = relationship.roles.iter().map(|r| r.name()).collect();
        let users: Vec<&str> = relationship.users.iter().map(|u| u.upn.as_str()).collect();
        let _ = writeln!(
            html,
            "<tr data-relationship-id=\"{id}\"><td>{partner}</td><td>{customer}</td>\
             <td>{roles}</td><td>{users}</td><td>{ends}</td><td>{status}</td>\
             <td><code>{id}</code></td></tr>",
            id = escape(&relationship.id),
            partner = escape(&name(&relationship.partner_tenant_id)),
            customer = escape(&name(&relationship.customer_tenant_id)),
            roles = escape(&roles.join(", ")),
            users = escape(&users.join(", ")),
            ends = escape(&ends.replace('T', " ").replace('Z', "")),
            status = if relationship.is_active(now_ms) {
                "active"
            } else {
                "expired"
            },
        );
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
    html
}

fn audit_section(tenant: &Tenant, values: &[PolicyValues], audit: &[AuditEntry]) -> String {
    let names: HashMap<(ItemKind, &str), &str> = values
        .iter()
        .flat_map(|policy| {
            let products = policy.products.iter().map(|item| {
                (
                    (ItemKind::Product, item.product_id.as_str()),
                    item.product_name.as_str(),
                )
            });
            let offer_types = policy.offer_types.iter().map(|item| {
                (
                    (ItemKind::OfferType, item.offer_type_id.as_str()),
                    item.offer_type_name.as_str(),
                )
            });
            products.chain(offer_types)
        })
        .collect();
    let mut html = String::from("<section id=\"history\">\n<h2>Change history</h2>\n");
    if audit.is_empty() {
        html.push_str("<p class=\"hint\" id=\"no-changes\">No changes yet.</p>\n</section>\n");
        return html;
    }
    let shown = audit.len().min(AUDIT_ROWS as usize);
    if audit.len() > shown {
        let _ = writeln!(
            html,
            "<p class=\"hint\">The newest {shown} changes; \
             <code>/admin/tenants/{}/audit</code> has them all.</p>",
            escape(tenant.id.as_str())
        );
    }
    html.push_str(
        "<table id=\"audit\">\n<thead><tr><th>When (UTC)</th><th>Who</th><th>Policy</th>\
         <th>Item</th><th>Change</th><th>Correlation id</th></tr></thead>\n<tbody>\n",
    );
    for entry in &audit[..shown] {
        let kind = match entry.item_kind {
            ItemKind::Product => "product",
            ItemKind::OfferType => "offer type",
        };
        let name = names
            .get(&(entry.item_kind, entry.item_id.as_str()))
            .copied()
            .unwrap_or(kind);
        let _ = writeln!(
            html,
            "<tr><td><time datetime=\"{when}\">{when_text}</time></td><td>{who}</td>\
             <td><code>{policy}</code></td><td>{name} <code>{id}</code></td>\
             <td>{old} &rarr; {new}</td><td><code class=\"correlation\">{correlation}</code></td></tr>",
            when = escape(&entry.changed_at),
            when_text = escape(&entry.changed_at.replace('T', " ").replace('Z', "")),
            who = match &entry.actor_app_id {
                Some(app_id) => format!(
                    "{} (app <code>{}</code>)",
                    escape(&entry.actor_upn),
                    escape(app_id)
                ),
                None => escape(&entry.actor_upn),
            },
            policy = escape(&entry.policy_id),
            name = escape(name),
            id = escape(&entry.item_id),
            old = value_badge(entry.old_value),
            new = value_badge(entry.new_value),
            correlation = escape(&entry.correlation_id),
        );
    }
    html.push_str("</tbody>\n</table>\n</section>\n");
    html
}

/// The whole document around `body`.
fn document(status: StatusCode, title: &str, body: &str) -> Page {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} - Self-service purchase - MSCommerce emulator</title>\n<style>\n\
         body {{ font-family: 'Segoe UI', system-ui, sans-serif; background: #f5f5f5; margin: 0; \
         color: #201f1e; }}\n\
         header {{ background: #0f6cbd; color: #fff; padding: .75rem 2rem; }}\n\
         header h1 {{ font-size: 1.25rem; font-weight: 600; margin: 0; }}\n\
         main {{ max-width: 72rem; margin: 1.5rem auto; padding: 0 1.5rem; }}\n\
         section {{ background: #fff; padding: 1rem 1.5rem; margin-bottom: 1.25rem; \
         box-shadow: 0 1px 3px rgba(0,0,0,.15); border-radius: 4px; }}\n\
         h2 {{ font-size: 1.1rem; font-weight: 600; }}\n\
         table {{ border-collapse: collapse; width: 100%; font-size: .9rem; }}\n\
         th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e1e1e1; }}\n\
         th {{ font-weight: 600; background: #fafafa; }}\n\
         code {{ font-family: Consolas, monospace; font-size: .85rem; }} time {{ white-space: nowrap; }}\n\
         .picker {{ margin-bottom: 1.25rem; }} .picker select, .picker button {{ padding: .3rem .6rem; }}\n\
         .hint {{ color: #605e5c; }} .error {{ color: #a80000; }}\n\
         .value {{ padding: .1rem .5rem; border-radius: 1rem; font-size: .85rem; white-space: nowrap; }}\n\
         .on {{ background: #dff6dd; color: #107c10; }} .off {{ background: #fde7e9; color: #a80000; }}\n\
         .trial {{ background: #fff4ce; color: #7a5b00; }}\n\
         </style>\n</head>\n<body>\n<header><h1>Self-service purchase &middot; \
         MSCommerce emulator</h1></header>\n<main>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    Page::new(status, html)
}

//! The commands: what each one does once its flags are parsed.

use std::net::SocketAddr;

use serde::Serialize;
use tokio::net::TcpListener;

use super::args::{
    AddAppArgs, AddProductsArgs, AddRelationshipArgs, ChangeRelationshipArgs, ConsentAppArgs,
    DataArgs, MintFederatedArgs, RelationshipIdArgs, RelationshipsArgs, ServeArgs, TokenArgs,
    UsersArgs,
};
use super::error::RunError;
use super::output::{print_line, LOG_TARGET};
use crate::apps::{self, NewApp, NewFederatedCredential};
use crate::gdap::{self, NewRelationship, RelationshipUpdate};
use crate::keys::SigningKey;
use crate::products::{self, AddProducts};
use crate::settings::Settings;
use crate::store::Store;
use crate::tls::Tls;
use crate::tokens;
use crate::{base_uri_with_scheme, clock, shutdown_signal, AppState};

/// The line printed on stdout once the emulator is ready.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadyLine {
    service_uri: String,
    port: u16,
    data_dir: String,
    pid: u32,
    authority_uri: String,
    admin_uri: String,
    /// The certificate to trust, with `--tls`.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_path: Option<String>,
}

/// A user as `users --json` prints it.
#[derive(Debug, Serialize)]
struct UserLine {
    upn: String,
    tenant: String,
    roles: Vec<&'static str>,
}

/// `serve`: prints the ready line, then serves until Ctrl+C or SIGTERM.
pub(super) async fn serve(args: ServeArgs) -> Result<(), RunError> {
    let faults = args.knobs.config()?;
    faults.validate()?;
    let store = Store::open_with(&args.data.data, args.durability)?;
    let tls = if args.tls {
        Some(Tls::load_or_create(&args.data.data, args.host)?)
    } else {
        None
    };
    let addr = SocketAddr::new(args.host, args.port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| RunError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| RunError::Bind { addr, source })?;
    let settings = Settings {
        token_lifetime_s: args.token_lifetime_seconds,
        device_code_interval_s: args.device_code_interval_seconds,
        device_code_lifetime_s: args.device_code_lifetime_seconds,
        app_token_lifetime_s: args.app_token_lifetime_seconds,
        ..Settings::default()
    };
    let base = base_uri_with_scheme(local, if tls.is_some() { "https" } else { "http" });
    let mut state = AppState::open(store, settings, base.clone()).await?;
    if let Some(secret) = &args.identity_header {
        state = state.with_identity_header(secret);
    }
    let faults = state.faults().set(faults)?;
    if !faults.config.is_off() {
        tracing::info!(
            target: LOG_TARGET,
            faults = ?faults.config,
            "injecting faults into the licensing API"
        );
    }
    tracing::info!(
        target: LOG_TARGET,
        %local,
        database = %state.store().path().display(),
        "ready"
    );

    let ready = ReadyLine {
        service_uri: base.clone(),
        port: local.port(),
        data_dir: args.data.data.display().to_string(),
        pid: std::process::id(),
        authority_uri: base.clone(),
        admin_uri: format!("{base}/admin"),
        certificate_path: tls
            .as_ref()
            .map(|tls| tls.certificate_path.display().to_string()),
    };
    let line = serde_json::to_string(&ready).map_err(|error| RunError::Stdout(error.into()))?;
    print_line(&line)?;

    match tls {
        Some(tls) => crate::serve_tls(listener, state, tls, shutdown_signal()).await,
        None => crate::serve(listener, state, shutdown_signal()).await,
    }
    .map_err(RunError::Serve)
}

/// `users`: the users of every tenant, as JSON or a table.
pub(super) async fn users(args: UsersArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let users = store.users(None).await?;
    if args.json {
        let lines: Vec<UserLine> = users
            .into_iter()
            .map(|user| UserLine {
                upn: user.upn,
                tenant: user.tenant_id.to_string(),
                roles: user.roles.iter().map(|role| role.name()).collect(),
            })
            .collect();
        let json = serde_json::to_string(&lines).map_err(|error| RunError::Stdout(error.into()))?;
        return print_line(&json);
    }
    let width = users.iter().map(|user| user.upn.len()).max().unwrap_or(0);
    for user in users {
        let roles: Vec<&str> = user.roles.iter().map(|role| role.name()).collect();
        print_line(&format!(
            "{:width$}  {}  {}",
            user.upn,
            user.tenant_id,
            if roles.is_empty() {
                "(no role)".to_owned()
            } else {
                roles.join(", ")
            }
        ))?;
    }
    Ok(())
}

/// `token`: an access token for a user, as the last line of stdout.
pub(super) async fn token(args: TokenArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let key = SigningKey::load_or_create(&store).await?;
    let minted = tokens::mint_user_token(
        &store,
        &key,
        &args.tenant,
        &args.user,
        clock::now_s(),
        args.lifetime_seconds,
    )
    .await?;
    print_line(&minted.token)
}

/// `add-products`: generated products added to a tenant; prints the JSON answer.
pub(super) async fn add_products(args: AddProductsArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let request = AddProducts {
        count: Some(args.count),
        start: Some(args.start),
        prefix: Some(args.prefix),
        name_prefix: Some(args.name_prefix),
        policy_value: Some(args.policy_value),
        trial_without_payment_method: Some(args.trial_without_payment_method),
        products: None,
    };
    let added = products::add_products(&store, &args.tenant, &request).await?;
    let json = serde_json::to_string(&added).map_err(|error| RunError::Stdout(error.into()))?;
    print_line(&json)
}

/// `reset`: deletes the state.
pub(super) fn reset(args: DataArgs) -> Result<(), RunError> {
    for path in Store::reset(&args.data)? {
        tracing::info!(target: LOG_TARGET, path = %path.display(), "deleted");
    }
    Ok(())
}

/// `add-app`: registers an app; prints its id, or the app as JSON.
pub(super) async fn add_app(args: AddAppArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let mut certificates = Vec::new();
    for path in &args.certificates {
        certificates.push(
            std::fs::read_to_string(path).map_err(|source| RunError::Read {
                path: path.clone(),
                source,
            })?,
        );
    }
    let federated_credentials = args
        .federated_subject
        .clone()
        .map(|subject| NewFederatedCredential {
            issuer: args.federated_issuer.clone(),
            subject,
            audience: args.federated_audience.clone(),
        })
        .into_iter()
        .collect();
    let new = NewApp {
        display_name: args.name,
        app_id: args.app_id,
        tenant: args.tenant,
        roles: args.roles,
        multi_tenant: args.multi_tenant,
        secrets: args.secrets,
        certificates,
        federated_credentials,
        managed_identity: args.managed_identity,
    };
    let app = apps::register(&store, &new).await?;
    if args.json {
        let json = serde_json::to_string(&app).map_err(|error| RunError::Stdout(error.into()))?;
        print_line(&json)
    } else {
        print_line(&app.app_id)
    }
}

/// `consent-app`: a tenant consents to an app; prints the consent as JSON.
pub(super) async fn consent_app(args: ConsentAppArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let consent = apps::consent(&store, &args.app, &args.tenant).await?;
    let json = serde_json::to_string(&consent).map_err(|error| RunError::Stdout(error.into()))?;
    print_line(&json)
}

/// `mint-federated`: a federated token of the emulator's issuer, as the last line of stdout.
pub(super) async fn mint_federated(args: MintFederatedArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let key = SigningKey::load_or_create(&store).await?;
    let minted = tokens::mint_federated(
        &key,
        &args.subject,
        Some(&args.audience),
        clock::now_s(),
        args.lifetime_seconds,
    )?;
    print_line(&minted.token)
}

/// Prints `value` as one JSON line.
fn print_json<T: Serialize>(value: &T) -> Result<(), RunError> {
    let json = serde_json::to_string(value).map_err(|error| RunError::Stdout(error.into()))?;
    print_line(&json)
}

/// `relationships`: the relationships as a JSON array.
pub(super) async fn relationships(args: RelationshipsArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let list = gdap::list(&store, args.partner.as_deref(), args.customer.as_deref()).await?;
    print_json(&list)
}

/// `add-relationship`: adds one; prints its id, or the relationship as JSON.
pub(super) async fn add_relationship(args: AddRelationshipArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let new = NewRelationship {
        partner: args.partner,
        customer: args.customer,
        roles: args.roles,
        users: args.users,
        expires: args.expires,
        id: args.id,
        display_name: args.name,
    };
    let added = gdap::add(&store, &new).await?;
    if args.json {
        print_json(&added)
    } else {
        print_line(&added.id)
    }
}

/// `change-relationship`: changes what is given; prints the relationship as JSON.
pub(super) async fn change_relationship(args: ChangeRelationshipArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    let update = RelationshipUpdate {
        roles: (!args.roles.is_empty()).then_some(args.roles),
        users: (!args.users.is_empty()).then_some(args.users),
        expires: args.expires,
        display_name: None,
    };
    print_json(&gdap::change(&store, &args.id, &update).await?)
}

/// `expire-relationship`: ends it now; prints the relationship as JSON.
pub(super) async fn expire_relationship(args: RelationshipIdArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    print_json(&gdap::expire(&store, &args.id).await?)
}

/// `remove-relationship`: deletes it.
pub(super) async fn remove_relationship(args: RelationshipIdArgs) -> Result<(), RunError> {
    let store = Store::open(&args.data.data)?;
    gdap::remove(&store, &args.id).await?;
    Ok(())
}

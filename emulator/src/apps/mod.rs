//! App registrations for app-only sign-in, as Microsoft Entra ID keeps them: an app id, a display
//! name, a home tenant, the application permissions of the licensing service granted to it,
//! client secrets, certificates and federated credentials, whether it is a managed identity, and
//! the tenants that consented to it (the home tenant on creation; others only for a multi-tenant
//! app). The `add-app` and `consent-app` commands and `POST /admin/apps` use this module.

pub mod certificate;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::{AppPermission, AppRegistration, ManagedIdentity, Tenant};
use crate::store::{AddAppOutcome, NewAppRecord, Store, StoreError};
use crate::tokens::{FEDERATED_AUDIENCE, FEDERATION_ISSUER};
use crate::{clock, secrets};

pub use certificate::CertificateError;

/// A federated credential as given: the issuer defaults to the emulator's own
/// ([`FEDERATION_ISSUER`]), the audience to `api://AzureADTokenExchange`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewFederatedCredential {
    /// The issuer of the tokens.
    pub issuer: Option<String>,
    /// The subject the tokens name.
    pub subject: String,
    /// The audience of the tokens.
    pub audience: Option<String>,
}

/// A new app registration, as `POST /admin/apps` takes it (and `add-app` builds it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApp {
    /// The display name.
    pub display_name: String,
    /// The app id (a GUID); a new one when absent.
    pub app_id: Option<String>,
    /// The home tenant (id, domain or name); contoso when absent.
    pub tenant: Option<String>,
    /// The application permissions granted (and consented in the home tenant).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Whether other tenants may consent to the app.
    #[serde(default)]
    pub multi_tenant: bool,
    /// Client secrets.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Certificates, PEM.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// Federated credentials.
    #[serde(default)]
    pub federated_credentials: Vec<NewFederatedCredential>,
    /// `system` or `user` for a managed identity.
    pub managed_identity: Option<String>,
}

/// An app registration as the admin API and `add-app --json` show it: never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppView {
    /// The app (client) id.
    pub app_id: String,
    /// The display name.
    pub display_name: String,
    /// The home tenant's id; `null` for the seeded apps, which every tenant may use.
    pub home_tenant_id: Option<String>,
    /// Whether other tenants may consent to it.
    pub multi_tenant: bool,
    /// The application permissions granted.
    pub roles: Vec<&'static str>,
    /// `system`, `user` or `null`.
    pub managed_identity: Option<&'static str>,
    /// How many client secrets it has.
    pub secret_count: usize,
    /// Its certificates' thumbprints.
    pub certificates: Vec<CertificateView>,
    /// Its federated credentials.
    pub federated_credentials: Vec<FederatedView>,
    /// The tenants that consented, with the service principal there.
    pub consents: Vec<ConsentView>,
}

/// A certificate's thumbprints (uppercase hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    /// SHA-1 (what `x5t` carries, base64url).
    pub sha1_thumbprint: String,
    /// SHA-256 (what `x5t#S256` carries, base64url).
    pub sha256_thumbprint: String,
}

/// A federated credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FederatedView {
    /// The issuer.
    pub issuer: String,
    /// The subject.
    pub subject: String,
    /// The audience.
    pub audience: String,
}

/// A tenant's consent to an app: its service principal there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentView {
    /// The app id.
    pub app_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// The service principal's object id: the `oid` of the app's tokens in the tenant.
    pub service_principal_id: String,
}

/// Why an app could not be registered or consented.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Something given makes no sense (a 400).
    #[error("{0}")]
    Invalid(String),
    /// No tenant has this id, domain or name (a 404).
    #[error("Tenant '{0}' was not found.")]
    UnknownTenant(String),
    /// No app has this id (a 404).
    #[error("Application '{0}' was not found.")]
    UnknownApp(String),
    /// An app with this id exists (a 400).
    #[error("An application with id '{0}' exists already.")]
    Exists(String),
    /// A certificate cannot be a credential (a 400).
    #[error("certificate {index}: {source}")]
    Certificate {
        /// Which one (from 1).
        index: usize,
        /// Why.
        source: CertificateError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers an app, consented in its home tenant; secrets given are journaled (see
/// [`secrets::journal`]) and stored as hashes only.
pub async fn register(store: &Store, new: &NewApp) -> Result<AppView, AppError> {
    let name = new.display_name.trim();
    if name.is_empty() || name.len() > 256 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "The display name must be 1 to 256 characters without control characters.".into(),
        ));
    }
    let app_id = match &new.app_id {
        Some(id) => Uuid::parse_str(id)
            .map_err(|_| AppError::Invalid(format!("The app id '{id}' is not a GUID.")))?,
        None => Uuid::new_v4(),
    }
    .hyphenated()
    .to_string();
    let tenant_key = new
        .tenant
        .clone()
        .unwrap_or_else(|| crate::seed::DEFAULT_TENANT_ID.to_owned());
    let tenant = find_tenant(store, &tenant_key).await?;
    let mut roles = Vec::new();
    for role in &new.roles {
        let permission = AppPermission::from_name(role).ok_or_else(|| {
            AppError::Invalid(format!(
                "'{role}' is not an application permission of the licensing service: use {} or {}.",
                AppPermission::Read,
                AppPermission::ReadWrite
            ))
        })?;
        if !roles.contains(&permission) {
            roles.push(permission);
        }
    }
    roles.sort_unstable();
    let managed_identity = match &new.managed_identity {
        Some(kind) => Some(ManagedIdentity::from_name(kind).ok_or_else(|| {
            AppError::Invalid(format!(
                "'{kind}' is not a managed identity kind: use system or user."
            ))
        })?),
        None => None,
    };
    if managed_identity.is_some()
        && !(new.secrets.is_empty()
            && new.certificates.is_empty()
            && new.federated_credentials.is_empty())
    {
        return Err(AppError::Invalid(
            "A managed identity has no secrets, certificates or federated credentials: the \
             platform signs it in."
                .into(),
        ));
    }
    if managed_identity.is_some() && new.multi_tenant {
        return Err(AppError::Invalid(
            "A managed identity lives in one tenant.".into(),
        ));
    }
    let mut secret_sha256 = Vec::new();
    for secret in &new.secrets {
        if secret.chars().count() < 8 || secret.chars().any(char::is_control) {
            return Err(AppError::Invalid(
                "A client secret must be at least 8 characters, without control characters.".into(),
            ));
        }
        secrets::journal(secret);
        secret_sha256.push(secrets::sha256_hex(secret));
    }
    let mut certificates = Vec::new();
    for (index, pem) in new.certificates.iter().enumerate() {
        certificates.push(
            certificate::from_pem(pem).map_err(|source| AppError::Certificate {
                index: index + 1,
                source,
            })?,
        );
    }
    let mut federated = Vec::new();
    for credential in &new.federated_credentials {
        let issuer = credential
            .issuer
            .clone()
            .unwrap_or_else(|| FEDERATION_ISSUER.to_owned());
        let audience = credential
            .audience
            .clone()
            .unwrap_or_else(|| FEDERATED_AUDIENCE.to_owned());
        if [&issuer, &credential.subject, &audience]
            .iter()
            .any(|value| value.trim().is_empty())
        {
            return Err(AppError::Invalid(
                "A federated credential needs an issuer, a subject and an audience.".into(),
            ));
        }
        federated.push((issuer, credential.subject.clone(), audience));
    }
    let app = AppRegistration {
        client_id: app_id.clone(),
        display_name: name.to_owned(),
        object_id: Uuid::new_v4().hyphenated().to_string(),
        home_tenant_id: Some(tenant.id.clone()),
        multi_tenant: new.multi_tenant,
        public_client: false,
        managed_identity,
        roles,
    };
    let record = NewAppRecord {
        app,
        secret_sha256,
        certificates,
        federated,
        service_principal_id: Uuid::new_v4().hyphenated().to_string(),
    };
    match store.add_app(record, clock::now_ms()).await? {
        AddAppOutcome::Added => {}
        AddAppOutcome::Exists => return Err(AppError::Exists(app_id)),
        AddAppOutcome::SystemIdentityExists => {
            return Err(AppError::Invalid(
                "There is a system-assigned managed identity already: there is one per data \
                 directory (add user-assigned ones instead)."
                    .into(),
            ))
        }
        AddAppOutcome::DuplicateFederated => {
            return Err(AppError::Invalid(
                "Two federated credentials have the same issuer and subject.".into(),
            ))
        }
    }
    tracing::info!(app_id = %app_id, tenant = %tenant.id, "app registered");
    view(store, &app_id).await
}

/// Records `tenant`'s consent to the app (as an administrator of the tenant granting it): the
/// home tenant, any tenant for a multi-tenant app or a seeded one. Consenting again changes
/// nothing.
pub async fn consent(store: &Store, app_id: &str, tenant: &str) -> Result<ConsentView, AppError> {
    let app = store
        .app_registration(app_id)
        .await?
        .ok_or_else(|| AppError::UnknownApp(app_id.to_owned()))?;
    let tenant = find_tenant(store, tenant).await?;
    let Some(home) = &app.home_tenant_id else {
        // The seeded apps are usable in every tenant, with their one object id.
        return Ok(ConsentView {
            app_id: app.client_id,
            tenant_id: tenant.id.to_string(),
            service_principal_id: app.object_id,
        });
    };
    if *home != tenant.id && !app.multi_tenant {
        return Err(AppError::Invalid(format!(
            "Application '{}' is single-tenant (registered in tenant '{home}'): only a \
             multi-tenant application can be consented in another tenant.",
            app.client_id
        )));
    }
    let id = store
        .consent_app(
            &app.client_id,
            &tenant.id,
            &Uuid::new_v4().hyphenated().to_string(),
            clock::now_ms(),
        )
        .await?;
    tracing::info!(app_id = %app.client_id, tenant = %tenant.id, "app consented");
    Ok(ConsentView {
        app_id: app.client_id,
        tenant_id: tenant.id.to_string(),
        service_principal_id: id,
    })
}

/// Every app registration, by display name.
pub async fn list(store: &Store) -> Result<Vec<AppView>, AppError> {
    let mut views = Vec::new();
    for app in store.app_registrations().await? {
        views.push(view_of(store, app).await?);
    }
    Ok(views)
}

/// One app registration.
pub async fn view(store: &Store, app_id: &str) -> Result<AppView, AppError> {
    let app = store
        .app_registration(app_id)
        .await?
        .ok_or_else(|| AppError::UnknownApp(app_id.to_owned()))?;
    view_of(store, app).await
}

async fn view_of(store: &Store, app: AppRegistration) -> Result<AppView, AppError> {
    let consents = match &app.home_tenant_id {
        Some(_) => store
            .app_consents(&app.client_id)
            .await?
            .into_iter()
            .map(|(tenant, id)| ConsentView {
                app_id: app.client_id.clone(),
                tenant_id: tenant.to_string(),
                service_principal_id: id,
            })
            .collect(),
        None => store
            .tenants()
            .await?
            .into_iter()
            .map(|tenant| ConsentView {
                app_id: app.client_id.clone(),
                tenant_id: tenant.id.to_string(),
                service_principal_id: app.object_id.clone(),
            })
            .collect(),
    };
    Ok(AppView {
        secret_count: store.app_secret_hashes(&app.client_id).await?.len(),
        certificates: store
            .app_certificates(&app.client_id)
            .await?
            .into_iter()
            .map(|cert| CertificateView {
                sha1_thumbprint: cert.sha1_thumbprint,
                sha256_thumbprint: cert.sha256_thumbprint,
            })
            .collect(),
        federated_credentials: store
            .app_federated_credentials(&app.client_id)
            .await?
            .into_iter()
            .map(|(issuer, subject, audience)| FederatedView {
                issuer,
                subject,
                audience,
            })
            .collect(),
        consents,
        app_id: app.client_id,
        display_name: app.display_name,
        home_tenant_id: app.home_tenant_id.map(|id| id.to_string()),
        multi_tenant: app.multi_tenant,
        roles: app.roles.iter().map(|role| role.name()).collect(),
        managed_identity: app.managed_identity.map(ManagedIdentity::as_str),
    })
}

/// The service principal of `app` in `tenant`, when the tenant consented to it: the `oid` of its
/// app-only tokens there. The seeded apps are consented everywhere, with their object id.
pub async fn service_principal(
    store: &Store,
    app: &AppRegistration,
    tenant: &Tenant,
) -> Result<Option<String>, StoreError> {
    match app.home_tenant_id {
        None => Ok(Some(app.object_id.clone())),
        Some(_) => store.service_principal(&app.client_id, &tenant.id).await,
    }
}

async fn find_tenant(store: &Store, key: &str) -> Result<Tenant, AppError> {
    store
        .find_tenant(key)
        .await?
        .ok_or_else(|| AppError::UnknownTenant(key.to_owned()))
}

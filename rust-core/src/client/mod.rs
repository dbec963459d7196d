//! A client: one connection to the licensing service (one PowerShell runspace's).

mod baseline;
mod bulk;
mod complete;
pub mod licensing;
mod messages;
mod report;
pub mod service;
mod tenants;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::auth::app::{self, AppSession};
use crate::auth::cache::{self, CachedAccount, TokenCache};
use crate::auth::signin::{Identity, SignIn};
use crate::auth::tokens::{self, account_of, TokenSet};
use crate::auth::{browser, device, ConnectOptions, ContextScope, Flow, NOT_CONNECTED_MESSAGE};
use crate::config::ClientConfig;
use crate::environment::Endpoints;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Cancel, Response};
use crate::log::{Level, Sink};
use crate::policy::Scope;
use crate::protocol::{data, AppConnect, Connection, Disconnected, Operation, OutputItem, Request};
use crate::secret::Secret;
use crate::settings::Variables;
use service::{ServiceItem, ServiceList, ServicePolicy};

/// One connection. Cheap: every client of the process shares the runtime and connection pools.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    /// The caller's variables as the latest request carried them, and the endpoints in use.
    state: std::sync::Mutex<State>,
    /// The signed-in session, after a `connect` request.
    session: tokio::sync::Mutex<Option<Session>>,
    /// The application's session, after a `connect` request with an app flow; never together
    /// with `session`.
    app: tokio::sync::Mutex<Option<Arc<AppSession>>>,
    /// The application's sessions in other tenants (`-TenantId`), by tenant as given
    /// (lowercase): a multi-tenant application signs in to each where it is consented.
    tenant_apps: std::sync::Mutex<HashMap<String, Arc<AppSession>>>,
    /// What tab completion listed lately.
    completions: complete::Completions,
}

/// What a client runs its requests with now.
#[derive(Debug, Clone)]
struct State {
    /// The caller's environment variables (see [`crate::settings`]).
    variables: Arc<Variables>,
    /// Where the client signs in and which service it calls.
    endpoints: Endpoints,
    /// True while the client holds a connection (an access token of its own, or a session):
    /// its endpoints then stay those it connected with. Otherwise they follow the variables, so
    /// `$env:MSCOMMERCE_SERVICE_URI` set after the first cmdlet of a session still counts.
    pinned: bool,
}

/// A session signed in through the authority: its tokens are refreshed before they expire.
#[derive(Debug)]
struct Session {
    signin: SignIn,
    tokens: TokenSet,
    /// How it signed in: `Browser`, `DeviceCode` or `TokenCache`.
    flow: &'static str,
    /// Where rotated refresh tokens go (`-ContextScope CurrentUser`).
    cache: Option<TokenCache>,
    /// Tokens for other tenants (`-TenantId`), by tenant as given (lowercase), each redeemed
    /// with the session's refresh token, which serves every tenant the account may enter.
    others: HashMap<String, TokenSet>,
}

impl Client {
    /// A client for a validated configuration.
    pub fn new(config: ClientConfig) -> Result<Self> {
        // Start the shared runtime now, so a broken environment shows at connect. The HTTP
        // client waits for the first request: it depends on the proxy variables of that request.
        http::runtime()?;
        let state = State {
            variables: Arc::new(config.variables.clone()),
            endpoints: config.endpoints.clone(),
            pinned: config.access_token.is_some(),
        };
        Ok(Client {
            config,
            state: std::sync::Mutex::new(state),
            session: tokio::sync::Mutex::new(None),
            app: tokio::sync::Mutex::new(None),
            tenant_apps: std::sync::Mutex::new(HashMap::new()),
            completions: complete::Completions::default(),
        })
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The licensing service the client calls now.
    pub fn service_uri(&self) -> Url {
        self.state().endpoints.service_uri
    }

    fn state(&self) -> State {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes the variables a request carries, if it carries any: they replace the client's. A
    /// client that holds no connection resolves its endpoints from them again; a resolution that
    /// fails (a bad `MSCOMMERCE_SERVICE_URI`) fails the request and changes nothing.
    fn adopt(&self, variables: Option<&Variables>) -> Result<()> {
        let Some(variables) = variables else {
            return Ok(());
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if *state.variables == *variables {
            return Ok(());
        }
        if !state.pinned {
            state.endpoints = self.config.choices.resolve(variables)?;
        }
        state.variables = Arc::new(variables.clone());
        Ok(())
    }

    /// Keeps `endpoints` while the client holds a connection, or lets them follow the variables
    /// again (`None`) once it holds none.
    fn pin(&self, endpoints: Option<Endpoints>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match endpoints {
            Some(endpoints) => {
                state.endpoints = endpoints;
                state.pinned = true;
            }
            None if self.config.access_token.is_none() => {
                state.pinned = false;
                if let Ok(endpoints) = self.config.choices.resolve(&state.variables) {
                    state.endpoints = endpoints;
                }
            }
            None => {}
        }
    }

    /// Runs one request to completion on the shared runtime, blocking the calling thread.
    /// Returns the `data` of the envelope: the output objects.
    pub fn invoke(&self, request: &Request, cancel: &Cancel) -> Result<Value> {
        http::runtime()?.block_on(self.invoke_async(request, cancel))
    }

    /// Runs one request.
    pub(crate) async fn invoke_async(&self, request: &Request, cancel: &Cancel) -> Result<Value> {
        let sink = Sink::new(request.operation_id);
        self.adopt(request.variables.as_ref())?;
        if let Operation::ExportReport {
            policy_id,
            path,
            baseline,
            no_clobber,
        } = &request.operation
        {
            // Tenants are the report's rows: it reads them itself.
            let file = report::ReportFile {
                policy_id,
                path,
                baseline: baseline.as_deref(),
                no_clobber: *no_clobber,
            };
            return report::export(self, request, file, &sink, cancel).await;
        }
        if !request.tenants.is_empty() {
            return tenants::run(self, request, &sink, cancel).await;
        }
        let token = request.token.as_ref();
        match &request.operation {
            Operation::Connect { options } => data(self.connect(options, &sink, cancel).await?),
            Operation::ConnectApp { app, resource } => {
                data(self.connect_app(app, resource, &sink, cancel).await?)
            }
            Operation::GetConnection => data(self.connection().await),
            Operation::Disconnect { forget } => data(self.disconnect(*forget, &sink).await?),
            Operation::UpdateProductPolicies {
                items,
                throttle_limit,
            } => {
                let limiter = http::Limiter::new(*throttle_limit);
                bulk::update(self, token, items, &limiter, &sink, cancel).await
            }
            Operation::PlanUpdate { pick, value } => {
                bulk::plan(self, token, pick, value, &sink, cancel).await
            }
            Operation::PlanImport { path } => {
                baseline::plan(self, token, path, &sink, cancel).await
            }
            Operation::SelectItems(selection) => {
                bulk::select(self, token, selection, &sink, cancel).await
            }
            Operation::ExportBaseline {
                policy_id,
                path,
                no_clobber,
                new_products,
            } => {
                let file = (path.as_path(), *no_clobber, new_products.clone());
                baseline::export(self, token, policy_id, file, &sink, cancel).await
            }
            Operation::TestBaseline { path } => {
                baseline::test(self, token, path, &sink, cancel).await
            }
            Operation::Complete {
                kind,
                policy_id,
                word,
            } => data(
                self.completions
                    .complete(
                        self,
                        token,
                        *kind,
                        policy_id.as_deref(),
                        word,
                        &sink,
                        cancel,
                    )
                    .await,
            ),
            _ => self.call(request, &sink, cancel).await,
        }
    }

    /// The credential of a request: its own token (`-Token`), the client's access token, or the
    /// signed-in session's (refreshed when due). Not connected is a terminating error.
    pub(crate) async fn credential(
        &self,
        token: Option<&Secret>,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Secret> {
        if let Some(tenant) = tenants::current() {
            return self
                .tenant_credential(&tenant, token, sink, cancel)
                .await
                .map_err(|e| tenants::tenant_failure(&tenant, e));
        }
        if let Some(token) = token.or(self.config.access_token.as_ref()) {
            return Ok(token.clone());
        }
        // The lock is not held across the renewal: requests share it inside the session.
        let app = self.app.lock().await.clone();
        match app {
            Some(app) => {
                let variables = self.state().variables;
                app.access_token(&variables, sink, cancel).await
            }
            None => self.session_token(sink, cancel).await,
        }
    }

    /// One licensing request: one HTTP exchange (with its retries), a successful answer or the
    /// contract's error for the request.
    async fn exchange(&self, request: &Request, sink: &Sink, cancel: &Cancel) -> Result<Response> {
        self.exchange_limited(request, None, sink, cancel).await
    }

    /// [`Client::exchange`], each attempt taking its place in `limiter`'s window when given.
    async fn exchange_limited(
        &self,
        request: &Request,
        limiter: Option<&http::Limiter>,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Response> {
        let token = self
            .credential(request.token.as_ref(), sink, cancel)
            .await
            .map_err(|e| e.with_target(request.target()))?;
        let state = self.state();
        let http = licensing::http(request, &state.endpoints.service_uri)?;
        let what_failed = licensing::what_failed(request);
        let client = http::client_for(&state.variables)
            .map_err(|e| messages::other_failure(&what_failed, request.target(), e))?;
        let channel = http::Channel {
            http: &client,
            user_agent: &self.config.user_agent,
            timeout: self.config.request_timeout,
            retry: &self.config.retry,
            limiter,
        };
        let response = http::execute(&channel, http, &token, sink, cancel)
            .await
            .map_err(|e| messages::other_failure(&what_failed, request.target(), e))?;
        if !(200..300).contains(&response.status) {
            let error = messages::http_failure(
                &what_failed,
                request.target(),
                &response,
                self.config.edition,
            );
            if response.status == 403 && account_of(&token).app_only {
                return Err(messages::app_permission_hint(error, request.is_write()));
            }
            return Err(error);
        }
        Ok(response)
    }

    /// Runs a request that is one licensing call and returns its output objects.
    pub(crate) async fn call(
        &self,
        request: &Request,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Value> {
        let response = self.exchange(request, sink, cancel).await?;
        let tenant_id = self.tenant_of(request.token.as_ref()).await;
        let tenant_id = tenant_id.as_deref();
        let output = (|| match &request.operation {
            Operation::GetPolicies => {
                let list: ServiceList<ServicePolicy> = decode(&response)?;
                data(
                    list.items
                        .into_iter()
                        .map(|item| OutputItem::from(item).in_tenant(tenant_id))
                        .collect::<Vec<_>>(),
                )
            }
            Operation::GetPolicy { .. } => {
                data(OutputItem::from(decode::<ServicePolicy>(&response)?).in_tenant(tenant_id))
            }
            Operation::GetProductPolicies { .. } => {
                let list: ServiceList<ServiceItem> = decode(&response)?;
                data(
                    list.items
                        .into_iter()
                        .map(|item| OutputItem::from(item).in_tenant(tenant_id))
                        .collect::<Vec<_>>(),
                )
            }
            Operation::GetProductPolicy { .. } | Operation::UpdateProductPolicy { .. } => {
                data(OutputItem::from(decode::<ServiceItem>(&response)?).in_tenant(tenant_id))
            }
            _ => Err(Error::new(
                ErrorKind::Internal,
                "A request that is not one licensing call reached the licensing API.",
            )),
        })();
        output.map_err(|e| {
            messages::other_failure(&licensing::what_failed(request), request.target(), e)
        })
    }

    /// Runs a request that is one licensing call answering one product or offer type (a bulk
    /// update's item), each attempt in `limiter`'s window, and returns the item.
    pub(crate) async fn call_item(
        &self,
        request: &Request,
        limiter: &http::Limiter,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<OutputItem> {
        let response = self
            .exchange_limited(request, Some(limiter), sink, cancel)
            .await?;
        let tenant_id = self.tenant_of(request.token.as_ref()).await;
        decode::<ServiceItem>(&response)
            .map(|item| OutputItem::from(item).in_tenant(tenant_id.as_deref()))
            .map_err(|e| {
                messages::other_failure(&licensing::what_failed(request), request.target(), e)
            })
    }

    /// Every item of a policy in one scope, as the service lists them.
    pub(crate) async fn list(
        &self,
        token: Option<&Secret>,
        policy_id: &str,
        scope: Scope,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Vec<ServiceItem>> {
        let request = Request {
            operation: Operation::GetProductPolicies {
                policy_id: policy_id.to_owned(),
                scope: scope.service_scope().to_owned(),
            },
            operation_id: 0,
            token: token.cloned(),
            variables: None,
            tenants: Vec::new(),
        };
        let response = self.exchange(&request, sink, cancel).await?;
        decode::<ServiceList<ServiceItem>>(&response)
            .map(|list| list.items)
            .map_err(|e| {
                messages::other_failure(&licensing::what_failed(&request), request.target(), e)
            })
    }

    /// Every policy, as the service lists them.
    pub(crate) async fn policies(
        &self,
        token: Option<&Secret>,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Vec<ServicePolicy>> {
        let request = Request {
            operation: Operation::GetPolicies,
            operation_id: 0,
            token: token.cloned(),
            variables: None,
            tenants: Vec::new(),
        };
        let response = self.exchange(&request, sink, cancel).await?;
        decode::<ServiceList<ServicePolicy>>(&response)
            .map(|list| list.items)
            .map_err(|e| messages::other_failure(&licensing::what_failed(&request), None, e))
    }

    /// The tenant a request's credential belongs to, when it can be told.
    pub(crate) async fn tenant_of(&self, token: Option<&Secret>) -> Option<String> {
        if let Some(tenant) = tenants::current() {
            let key = tenant.to_ascii_lowercase();
            if token.is_none() && self.config.access_token.is_none() {
                let app = self
                    .tenant_apps
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get(&key)
                    .cloned();
                if let Some(app) = app {
                    return app.connection().tenant_id.or(Some(tenant));
                }
                let session = self.session.lock().await;
                if let Some(session) = session.as_ref() {
                    return match session.others.get(&key) {
                        Some(tokens) => tokens.account.tenant_id.clone().or(Some(tenant)),
                        None => session.tokens.account.tenant_id.clone(),
                    };
                }
            }
        }
        if token.is_none() && self.config.access_token.is_none() {
            if let Some(app) = self.app.lock().await.as_ref() {
                return app.connection().tenant_id;
            }
        }
        match token.or(self.config.access_token.as_ref()) {
            Some(token) => account_of(token).tenant_id,
            None => self
                .session
                .lock()
                .await
                .as_ref()
                .and_then(|session| session.tokens.account.tenant_id.clone()),
        }
    }
}

impl Client {
    /// Fails with the contract's not-connected error when there is no credential at all.
    async fn ensure_connected(&self, token: Option<&Secret>) -> Result<()> {
        let connected = token.is_some()
            || self.config.access_token.is_some()
            || self.app.lock().await.is_some()
            || self.session.lock().await.is_some();
        if connected {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::NotConnected, NOT_CONNECTED_MESSAGE))
        }
    }

    /// Whether `tenant` (an id or a domain) is the connection's own, as far as the client can
    /// tell without asking the authority.
    pub(crate) async fn is_own_tenant(&self, tenant: &str, token: Option<&Secret>) -> bool {
        let same = |id: Option<&str>| id.is_some_and(|id| id.eq_ignore_ascii_case(tenant));
        if let Some(token) = token.or(self.config.access_token.as_ref()) {
            return same(account_of(token).tenant_id.as_deref());
        }
        if let Some(app) = self.app.lock().await.as_ref() {
            let own = app.connection().tenant_id;
            let configured = match app.source() {
                app::TokenSource::ClientCredentials(credentials) => {
                    Some(credentials.tenant().to_owned())
                }
                app::TokenSource::ManagedIdentity(_) => None,
            };
            return same(own.as_deref()) || same(configured.as_deref());
        }
        match self.session.lock().await.as_ref() {
            Some(session) => {
                same(Some(session.signin.tenant.as_str()))
                    || same(session.tokens.account.tenant_id.as_deref())
            }
            None => false,
        }
    }

    /// A token for `tenant` (`-TenantId`): a given token only when it is that tenant's; an
    /// application's from its session in that tenant; a user's redeemed with the session's
    /// refresh token at `<authority>/<tenant>/oauth2/v2.0/token`.
    async fn tenant_credential(
        &self,
        tenant: &str,
        token: Option<&Secret>,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Secret> {
        if let Some(token) = token.or(self.config.access_token.as_ref()) {
            let own = account_of(token).tenant_id;
            if own
                .as_deref()
                .is_some_and(|own| own.eq_ignore_ascii_case(tenant))
            {
                return Ok(token.clone());
            }
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "A token given with -Token or -AccessToken is for its own tenant ({}): to work \
                     in tenant '{tenant}', connect with Connect-MSCommerce, which gets a token for \
                     each tenant.",
                    own.as_deref().unwrap_or("unknown")
                ),
            ));
        }
        let app = self.app.lock().await.clone();
        if let Some(app) = app {
            let session = self.tenant_app(&app, tenant)?;
            let variables = self.state().variables;
            return session.access_token(&variables, sink, cancel).await;
        }
        self.session_token_in(tenant, sink, cancel).await
    }

    /// The application's session in `tenant`: its own when the tenant is its own, else one
    /// made for that tenant with the same credential (kept for later requests).
    fn tenant_app(&self, app: &Arc<AppSession>, tenant: &str) -> Result<Arc<AppSession>> {
        let own = app.connection().tenant_id;
        let app::TokenSource::ClientCredentials(credentials) = app.source() else {
            if own.is_some_and(|own| own.eq_ignore_ascii_case(tenant)) {
                return Ok(app.clone());
            }
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "A managed identity gets tokens for its own tenant only, not for '{tenant}': \
                     connect with a multi-tenant application (-ClientId with a certificate or \
                     secret) to work in other tenants."
                ),
            ));
        };
        if own.is_some_and(|own| own.eq_ignore_ascii_case(tenant))
            || credentials.tenant().eq_ignore_ascii_case(tenant)
        {
            return Ok(app.clone());
        }
        let mut apps = self
            .tenant_apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let session = apps.entry(tenant.to_ascii_lowercase()).or_insert_with(|| {
            Arc::new(AppSession::new(app::TokenSource::ClientCredentials(
                credentials.in_tenant(tenant),
            )))
        });
        Ok(session.clone())
    }

    /// The signed-in user's access token in `tenant`. The session's refresh token serves every
    /// tenant the account may enter (a partner's customers through GDAP); the authority rotates
    /// it, so redemptions are one at a time and the newest goes back to the session and the
    /// cache, still under the account's own tenant.
    async fn session_token_in(&self, tenant: &str, sink: &Sink, cancel: &Cancel) -> Result<Secret> {
        let own = {
            let session = self.session.lock().await;
            let session = session
                .as_ref()
                .ok_or_else(|| Error::new(ErrorKind::NotConnected, NOT_CONNECTED_MESSAGE))?;
            session.signin.tenant.eq_ignore_ascii_case(tenant)
                || session
                    .tokens
                    .account
                    .tenant_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(tenant))
        };
        if own {
            return self.session_token(sink, cancel).await;
        }
        let variables = self.state().variables;
        let key = tenant.to_ascii_lowercase();
        let mut guard = self.session.lock().await;
        let session = guard
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::NotConnected, NOT_CONNECTED_MESSAGE))?;
        if let Some(tokens) = session.others.get(&key).filter(|t| !t.needs_refresh()) {
            return Ok(tokens.access.clone());
        }
        let refresh = session
            .tokens
            .refresh
            .clone()
            .or_else(|| session.others.get(&key).and_then(|t| t.refresh.clone()))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::AuthExpired,
                    format!(
                        "This sign-in gave no refresh token, so it cannot reach other tenants: \
                         connect with Connect-MSCommerce -TenantId {tenant}."
                    ),
                )
            })?;
        sink.verbose(&format!("getting a token for tenant {tenant}"));
        let signin = session.signin.in_tenant(tenant);
        let tokens = tokens::redeem_refresh_token(&variables, &signin, &refresh, cancel).await?;
        if let Some(rotated) = &tokens.refresh {
            // The rotated token replaces the one redeemed, for every tenant.
            session.tokens.refresh = Some(rotated.clone());
            for other in session.others.values_mut() {
                other.refresh = Some(rotated.clone());
            }
            if let (Some(cache), Some(account)) =
                (&session.cache, CachedAccount::from_tokens(&session.tokens))
            {
                if let Err(error) = cache.save(&cache::key_of(&session.signin), &account).await {
                    sink.log(Level::Warning, error.message());
                }
            }
        }
        let access = tokens.access.clone();
        session.others.insert(key, tokens);
        Ok(access)
    }

    /// Signs in (from the cache when it can serve, else as the options say) and keeps the
    /// session; answers the connection. A failed sign-in leaves the previous session in place.
    async fn connect(
        &self,
        options: &ConnectOptions,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Connection> {
        // The endpoints and variables as they are now: what this connection keeps.
        let State {
            variables,
            endpoints,
            ..
        } = self.state();
        let signin = SignIn::new(endpoints.authority_uri.clone(), &options.identity);
        let cache = match options.context_scope {
            ContextScope::Process => None,
            ContextScope::CurrentUser => match TokenCache::open(&variables).await {
                Ok(cache) => Some(cache),
                Err(error) => {
                    sink.log(
                        Level::Warning,
                        &format!(
                            "The sign-in will not be kept for later sessions: {}",
                            error.message()
                        ),
                    );
                    None
                }
            },
        };
        let key = cache::key_of(&signin);
        if let Some(cache) = &cache {
            if let Some((signin, tokens)) =
                silent(cache, &key, &signin, options, &variables, sink, cancel).await?
            {
                return Ok(self
                    .keep(
                        endpoints,
                        signin,
                        tokens,
                        "TokenCache",
                        Some(cache.clone()),
                        sink,
                    )
                    .await);
            }
        }
        let (tokens, flow) = match &options.flow {
            Flow::Browser(browser) => (
                browser::sign_in(&variables, &signin, browser, sink, cancel).await?,
                "Browser",
            ),
            Flow::DeviceCode => (
                device::sign_in(&variables, &signin, sink, cancel).await?,
                "DeviceCode",
            ),
        };
        if let (Some(cache), Some(account)) = (&cache, CachedAccount::from_tokens(&tokens)) {
            match cache.save(&key, &account).await {
                Ok(()) => {
                    if let Some(warning) = cache.warning() {
                        sink.log(Level::Warning, warning);
                    }
                    sink.verbose(&format!("the sign-in is kept in {}", cache.describe()));
                }
                Err(error) => sink.log(
                    Level::Warning,
                    &format!(
                        "The sign-in will not be kept for later sessions: {}",
                        error.message()
                    ),
                ),
            }
        }
        Ok(self
            .keep(endpoints, signin, tokens, flow, cache, sink)
            .await)
    }

    /// Signs an application in and keeps its credential (in memory only: an unattended job signs
    /// in again from its credential, so nothing is written to the token cache); answers the
    /// connection. A credential that does not work fails here, and leaves the previous session.
    async fn connect_app(
        &self,
        app: &AppConnect,
        resource: &str,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Result<Connection> {
        let State {
            variables,
            endpoints,
            ..
        } = self.state();
        let authority = endpoints.authority_uri.as_str();
        let certificate = |raw: &app::RawCertificate| -> Result<app::ClientCertificate> {
            Ok(app::ClientCertificate {
                info: app::CertificateInfo::new(raw.clone())?,
                algorithm: app::SigningAlgorithm::Rs256,
                signer: Arc::new(app::ProcessSigner),
            })
        };
        let source = match app {
            AppConnect::Secret {
                tenant,
                client_id,
                secret,
            } => app::TokenSource::ClientCredentials(app::ClientCredentials::new(
                authority,
                tenant,
                client_id,
                resource,
                app::AppCredential::Secret(secret.clone()),
            )?),
            AppConnect::Certificate {
                tenant,
                client_id,
                certificate: raw,
            } => app::TokenSource::ClientCredentials(app::ClientCredentials::new(
                authority,
                tenant,
                client_id,
                resource,
                app::AppCredential::Certificate(certificate(raw)?),
            )?),
            AppConnect::ManagedIdentity { client_id } => {
                app::TokenSource::ManagedIdentity(app::ManagedIdentity::new(
                    app::ManagedIdentitySource::from_variables(&variables)?,
                    client_id.as_deref(),
                    resource,
                )?)
            }
            AppConnect::Environment { certificate: raw } => {
                let configured = app::EnvironmentCredential::from_variables(&variables)?;
                let certificate = raw.as_ref().map(certificate).transpose()?;
                app::TokenSource::ClientCredentials(configured.client_credentials(
                    authority,
                    resource,
                    certificate,
                )?)
            }
        };
        let session = app::AppSession::sign_in(source, &variables, sink, cancel).await?;
        let connection = session.connection();
        sink.verbose(&format!(
            "signed in as application {} ({}, tenant {})",
            connection.app_id.as_deref().unwrap_or("(managed identity)"),
            connection.auth_type.name(),
            connection.tenant_id.as_deref().unwrap_or("(unknown)")
        ));
        self.completions.clear();
        *self.session.lock().await = None;
        *self.app.lock().await = Some(Arc::new(session));
        self.tenant_apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.pin(Some(endpoints));
        Ok(self.connection().await)
    }

    /// Makes a signed-in session this client's, at `endpoints`; answers the connection.
    async fn keep(
        &self,
        endpoints: Endpoints,
        signin: SignIn,
        tokens: TokenSet,
        flow: &'static str,
        cache: Option<TokenCache>,
        sink: &Sink,
    ) -> Connection {
        self.completions.clear();
        sink.verbose(&format!(
            "signed in as {} (tenant {})",
            tokens.account.upn.as_deref().unwrap_or("(unknown)"),
            tokens.account.tenant_id.as_deref().unwrap_or("(unknown)")
        ));
        *self.app.lock().await = None;
        *self.session.lock().await = Some(Session {
            signin,
            tokens,
            flow,
            cache,
            others: HashMap::new(),
        });
        self.tenant_apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.pin(Some(endpoints));
        self.connection().await
    }

    /// Ends the session; with `forget`, removes its account (or, with no session, the default
    /// client's account at this authority) from the token cache.
    async fn disconnect(&self, forget: bool, sink: &Sink) -> Result<Disconnected> {
        let session = self.session.lock().await.take();
        let app = self.app.lock().await.take();
        self.tenant_apps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.completions.clear();
        self.pin(None);
        let connected = session.is_some() || app.is_some() || self.config.access_token.is_some();
        let mut forgotten = false;
        if forget {
            let state = self.state();
            let key = match &session {
                Some(session) => cache::key_of(&session.signin),
                None => cache::key_of(&SignIn::new(
                    state.endpoints.authority_uri.clone(),
                    &Identity::from_raw(Default::default())?,
                )),
            };
            let cache = TokenCache::open(&state.variables).await?;
            forgotten = cache.remove(&key).await?;
            sink.verbose(&format!(
                "{} the cached account in {}",
                if forgotten { "removed" } else { "there was no" },
                cache.describe()
            ));
        }
        Ok(Disconnected {
            was_connected: connected,
            forgotten,
        })
    }

    /// Who is connected, where, and until when; never a token.
    async fn connection(&self) -> Connection {
        let endpoints = self.state().endpoints;
        let service_uri = endpoints
            .service_uri
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        let authority_uri = endpoints
            .authority_uri
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        if let Some(app) = self.app.lock().await.as_ref() {
            let app = app.connection();
            let mut tenants: Vec<String> = app.tenant_id.iter().cloned().collect();
            let others: Vec<Arc<AppSession>> = self
                .tenant_apps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .cloned()
                .collect();
            for other in others {
                let other = other.connection();
                if other.expires_on.is_some() {
                    push_tenant(&mut tenants, other.tenant_id);
                }
            }
            return Connection {
                connected: true,
                flow: Some(
                    app.managed_identity_source
                        .unwrap_or(app.auth_type.name())
                        .to_owned(),
                ),
                auth_type: Some(app.auth_type.name().to_owned()),
                account: None,
                app_id: app.app_id,
                certificate_thumbprint: app.certificate_thumbprint,
                environment: endpoints.environment,
                service_uri,
                authority_uri,
                expires_on: app.expires_on,
                context_scope: Some(ContextScope::Process.name().to_owned()),
                token_cache: None,
                home_tenant_id: app.tenant_id.clone(),
                tenant_id: app.tenant_id,
                tenants,
            };
        }
        let session = self.session.lock().await;
        let (flow, account, expires_on, scope, cache) = match (&*session, &self.config.access_token)
        {
            (Some(session), _) => (
                Some(session.flow),
                session.tokens.account.clone(),
                Some(session.tokens.expires_on()),
                Some(if session.cache.is_some() {
                    ContextScope::CurrentUser.name()
                } else {
                    ContextScope::Process.name()
                }),
                session.cache.as_ref().map(TokenCache::describe),
            ),
            (None, Some(token)) => (
                Some("AccessToken"),
                account_of(token),
                None,
                Some(ContextScope::Process.name()),
                None,
            ),
            (None, None) => (None, Default::default(), None, None, None),
        };
        let app_id = match &*session {
            Some(session) => Some(session.signin.client_id.clone()),
            None => account.app_id.clone(),
        };
        let mut tenants: Vec<String> = account.tenant_id.iter().cloned().collect();
        if let Some(session) = &*session {
            let mut others: Vec<&TokenSet> = session.others.values().collect();
            others.sort_by_key(|tokens| tokens.account.tenant_id.clone());
            for tokens in others {
                push_tenant(&mut tenants, tokens.account.tenant_id.clone());
            }
        }
        Connection {
            connected: flow.is_some(),
            auth_type: flow.map(|_| {
                if account.app_only {
                    "AppOnly"
                } else {
                    "Delegated"
                }
                .to_owned()
            }),
            flow: flow.map(str::to_owned),
            account: account.upn,
            app_id,
            certificate_thumbprint: None,
            environment: endpoints.environment,
            service_uri,
            authority_uri,
            expires_on,
            context_scope: scope.map(str::to_owned),
            token_cache: cache,
            home_tenant_id: account.home_tenant_id.or_else(|| account.tenant_id.clone()),
            tenant_id: account.tenant_id,
            tenants,
        }
    }

    /// The session's access token, refreshed first when it is about to expire. The rotated
    /// refresh token goes back to the cache, so the next process finds one that works.
    async fn session_token(&self, sink: &Sink, cancel: &Cancel) -> Result<Secret> {
        let variables = self.state().variables;
        let mut session = self.session.lock().await;
        let session = session
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::NotConnected, NOT_CONNECTED_MESSAGE))?;
        if session.tokens.needs_refresh() {
            sink.verbose("refreshing the access token before it expires");
            let refreshed =
                tokens::refresh(&variables, &session.signin, &session.tokens, cancel).await;
            let renewed = match refreshed {
                Err(error) if error.kind() == ErrorKind::AuthExpired => {
                    // Another process of this user may have rotated the shared refresh token:
                    // the cache then holds the new one.
                    let cached = match &session.cache {
                        Some(cache) => cache
                            .load(&cache::key_of(&session.signin))
                            .await
                            .ok()
                            .flatten(),
                        None => None,
                    };
                    match cached {
                        Some(account)
                            if Some(&account.refresh) != session.tokens.refresh.as_ref() =>
                        {
                            tokens::redeem_refresh_token(
                                &variables,
                                &session.signin,
                                &account.refresh,
                                cancel,
                            )
                            .await?
                        }
                        _ => return Err(error),
                    }
                }
                other => other?,
            };
            let home = session.tokens.account.home_tenant_id.take();
            session.tokens = renewed;
            if session.tokens.account.home_tenant_id.is_none() {
                session.tokens.account.home_tenant_id = home;
            }
            if let (Some(cache), Some(account)) =
                (&session.cache, CachedAccount::from_tokens(&session.tokens))
            {
                if let Err(error) = cache.save(&cache::key_of(&session.signin), &account).await {
                    sink.log(Level::Warning, error.message());
                }
            }
        }
        Ok(session.tokens.access.clone())
    }
}

/// Signs in from the cached account, if there is one that fits. A refused refresh token is
/// removed (the user must sign in again); other failures (no network, cancelled) are returned.
async fn silent(
    cache: &TokenCache,
    key: &str,
    signin: &SignIn,
    options: &ConnectOptions,
    variables: &Variables,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Option<(SignIn, TokenSet)>> {
    let account = match cache.load(key).await {
        Ok(Some(account)) => account,
        Ok(None) => return Ok(None),
        Err(error) => {
            sink.log(Level::Warning, error.message());
            return Ok(None);
        }
    };
    let who = account.upn.as_deref().unwrap_or("(unknown)").to_owned();
    // Another tenant than the account's own (a partner's customer): its refresh token is
    // redeemed there, and refused if the account may not enter that tenant.
    let other_tenant = !account.serves(&signin.tenant, options.login_hint.as_deref())
        && account.serves("organizations", options.login_hint.as_deref());
    if !other_tenant && !account.serves(&signin.tenant, options.login_hint.as_deref()) {
        sink.verbose(&format!(
            "the cached account {who} does not fit this sign-in; signing in again"
        ));
        return Ok(None);
    }
    // Refresh in the account's own tenant: with `organizations` the authority would do the
    // same, but a tenant id keeps a guest account from landing in its home tenant.
    let signin = match &account.tenant_id {
        Some(tenant) if cache_serves_any(&signin.tenant) => signin.in_tenant(tenant),
        _ => signin.clone(),
    };
    sink.verbose(&format!("signing in as {who} from {}", cache.describe()));
    if other_tenant {
        sink.verbose(&format!(
            "the cached account {who} is of tenant {}; getting a token for tenant {}",
            account.tenant_id.as_deref().unwrap_or("(unknown)"),
            signin.tenant
        ));
    }
    match tokens::redeem_refresh_token(variables, &signin, &account.refresh, cancel).await {
        Ok(mut tokens) => {
            if other_tenant && tokens.account.home_tenant_id.is_none() {
                // The cache keys the account by its own tenant, not the one it entered.
                tokens.account.home_tenant_id = account.tenant_id.clone();
            }
            if let Some(renewed) = CachedAccount::from_tokens(&tokens) {
                if let Err(error) = cache.save(key, &renewed).await {
                    sink.log(Level::Warning, error.message());
                }
            }
            Ok(Some((signin, tokens)))
        }
        Err(error) if error.kind() == ErrorKind::AuthExpired => {
            sink.verbose(&format!(
                "the cached sign-in of {who} is no longer valid; signing in again"
            ));
            if let Err(error) = cache.remove(key).await {
                sink.log(Level::Warning, error.message());
            }
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Adds a tenant id to a list once.
fn push_tenant(tenants: &mut Vec<String>, tenant: Option<String>) {
    if let Some(tenant) = tenant {
        if !tenants.iter().any(|t| t.eq_ignore_ascii_case(&tenant)) {
            tenants.push(tenant);
        }
    }
}

fn cache_serves_any(tenant: &str) -> bool {
    ["organizations", "common"]
        .iter()
        .any(|any| tenant.eq_ignore_ascii_case(any))
}

fn decode<T: DeserializeOwned>(response: &Response) -> Result<T> {
    serde_json::from_slice(&response.body).map_err(|e| {
        Error::new(
            ErrorKind::InvalidResponse,
            format!(
                "The service's answer is not what was expected ({e}); correlation id {}.",
                response.correlation_id
            ),
        )
        .with_correlation_id(&response.correlation_id)
        .with_response(
            response.status,
            Some(
                String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(4096)
                    .collect(),
            ),
        )
    })
}

//! App-only sign-in against small loopback servers: the client credentials grant with a secret,
//! a certificate's assertion (checked with the test key) or a federated token file; the managed
//! identity sources and their request shapes; renewal of a session's token; and the sign
//! callback across the C ABI.

mod support;

use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use mscommerce_core::app_only::{
    AppAuthType, AppCredential, AppSession, CertificateInfo, ClientCertificate, ClientCredentials,
    EnvironmentCredential, ManagedIdentity, ManagedIdentitySource, ProcessSigner, RawCertificate,
    SignError, Signer, SigningAlgorithm, TokenSource, LICENSING_RESOURCE,
};
use mscommerce_core::ffi::{
    mc_set_sign_callback, MC_SIGN_BUFFER_TOO_SMALL, MC_SIGN_FAILED, MC_SIGN_OK,
    MC_SIGN_UNKNOWN_KEY, MC_STATUS_OK,
};
use mscommerce_core::log::Sink;
use mscommerce_core::settings::Variables;
use mscommerce_core::{Cancel, ErrorKind};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer as _, Verifier};
use rsa::{pkcs1v15, pss, RsaPrivateKey};
use serde_json::{json, Value};
use sha2::Sha256;

const TENANT: &str = "contoso.onmicrosoft.com";
const APP: &str = "11111111-2222-3333-4444-555555555555";
const KEY_ID: u64 = 7;
const SECRET: &str = "client-s3cret-value";

// ---------------------------------------------------------------------------------------------
// A loopback HTTP server that records each request and answers what its handler says.

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Seen {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    fn query(&self) -> HashMap<String, String> {
        let query = self.target.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let record = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (handler, record) = (handler.clone(), record.clone());
                std::thread::spawn(move || serve(stream, &*handler, &record));
            }
        });
        Server { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn serve(stream: TcpStream, handler: &Handler, record: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).expect("header");
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).expect("body");
    let seen = Seen {
        method,
        target,
        headers,
        body: String::from_utf8(body).expect("utf-8 body"),
    };
    let index = {
        let mut record = record.lock().unwrap();
        record.push(seen.clone());
        record.len() - 1
    };
    let reply = handler(index, &seen);
    std::thread::sleep(reply.delay);
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
}

/// A JWT-shaped access token whose payload names the app and tenant, and a serial number so
/// tokens can be told apart.
fn access_token(serial: usize) -> String {
    let payload = URL_SAFE_NO_PAD
        .encode(json!({ "appid": APP, "tid": "tenant-guid", "n": serial }).to_string());
    format!("eyJhbGciOiJub25lIn0.{payload}.sig{serial}")
}

fn token_reply(serial: usize, expires_in: u64) -> Reply {
    json_reply(
        200,
        json!({ "token_type": "Bearer", "access_token": access_token(serial), "expires_in": expires_in }),
    )
}

// ---------------------------------------------------------------------------------------------
// Running the core's futures, and the test key.

fn run<F: std::future::Future>(future: F) -> F::Output {
    mscommerce_core::http::runtime()
        .expect("runtime")
        .block_on(future)
}

fn test_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key"))
}

fn sign_with_test_key(algorithm: SigningAlgorithm, data: &[u8]) -> Vec<u8> {
    match algorithm {
        SigningAlgorithm::Rs256 => pkcs1v15::SigningKey::<Sha256>::new(test_key().clone())
            .sign(data)
            .to_vec(),
        SigningAlgorithm::Ps256 => pss::SigningKey::<Sha256>::new(test_key().clone())
            .sign_with_rng(&mut rand::thread_rng(), data)
            .to_vec(),
    }
}

/// Signs in-process with the test key, counting its calls.
#[derive(Default)]
struct KeySigner {
    calls: AtomicUsize,
}

impl Signer for KeySigner {
    fn sign(
        &self,
        key_id: u64,
        algorithm: SigningAlgorithm,
        data: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if key_id != KEY_ID {
            return Err(SignError::UnknownKey(key_id));
        }
        Ok(sign_with_test_key(algorithm, data))
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn raw_certificate() -> RawCertificate {
    RawCertificate {
        key_id: KEY_ID,
        thumbprint_sha1: "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678".into(),
        thumbprint_sha256: "ab".repeat(32),
        not_before: now_unix() - 3600,
        not_after: now_unix() + 86_400,
        has_private_key: true,
        subject: "CN=MSCommerce automation".into(),
    }
}

fn certificate(
    raw: RawCertificate,
    algorithm: SigningAlgorithm,
    signer: Arc<dyn Signer>,
) -> AppCredential {
    AppCredential::Certificate(ClientCertificate {
        info: CertificateInfo::new(raw).expect("certificate"),
        algorithm,
        signer,
    })
}

fn app(server: &Server, credential: AppCredential) -> ClientCredentials {
    ClientCredentials::new(&server.base, TENANT, APP, LICENSING_RESOURCE, credential)
        .expect("client credentials")
}

fn token_endpoint(server: &Server) -> String {
    format!("{}/{TENANT}/oauth2/v2.0/token", server.base)
}

/// Checks a client assertion: its header, its claims, and its signature with the test key.
/// Returns its `jti`.
fn check_assertion(assertion: &str, audience: &str, algorithm: SigningAlgorithm) -> String {
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3, "{assertion}");
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
    };
    let header = decode(parts[0]);
    assert_eq!(header["alg"], algorithm.name());
    assert_eq!(header["typ"], "JWT");
    assert_eq!(
        header["x5t"],
        URL_SAFE_NO_PAD.encode([
            0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18, 0x29, 0x3A, 0x4B, 0x5C, 0x6D, 0x7E,
            0x8F, 0x90, 0x12, 0x34, 0x56, 0x78,
        ])
    );
    assert_eq!(header["x5t#S256"], URL_SAFE_NO_PAD.encode([0xabu8; 32]));

    let claims = decode(parts[1]);
    assert_eq!(claims["aud"], audience);
    assert_eq!(claims["iss"], APP);
    assert_eq!(claims["sub"], APP);
    let now = now_unix();
    let iat = claims["iat"].as_i64().expect("iat");
    assert!((iat - now).abs() <= 5, "iat {iat} now {now}");
    assert_eq!(claims["nbf"].as_i64(), Some(iat));
    let lifetime = claims["exp"].as_i64().expect("exp") - iat;
    assert!((300..=600).contains(&lifetime), "lifetime {lifetime}");
    let jti = claims["jti"].as_str().expect("jti").to_owned();
    uuid::Uuid::parse_str(&jti).expect("jti is a UUID");

    let signed = format!("{}.{}", parts[0], parts[1]);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature");
    let public = test_key().to_public_key();
    match algorithm {
        SigningAlgorithm::Rs256 => pkcs1v15::VerifyingKey::<Sha256>::new(public)
            .verify(
                signed.as_bytes(),
                &pkcs1v15::Signature::try_from(signature.as_slice()).unwrap(),
            )
            .expect("an RS256 signature by the test key"),
        SigningAlgorithm::Ps256 => pss::VerifyingKey::<Sha256>::new(public)
            .verify(
                signed.as_bytes(),
                &pss::Signature::try_from(signature.as_slice()).unwrap(),
            )
            .expect("a PS256 signature by the test key"),
    }
    jti
}

fn quiet() -> (Variables, Sink, Cancel) {
    (Variables::new(), Sink::default(), Cancel::new())
}

// ---------------------------------------------------------------------------------------------
// The client credentials grant.

#[test]
fn a_client_secret_is_posted_with_the_default_scope() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let app = app(
        &server,
        AppCredential::Secret(mscommerce_core::app_only::Secret::new(SECRET).unwrap()),
    );
    let (variables, _, cancel) = quiet();
    let token = run(app.acquire(&variables, &cancel)).expect("a token");
    assert_eq!(token.access().expose(), access_token(0));
    let left = token
        .expires_at()
        .duration_since(SystemTime::now())
        .unwrap()
        .as_secs();
    assert!((3590..=3599).contains(&left), "{left}");

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path(), format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = seen[0].form();
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], APP);
    assert_eq!(
        form["scope"],
        "aeb86249-8ea3-49e2-900b-54cc8e308f85/.default"
    );
    assert_eq!(form["client_secret"], SECRET);
    assert!(!form.contains_key("client_assertion"));
}

#[test]
fn the_authoritys_refusal_is_relayed_without_the_secret() {
    let server = Server::start(|_, _| {
        json_reply(
            401,
            json!({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                "error_codes": [7000215]
            }),
        )
    });
    let app = app(
        &server,
        AppCredential::Secret(mscommerce_core::app_only::Secret::new(SECRET).unwrap()),
    );
    let (variables, _, cancel) = quiet();
    let error = run(app.acquire(&variables, &cancel)).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::SignInFailed);
    assert!(
        error.message().starts_with(
            "Unable to establish connection: invalid_client: AADSTS7000215: Invalid client secret provided."
        ),
        "{error}"
    );
    assert!(!error.message().contains(SECRET), "{error}");
    assert!(!format!("{error:?}").contains(SECRET));
}

#[test]
fn certificate_assertions_are_signed_and_fresh_for_every_request() {
    for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Ps256] {
        let server = Server::start(|n, _| token_reply(n, 3599));
        let signer = Arc::new(KeySigner::default());
        let app = app(
            &server,
            certificate(raw_certificate(), algorithm, signer.clone()),
        );
        let (variables, _, cancel) = quiet();
        run(app.acquire(&variables, &cancel)).expect("first token");
        run(app.acquire(&variables, &cancel)).expect("second token");
        assert_eq!(signer.calls.load(Ordering::SeqCst), 2);

        let seen = server.seen();
        let mut ids = Vec::new();
        for request in &seen {
            let form = request.form();
            assert_eq!(form["grant_type"], "client_credentials");
            assert_eq!(form["client_id"], APP);
            assert_eq!(form["scope"], format!("{LICENSING_RESOURCE}/.default"));
            assert_eq!(
                form["client_assertion_type"],
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            );
            assert!(!form.contains_key("client_secret"));
            ids.push(check_assertion(
                &form["client_assertion"],
                &token_endpoint(&server),
                algorithm,
            ));
        }
        assert_ne!(ids[0], ids[1], "every assertion has its own jti");
    }
}

#[test]
fn an_unusable_certificate_is_refused_before_anything_is_sent() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let cases = [
        (
            RawCertificate {
                not_after: now_unix() - 60,
                ..raw_certificate()
            },
            "expired on",
        ),
        (
            RawCertificate {
                not_before: now_unix() + 3600,
                ..raw_certificate()
            },
            "is not valid before",
        ),
        (
            RawCertificate {
                has_private_key: false,
                ..raw_certificate()
            },
            "has no private key",
        ),
    ];
    for (raw, why) in cases {
        let signer = Arc::new(KeySigner::default());
        let app = app(
            &server,
            certificate(raw, SigningAlgorithm::Rs256, signer.clone()),
        );
        let (variables, _, cancel) = quiet();
        let error = run(app.acquire(&variables, &cancel)).expect_err(why);
        assert_eq!(error.kind(), ErrorKind::SignInFailed);
        assert!(error.message().contains(why), "{error}");
        assert!(
            error.message().contains("'CN=MSCommerce automation'"),
            "{error}"
        );
        assert!(
            error
                .message()
                .contains("A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"),
            "{error}"
        );
        assert_eq!(signer.calls.load(Ordering::SeqCst), 0);
    }
    assert_eq!(server.count(), 0, "nothing was sent");
}

#[test]
fn a_signer_that_fails_names_the_certificate_and_sends_nothing() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let signer = Arc::new(KeySigner::default());
    let app = app(
        &server,
        certificate(
            RawCertificate {
                key_id: 99,
                ..raw_certificate()
            },
            SigningAlgorithm::Rs256,
            signer,
        ),
    );
    let (variables, _, cancel) = quiet();
    let error = run(app.acquire(&variables, &cancel)).expect_err("unknown key");
    assert!(error.message().contains("no key with id 99"), "{error}");
    assert!(
        error
            .message()
            .contains("A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"),
        "{error}"
    );
    assert_eq!(server.count(), 0);
}

#[test]
fn the_federated_token_file_is_read_again_for_every_request() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    let app = app(&server, AppCredential::FederatedTokenFile(file.clone()));
    let (variables, _, cancel) = quiet();

    std::fs::write(&file, "federated-one\n").unwrap();
    run(app.acquire(&variables, &cancel)).expect("first");
    std::fs::write(&file, "  federated-two  ").unwrap();
    run(app.acquire(&variables, &cancel)).expect("second, after rotation");

    let assertions: Vec<String> = server
        .seen()
        .iter()
        .map(|request| {
            let form = request.form();
            assert_eq!(
                form["client_assertion_type"],
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            );
            form["client_assertion"].clone()
        })
        .collect();
    assert_eq!(assertions, ["federated-one", "federated-two"]);

    std::fs::write(&file, "").unwrap();
    let empty = run(app.acquire(&variables, &cancel)).expect_err("empty");
    assert!(empty.message().contains("is empty"), "{empty}");
    std::fs::remove_file(&file).unwrap();
    let missing = run(app.acquire(&variables, &cancel)).expect_err("missing");
    assert!(
        missing.message().contains(&file.display().to_string()),
        "{missing}"
    );
    assert_eq!(server.count(), 2, "nothing sent without a token");
}

// ---------------------------------------------------------------------------------------------
// Sessions: renewal, one renewal for many callers, what a connection reports.

fn secret_session(server: &Server) -> AppSession {
    AppSession::new(TokenSource::ClientCredentials(app(
        server,
        AppCredential::Secret(mscommerce_core::app_only::Secret::new(SECRET).unwrap()),
    )))
}

#[test]
fn a_short_lived_token_is_kept_then_renewed_before_it_expires() {
    let server = Server::start(|n, _| token_reply(n, 4));
    let session = secret_session(&server);
    let (variables, sink, cancel) = quiet();
    let first = run(session.access_token(&variables, &sink, &cancel)).unwrap();
    let again = run(session.access_token(&variables, &sink, &cancel)).unwrap();
    assert_eq!(first, again);
    assert_eq!(server.count(), 1);
    // Past half its four-second life: renewed, before it expired.
    std::thread::sleep(Duration::from_millis(2300));
    let renewed = run(session.access_token(&variables, &sink, &cancel)).unwrap();
    assert_eq!(renewed.expose(), access_token(1));
    assert_eq!(server.count(), 2);
}

#[test]
fn concurrent_callers_share_one_renewal() {
    let server = Server::start(|n, _| Reply {
        delay: Duration::from_millis(300),
        ..token_reply(n, 3599)
    });
    let session = Arc::new(secret_session(&server));
    let runtime = mscommerce_core::http::runtime().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let session = session.clone();
            runtime.spawn(async move {
                let (variables, sink, cancel) = quiet();
                session.access_token(&variables, &sink, &cancel).await
            })
        })
        .collect();
    let tokens: Vec<String> = tasks
        .into_iter()
        .map(|task| {
            run(task)
                .expect("joined")
                .expect("token")
                .expose()
                .to_owned()
        })
        .collect();
    assert!(tokens.iter().all(|token| *token == access_token(0)));
    assert_eq!(server.count(), 1, "one request for eight callers");
}

#[test]
fn a_failed_renewal_keeps_the_valid_token_until_it_runs_out() {
    let server = Server::start(|n, _| {
        if n == 0 {
            token_reply(n, 4)
        } else {
            json_reply(
                503,
                json!({ "error": "temporarily_unavailable", "error_description": "AADSTS90033: down" }),
            )
        }
    });
    let session = secret_session(&server);
    let (variables, sink, cancel) = quiet();
    let first = run(session.access_token(&variables, &sink, &cancel)).unwrap();
    std::thread::sleep(Duration::from_millis(2300));
    // Due for renewal, which fails: the token still has over a second, so it is used.
    let kept = run(session.access_token(&variables, &sink, &cancel)).unwrap();
    assert_eq!(kept, first);
    assert_eq!(server.count(), 2);
    // Right after a failure the authority is not asked again.
    let kept = run(session.access_token(&variables, &sink, &cancel)).unwrap();
    assert_eq!(kept, first);
    assert_eq!(server.count(), 2);
    // Once the token is nearly gone the failure is the caller's.
    std::thread::sleep(Duration::from_millis(1500));
    let error = run(session.access_token(&variables, &sink, &cancel)).expect_err("expired");
    assert!(error.message().contains("AADSTS90033"), "{error}");
}

#[test]
fn a_connection_reports_the_app_and_never_a_secret() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let signer: Arc<dyn Signer> = Arc::new(KeySigner::default());
    let credential = certificate(raw_certificate(), SigningAlgorithm::Rs256, signer);
    let (variables, sink, cancel) = quiet();
    let session = run(AppSession::sign_in(
        TokenSource::ClientCredentials(app(&server, credential)),
        &variables,
        &sink,
        &cancel,
    ))
    .expect("signed in");
    let connection = session.connection();
    assert_eq!(connection.auth_type, AppAuthType::AppOnly);
    assert_eq!(connection.auth_type.name(), "AppOnly");
    assert_eq!(connection.app_id.as_deref(), Some(APP));
    assert_eq!(connection.tenant_id.as_deref(), Some("tenant-guid"));
    assert_eq!(
        connection.certificate_thumbprint.as_deref(),
        Some("A1B2C3D4E5F60718293A4B5C6D7E8F9012345678")
    );
    let expires_on = connection.expires_on.expect("expiry") as i64;
    assert!((expires_on - now_unix() - 3599).abs() <= 5);

    let secret = secret_session(&server);
    run(secret.access_token(&variables, &sink, &cancel)).unwrap();
    for shown in [
        format!("{session:?}"),
        format!("{secret:?}"),
        format!("{connection:?}"),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(
            !shown.contains("sig0") && !shown.contains("sig1"),
            "{shown}"
        );
    }
}

#[test]
fn the_environment_credential_signs_in_as_a_workload_identity() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "k8s-service-account-token").unwrap();
    let variables = Variables::from_pairs([
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", APP),
        ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap()),
        ("AZURE_AUTHORITY_HOST", server.base.as_str()),
    ]);
    let configured = EnvironmentCredential::from_variables(&variables).expect("configured");
    assert_eq!(configured.kind_name(), "FederatedToken");
    let app = configured
        .client_credentials(
            "https://login.microsoftonline.com",
            LICENSING_RESOURCE,
            None,
        )
        .expect("the authority host's");
    let (_, sink, cancel) = quiet();
    let session = run(AppSession::sign_in(
        TokenSource::ClientCredentials(app),
        &variables,
        &sink,
        &cancel,
    ))
    .expect("signed in");
    assert_eq!(session.auth_type(), AppAuthType::WorkloadIdentity);
    assert_eq!(
        server.seen()[0].form()["client_assertion"],
        "k8s-service-account-token"
    );
}

// ---------------------------------------------------------------------------------------------
// Managed identity.

fn managed(variables: &[(&str, &str)], client_id: Option<&str>) -> ManagedIdentity {
    let variables = Variables::from_pairs(variables.iter().copied());
    let source = ManagedIdentitySource::from_variables(&variables).expect("a source");
    ManagedIdentity::new(source, client_id, LICENSING_RESOURCE).expect("an identity")
}

#[test]
fn app_service_is_asked_with_its_header_and_api_version() {
    let server = Server::start(|_, _| {
        json_reply(
            200,
            json!({ "access_token": access_token(0), "expires_on": (now_unix() + 3600).to_string(),
                    "resource": LICENSING_RESOURCE, "token_type": "Bearer" }),
        )
    });
    let endpoint = format!("{}/msi/token", server.base);
    let identity = managed(
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IDENTITY_HEADER", "identity-header-s3cret"),
        ],
        Some("user-assigned-id"),
    );
    assert_eq!(identity.source().name(), "AppService");
    let token = run(identity.acquire(&Cancel::new())).expect("token");
    let left = token.expires_on() as i64 - now_unix();
    assert!((3590..=3600).contains(&left), "{left}");

    let seen = &server.seen()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path(), "/msi/token");
    let query = seen.query();
    assert_eq!(query["api-version"], "2019-08-01");
    assert_eq!(query["resource"], LICENSING_RESOURCE);
    assert_eq!(query["client_id"], "user-assigned-id");
    assert_eq!(
        seen.header("x-identity-header"),
        Some("identity-header-s3cret")
    );
    assert!(!format!("{identity:?}").contains("identity-header-s3cret"));
}

#[test]
fn the_metadata_service_is_asked_with_metadata_true_and_retried_when_busy() {
    let server = Server::start(|n, _| {
        if n == 0 {
            json_reply(503, json!({ "error": "busy" }))
        } else {
            json_reply(
                200,
                json!({ "access_token": access_token(n), "expires_in": "3599", "expires_on": "bad" }),
            )
        }
    });
    let identity = managed(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &server.base)], None);
    assert_eq!(identity.source().name(), "Imds");
    let token = run(identity.acquire(&Cancel::new())).expect("token");
    assert_eq!(token.access().expose(), access_token(1));
    let left = token.expires_on() as i64 - now_unix();
    assert!((3590..=3599).contains(&left), "{left}");

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.method, "GET");
        assert_eq!(request.path(), "/metadata/identity/oauth2/token");
        let query = request.query();
        assert_eq!(query["api-version"], "2018-02-01");
        assert_eq!(query["resource"], LICENSING_RESOURCE);
        assert!(!query.contains_key("client_id"));
        assert_eq!(request.header("metadata"), Some("true"));
    }
}

#[test]
fn the_metadata_services_refusal_is_relayed() {
    let server = Server::start(|_, _| {
        json_reply(
            400,
            json!({ "error": "invalid_request", "error_description": "Identity not found" }),
        )
    });
    let identity = managed(
        &[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &server.base)],
        Some("missing-id"),
    );
    let error = run(identity.acquire(&Cancel::new())).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::SignInFailed);
    assert!(
        error
            .message()
            .starts_with("Unable to establish connection: the managed identity endpoint (Imds) answered HTTP 400: Identity not found"),
        "{error}"
    );
    assert_eq!(server.count(), 1, "a 400 is not retried");
}

#[test]
fn no_managed_identity_here_fails_fast_on_a_closed_port() {
    // A port that was just free: nothing listens, so the connection is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("http://127.0.0.1:{port}");
    let identity = managed(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &host)], None);
    let started = Instant::now();
    let error = run(identity.acquire(&Cancel::new())).expect_err("nothing there");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(error.kind(), ErrorKind::SignInFailed);
    assert!(
        error.message().contains(&format!(
            "no managed identity endpoint answered at {host}/metadata/identity/oauth2/token"
        )),
        "{error}"
    );
}

#[test]
fn azure_arc_answers_after_the_key_file_challenge() {
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("0123.key");
    std::fs::write(&key_file, "arc-key-content").unwrap();
    let realm = key_file.display().to_string();
    let server = Server::start(move |_, seen| match seen.header("authorization") {
        None => Reply {
            status: 401,
            headers: vec![("WWW-Authenticate".into(), format!("Basic realm={realm}"))],
            body: String::new(),
            delay: Duration::ZERO,
        },
        Some(_) => json_reply(
            200,
            json!({ "access_token": access_token(1), "expires_on": now_unix() + 3600 }),
        ),
    });
    let endpoint = format!("{}/metadata/identity/oauth2/token", server.base);
    let identity = managed(
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IMDS_ENDPOINT", &server.base),
            ("MSCOMMERCE_ARC_KEY_DIR", keys.path().to_str().unwrap()),
        ],
        None,
    );
    assert_eq!(identity.source().name(), "AzureArc");
    let token = run(identity.acquire(&Cancel::new())).expect("token");
    assert_eq!(token.access().expose(), access_token(1));

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.query()["api-version"], "2020-06-01");
        assert_eq!(request.query()["resource"], LICENSING_RESOURCE);
        assert_eq!(request.header("metadata"), Some("true"));
    }
    assert_eq!(seen[0].header("authorization"), None);
    assert_eq!(
        seen[1].header("authorization"),
        Some("Basic arc-key-content")
    );
}

#[test]
fn azure_arc_never_sends_a_file_outside_its_key_folder() {
    let keys = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let stolen = elsewhere.path().join("secret.key");
    std::fs::write(&stolen, "not-for-you").unwrap();
    let realm = stolen.display().to_string();
    let server = Server::start(move |_, _| Reply {
        status: 401,
        headers: vec![("WWW-Authenticate".into(), format!("Basic realm={realm}"))],
        body: String::new(),
        delay: Duration::ZERO,
    });
    let endpoint = format!("{}/metadata/identity/oauth2/token", server.base);
    let identity = managed(
        &[
            ("IDENTITY_ENDPOINT", &endpoint),
            ("IMDS_ENDPOINT", &server.base),
            ("MSCOMMERCE_ARC_KEY_DIR", keys.path().to_str().unwrap()),
        ],
        None,
    );
    let error = run(identity.acquire(&Cancel::new())).expect_err("refused");
    assert!(error.message().contains("expected folder"), "{error}");
    assert!(!error.message().contains("not-for-you"), "{error}");
    assert_eq!(server.count(), 1, "the file's content was never sent");
}

#[test]
fn cloud_shell_and_the_older_app_service_api_have_their_own_shapes() {
    let server = Server::start(|n, _| {
        json_reply(
            200,
            json!({ "access_token": access_token(n), "expires_on": now_unix() + 3600 }),
        )
    });
    let endpoint = format!("{}/oauth2/token", server.base);
    let cloud_shell = managed(&[("MSI_ENDPOINT", &endpoint)], None);
    assert_eq!(cloud_shell.source().name(), "CloudShell");
    run(cloud_shell.acquire(&Cancel::new())).expect("cloud shell token");
    let legacy = managed(
        &[("MSI_ENDPOINT", &endpoint), ("MSI_SECRET", "msi-s3cret")],
        Some("user-assigned-id"),
    );
    assert_eq!(legacy.source().name(), "AppServiceLegacy");
    run(legacy.acquire(&Cancel::new())).expect("legacy token");

    let seen = server.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].header("metadata"), Some("true"));
    assert_eq!(seen[0].form()["resource"], LICENSING_RESOURCE);
    assert_eq!(seen[1].method, "GET");
    assert_eq!(seen[1].query()["api-version"], "2017-09-01");
    assert_eq!(seen[1].query()["clientid"], "user-assigned-id");
    assert_eq!(seen[1].header("secret"), Some("msi-s3cret"));
}

#[test]
fn a_managed_identity_session_reports_the_tokens_app_and_tenant() {
    let server = Server::start(|n, _| {
        json_reply(
            200,
            json!({ "access_token": access_token(n), "expires_in": 3599 }),
        )
    });
    let identity = managed(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", &server.base)], None);
    let (variables, sink, cancel) = quiet();
    let session = run(AppSession::sign_in(
        TokenSource::ManagedIdentity(identity),
        &variables,
        &sink,
        &cancel,
    ))
    .expect("signed in");
    let connection = session.connection();
    assert_eq!(connection.auth_type, AppAuthType::ManagedIdentity);
    assert_eq!(connection.app_id.as_deref(), Some(APP));
    assert_eq!(connection.tenant_id.as_deref(), Some("tenant-guid"));
    assert_eq!(connection.managed_identity_source, Some("Imds"));
    assert_eq!(connection.certificate_thumbprint, None);
}

// ---------------------------------------------------------------------------------------------
// The sign callback across the C ABI.

/// Signs with the test key for `KEY_ID`; fails for key 8; for key 9 first asks for a buffer
/// larger than the one offered; knows no other key.
unsafe extern "C" fn test_sign_callback(
    key_id: u64,
    algorithm: *const c_char,
    data: *const u8,
    data_len: usize,
    signature: *mut u8,
    signature_capacity: usize,
    signature_len: *mut usize,
) -> i32 {
    let algorithm = match unsafe { CStr::from_ptr(algorithm) }.to_str() {
        Ok("RS256") => SigningAlgorithm::Rs256,
        Ok("PS256") => SigningAlgorithm::Ps256,
        _ => return MC_SIGN_FAILED,
    };
    match key_id {
        KEY_ID | 9 => {}
        8 => return MC_SIGN_FAILED,
        _ => return MC_SIGN_UNKNOWN_KEY,
    }
    if key_id == 9 && signature_capacity < 4000 {
        unsafe { signature_len.write(4000) };
        return MC_SIGN_BUFFER_TOO_SMALL;
    }
    let data = unsafe { std::slice::from_raw_parts(data, data_len) };
    let signed = sign_with_test_key(algorithm, data);
    if signed.len() > signature_capacity {
        unsafe { signature_len.write(signed.len()) };
        return MC_SIGN_BUFFER_TOO_SMALL;
    }
    unsafe {
        std::ptr::copy_nonoverlapping(signed.as_ptr(), signature, signed.len());
        signature_len.write(signed.len());
    }
    MC_SIGN_OK
}

/// Claims a signature longer than the buffer it was given.
unsafe extern "C" fn lying_sign_callback(
    _key_id: u64,
    _algorithm: *const c_char,
    _data: *const u8,
    _data_len: usize,
    _signature: *mut u8,
    signature_capacity: usize,
    signature_len: *mut usize,
) -> i32 {
    unsafe { signature_len.write(signature_capacity + 1) };
    MC_SIGN_OK
}

/// One test for everything that registers a callback: the registration is process-wide.
#[test]
fn the_sign_callback_signs_through_the_c_abi_and_its_failures_are_clean() {
    let server = Server::start(|n, _| token_reply(n, 3599));
    let (variables, _, cancel) = quiet();
    let with_key = |key_id: u64, algorithm| {
        app(
            &server,
            certificate(
                RawCertificate {
                    key_id,
                    ..raw_certificate()
                },
                algorithm,
                Arc::new(ProcessSigner),
            ),
        )
    };

    assert_eq!(mc_set_sign_callback(None), MC_STATUS_OK);
    let error = run(with_key(KEY_ID, SigningAlgorithm::Rs256).acquire(&variables, &cancel))
        .expect_err("no callback");
    assert!(error.message().contains("mc_set_sign_callback"), "{error}");
    assert!(
        error.message().contains("CN=MSCommerce automation"),
        "{error}"
    );

    assert_eq!(mc_set_sign_callback(Some(test_sign_callback)), MC_STATUS_OK);
    for algorithm in [SigningAlgorithm::Rs256, SigningAlgorithm::Ps256] {
        run(with_key(KEY_ID, algorithm).acquire(&variables, &cancel)).expect("signed by the shim");
        let seen = server.seen();
        let form = seen.last().unwrap().form();
        check_assertion(
            &form["client_assertion"],
            &token_endpoint(&server),
            algorithm,
        );
    }
    // A larger buffer asked for is given once.
    run(with_key(9, SigningAlgorithm::Rs256).acquire(&variables, &cancel))
        .expect("signed after asking for room");
    let sent = server.count();

    let failed = run(with_key(8, SigningAlgorithm::Rs256).acquire(&variables, &cancel))
        .expect_err("the callback failed");
    assert_eq!(failed.kind(), ErrorKind::SignInFailed);
    assert!(failed.message().contains("status 1"), "{failed}");
    let unknown = run(with_key(5, SigningAlgorithm::Rs256).acquire(&variables, &cancel))
        .expect_err("unknown key");
    assert!(unknown.message().contains("no key with id 5"), "{unknown}");

    assert_eq!(
        mc_set_sign_callback(Some(lying_sign_callback)),
        MC_STATUS_OK
    );
    let lying = run(with_key(KEY_ID, SigningAlgorithm::Rs256).acquire(&variables, &cancel))
        .expect_err("a length beyond the buffer");
    assert!(lying.message().contains("not a signature"), "{lying}");

    assert_eq!(mc_set_sign_callback(None), MC_STATUS_OK);
    assert_eq!(server.count(), sent, "no failed signature sent anything");
}

#[test]
fn the_library_exports_the_sign_callback() {
    let path = support::library_path();
    // SAFETY: loading our own library; its initialisers have no preconditions.
    let library = unsafe { libloading::Library::new(&path) }.expect("the cdylib");
    type SetSign = unsafe extern "C" fn(mscommerce_core::ffi::McSignCallback) -> i32;
    // SAFETY: the symbol has this signature (see src/ffi/sign.rs).
    let set: libloading::Symbol<SetSign> =
        unsafe { library.get(b"mc_set_sign_callback\0") }.expect("mc_set_sign_callback");
    // The library's registry is its own copy: registering and clearing there leaves ours be.
    assert_eq!(unsafe { set(Some(test_sign_callback)) }, MC_STATUS_OK);
    assert_eq!(unsafe { set(None) }, MC_STATUS_OK);
}

namespace MSCommerce.Interop
{
    /// <summary>How <see cref="CoreClient.Connect"/> signs in when the token cache cannot serve.</summary>
    public enum SignInFlow
    {
        /// <summary>The system browser, answered on a loopback listener (authorization code with PKCE).</summary>
        Browser,

        /// <summary>A device code, entered on any device with a browser.</summary>
        DeviceCode,

        /// <summary>An application with a client secret (<see cref="SignInOptions.ClientSecret"/>).</summary>
        ClientSecret,

        /// <summary>An application with a certificate (<see cref="SignInOptions.Certificate"/>): a signed assertion.</summary>
        Certificate,

        /// <summary>The Azure host's managed identity; <see cref="SignInOptions.ClientId"/> picks a user-assigned one.</summary>
        ManagedIdentity,

        /// <summary>What the AZURE_* variables configure: a secret, a certificate file or a federated token file.</summary>
        Environment,
    }

    /// <summary>
    /// The choices of a sign-in (<c>connect</c> in docs/abi.md). Null or empty fields take the
    /// core's defaults: tenant organizations, the original module's client id and resource, its
    /// redirect URI, context scope CurrentUser.
    /// </summary>
    public sealed class SignInOptions
    {
        /// <summary>Browser or device code.</summary>
        public SignInFlow Flow { get; set; }

        /// <summary>A tenant id or domain, or organizations/common.</summary>
        public string? TenantId { get; set; }

        /// <summary>The public client id.</summary>
        public string? ClientId { get; set; }

        /// <summary>The resource to ask permissions of.</summary>
        public string? Resource { get; set; }

        /// <summary>The registered loopback redirect URI (browser flow).</summary>
        public string? RedirectUri { get; set; }

        /// <summary>The account expected: preselected on the page, and required of a cached account.</summary>
        public string? LoginHint { get; set; }

        /// <summary>CurrentUser (keep the sign-in in the token cache) or Process (keep nothing).</summary>
        public string? ContextScope { get; set; }

        /// <summary>How long the browser flow waits for the user; null for the core's default.</summary>
        public double? TimeoutSeconds { get; set; }

        /// <summary>The application's secret (<see cref="SignInFlow.ClientSecret"/>).</summary>
        public string? ClientSecret { get; set; }

        /// <summary>
        /// The certificate whose private key signs the assertion (<see cref="SignInFlow.Certificate"/>,
        /// or <see cref="SignInFlow.Environment"/> with AZURE_CLIENT_CERTIFICATE_PATH); the key never
        /// leaves .NET.
        /// </summary>
        public System.Security.Cryptography.X509Certificates.X509Certificate2? Certificate { get; set; }
    }

    /// <summary>Where a new client connects (<c>mc_client_new</c>); null fields take the core's defaults.</summary>
    public sealed class ClientOptions
    {
        /// <summary>A cloud with built-in endpoints, such as Public.</summary>
        public string? Environment { get; set; }

        /// <summary>The licensing service; default from the environment, then $env:MSCOMMERCE_SERVICE_URI.</summary>
        public string? ServiceUri { get; set; }

        /// <summary>The sign-in authority; default from the environment, then $env:MSCOMMERCE_AUTHORITY_URI.</summary>
        public string? AuthorityUri { get; set; }

        /// <summary>A token obtained elsewhere, used for every call.</summary>
        public string? AccessToken { get; set; }

        /// <summary>
        /// The PowerShell edition whose web cmdlets' wording HTTP failures take, <c>Desktop</c> or
        /// <c>Core</c>; null for the edition the module runs in.
        /// </summary>
        public string? Edition { get; set; }
    }
}

using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Connects this PowerShell session to the licensing service.</para>
    /// <para type="description">Connects the current runspace; every other MSCommerce cmdlet then uses the connection unless given -Token. Without parameters it signs in through your browser (a loopback redirect to this computer, authorization code with PKCE); -DeviceCode signs in from any device instead, for SSH sessions and machines without a browser. The sign-in is kept in the OS secret store (-ContextScope CurrentUser, the default), so later sessions reconnect silently with no prompt; -ContextScope Process keeps nothing. Disconnect-MSCommerce -ForgetAccount removes the kept sign-in. With -AccessToken, uses a token obtained elsewhere (for the resource aeb86249-8ea3-49e2-900b-54cc8e308f85). -Environment picks a cloud (Public, the default); -ServiceUri and -AuthorityUri (defaults: $env:MSCOMMERCE_SERVICE_URI and $env:MSCOMMERCE_AUTHORITY_URI, then the environment's) point the connection elsewhere, such as the local emulator. The module never puts a token in a PowerShell variable.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Connect-MSCommerce
    /// </code>
    /// <para>Signs in through the browser the first time; in later sessions, reconnects silently from the kept sign-in.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Connect-MSCommerce -DeviceCode -TenantId contoso.onmicrosoft.com
    /// </code>
    /// <para>Signs in from any platform, even over SSH: open the URL it shows on any device, enter the code, and sign in with a global or billing administrator account.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Connect-MSCommerce -LoginHint admin@contoso.onmicrosoft.com -ContextScope Process
    /// </code>
    /// <para>Signs in as a given account and keeps nothing after this session ends.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Connect-MSCommerce -AccessToken $token
    /// </code>
    /// <para>Connects this session with a token obtained elsewhere; the other cmdlets then need no -Token.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Connect-MSCommerce -AccessToken $token -ServiceUri http://127.0.0.1:5000
    /// </code>
    /// <para>Connects to a local emulator of the service, for dry runs.</para>
    /// </example>
    [Cmdlet(VerbsCommunications.Connect, "MSCommerce", DefaultParameterSetName = InteractiveSet)]
    [OutputType(typeof(void))]
    public sealed class ConnectMSCommerceCommand : MSCommerceCmdletBase
    {
        /// <summary>Interactive sign-in (the original's parameters).</summary>
        public const string InteractiveSet = "Interactive";

        /// <summary>A token obtained elsewhere.</summary>
        public const string AccessTokenSet = "AccessToken";

        /// <summary>Device code sign-in: any device with a browser.</summary>
        public const string DeviceCodeSet = "DeviceCode";

        /// <summary>An application with a certificate from the store, by thumbprint.</summary>
        public const string CertificateThumbprintSet = "AppCertificateThumbprint";

        /// <summary>An application with a certificate from the store, by subject.</summary>
        public const string CertificateNameSet = "AppCertificateName";

        /// <summary>An application with a certificate the script loaded.</summary>
        public const string CertificateSet = "AppCertificate";

        /// <summary>An application with a client secret.</summary>
        public const string ClientSecretSet = "AppSecretCredential";

        /// <summary>The Azure host's managed identity.</summary>
        public const string IdentitySet = "ManagedIdentity";

        /// <summary>What the AZURE_* variables configure.</summary>
        public const string EnvironmentVariableSet = "EnvironmentVariable";

        /// <summary>The original module's client id.</summary>
        public const string DefaultClientId = CoreDefaults.ClientId;

        /// <summary>
        /// <para type="description">The client (application) id to sign in with. A user signs in with a public client (default: the original module's); an application signs in as itself, with -CertificateThumbprint, -CertificateName, -Certificate; with -Identity it picks a user-assigned managed identity.</para>
        /// </summary>
        [Parameter(Position = 0, ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateThumbprintSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateNameSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
        [Parameter(ParameterSetName = IdentitySet)]
        [Alias("AppId", "ApplicationId")]
        [ValidateNotNullOrEmpty]
        public string ClientId { get; set; } = DefaultClientId;

        /// <summary>
        /// <para type="description">The thumbprint of the application's certificate, found in Cert:\CurrentUser\My, then Cert:\LocalMachine\My (on Linux and macOS, the .NET certificate store of the user). Its private key may be non-exportable: it never leaves .NET.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = CertificateThumbprintSet)]
        [ValidateNotNullOrEmpty]
        public string? CertificateThumbprint { get; set; }

        /// <summary>
        /// <para type="description">The subject of the application's certificate (CN=... or the name alone), found as -CertificateThumbprint finds one; of several, the valid one that lasts longest.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = CertificateNameSet)]
        [Alias("CertificateSubjectName")]
        [ValidateNotNullOrEmpty]
        public string? CertificateName { get; set; }

        /// <summary>
        /// <para type="description">The application's certificate with its private key, as the script loaded it (for example from a PFX file).</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
        [ValidateNotNull]
        public X509Certificate2? Certificate { get; set; }

        /// <summary>
        /// <para type="description">The application's id as the user name and its client secret as the password.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = ClientSecretSet)]
        [ValidateNotNull]
        public PSCredential? ClientSecretCredential { get; set; }

        /// <summary>
        /// <para type="description">Signs in with the managed identity of the Azure host this runs on (App Service, Functions, Automation, Azure Arc, a virtual machine); -ClientId picks a user-assigned one.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = IdentitySet)]
        [Alias("ManagedIdentity")]
        public SwitchParameter Identity { get; set; }

        /// <summary>
        /// <para type="description">Signs in as the AZURE_* variables say, as Azure.Identity's EnvironmentCredential and WorkloadIdentityCredential read them: AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH (and AZURE_CLIENT_CERTIFICATE_PASSWORD) or AZURE_FEDERATED_TOKEN_FILE (GitHub Actions OIDC, Kubernetes workload identity).</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = EnvironmentVariableSet)]
        public SwitchParameter EnvironmentVariable { get; set; }

        /// <summary>
        /// <para type="description">The redirect URI registered for the client: http://localhost with a path. The browser comes back to it on a free port of this computer.</para>
        /// </summary>
        [Parameter(Position = 1, ParameterSetName = InteractiveSet)]
        [ValidateNotNull]
        public Uri RedirectUri { get; set; } = new Uri(CoreDefaults.RedirectUri);

        /// <summary>
        /// <para type="description">The resource (the M365 License Manager) to get a token for.</para>
        /// </summary>
        [Parameter(Position = 2, ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [Parameter(ParameterSetName = CertificateThumbprintSet)]
        [Parameter(ParameterSetName = CertificateNameSet)]
        [Parameter(ParameterSetName = CertificateSet)]
        [Parameter(ParameterSetName = ClientSecretSet)]
        [Parameter(ParameterSetName = IdentitySet)]
        [Parameter(ParameterSetName = EnvironmentVariableSet)]
        [ValidateNotNullOrEmpty]
        public string Resource { get; set; } = "aeb86249-8ea3-49e2-900b-54cc8e308f85";

        /// <summary>
        /// <para type="description">An access token obtained elsewhere, as a string or a SecureString. It is kept only inside the module's native engine, never in a PowerShell variable.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = AccessTokenSet)]
        [ValidateNotNull]
        public object AccessToken { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">Signs in with a device code: shows a URL and a code to enter there from any device with a browser, then waits until you have signed in (Ctrl+C stops waiting). Works on every platform and over SSH.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = DeviceCodeSet)]
        [Alias("UseDeviceAuthentication")]
        public SwitchParameter DeviceCode { get; set; }

        /// <summary>
        /// <para type="description">The tenant to sign in to: its id or a domain such as contoso.onmicrosoft.com. Default for a user: organizations (the account's own tenant). An application names its tenant.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateThumbprintSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateNameSet)]
        [Parameter(Mandatory = true, ParameterSetName = CertificateSet)]
        [Parameter(Mandatory = true, ParameterSetName = ClientSecretSet)]
        [ValidateNotNullOrEmpty]
        public string? TenantId { get; set; }

        /// <summary>
        /// <para type="description">The account to sign in as, such as admin@contoso.onmicrosoft.com: preselected on the sign-in page, and a kept sign-in of another account is not used.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [ValidateNotNullOrEmpty]
        public string? LoginHint { get; set; }

        /// <summary>
        /// <para type="description">Where the sign-in is kept: CurrentUser (the default) keeps it in the OS secret store so later sessions reconnect silently; Process keeps nothing after this session.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [ValidateSet(CoreDefaults.CurrentUserContext, CoreDefaults.ProcessContext)]
        public string? ContextScope { get; set; }

        /// <summary>
        /// <para type="description">The cloud to connect to: Public (the default). Overrides the MSCOMMERCE_SERVICE_URI and MSCOMMERCE_AUTHORITY_URI variables; -ServiceUri and -AuthorityUri override it.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = AccessTokenSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [Parameter(ParameterSetName = CertificateThumbprintSet)]
        [Parameter(ParameterSetName = CertificateNameSet)]
        [Parameter(ParameterSetName = CertificateSet)]
        [Parameter(ParameterSetName = ClientSecretSet)]
        [Parameter(ParameterSetName = IdentitySet)]
        [Parameter(ParameterSetName = EnvironmentVariableSet)]
        [ValidateNotNullOrEmpty]
        public string? Environment { get; set; }

        /// <summary>
        /// <para type="description">The sign-in authority. Default: the environment's; without -Environment, $env:MSCOMMERCE_AUTHORITY_URI, then https://login.microsoftonline.com.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [Parameter(ParameterSetName = CertificateThumbprintSet)]
        [Parameter(ParameterSetName = CertificateNameSet)]
        [Parameter(ParameterSetName = CertificateSet)]
        [Parameter(ParameterSetName = ClientSecretSet)]
        [Parameter(ParameterSetName = EnvironmentVariableSet)]
        [ValidateNotNullOrEmpty]
        public string? AuthorityUri { get; set; }

        /// <summary>
        /// <para type="description">The licensing service to connect to. Default: the environment's; without -Environment, $env:MSCOMMERCE_SERVICE_URI, then https://licensing.m365.microsoft.com.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = AccessTokenSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [Parameter(ParameterSetName = CertificateThumbprintSet)]
        [Parameter(ParameterSetName = CertificateNameSet)]
        [Parameter(ParameterSetName = CertificateSet)]
        [Parameter(ParameterSetName = ClientSecretSet)]
        [Parameter(ParameterSetName = IdentitySet)]
        [Parameter(ParameterSetName = EnvironmentVariableSet)]
        [ValidateNotNullOrEmpty]
        public string? ServiceUri { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            string? token = null;
            if (ParameterSetName == AccessTokenSet)
            {
                try
                {
                    token = TokenText(AccessToken);
                }
                catch (ArgumentException e)
                {
                    ThrowTerminatingError(new ErrorRecord(e, "InvalidAccessToken", ErrorCategory.InvalidArgument, null));
                    return;
                }
            }

            CoreClient client;
            try
            {
                client = CoreClient.Create(new ClientOptions
                {
                    Environment = Environment,
                    ServiceUri = ServiceUri,
                    AuthorityUri = AuthorityUri,
                    AccessToken = token,
                });
            }
            catch (MSCommerceException e)
            {
                var record = ToErrorRecord(e);
                WriteError(new ErrorRecord(new MSCommerceException(e.Code, e.Category, false, "Unable to establish connection: " + e.Message), e.Code, record.CategoryInfo.Category, ServiceUri ?? AuthorityUri ?? Environment));
                return;
            }

            if (ParameterSetName != AccessTokenSet)
            {
                // Sign the new client in before it replaces the old one: a failed or cancelled
                // sign-in leaves the session as it was.
                var options = SignInOptions(client);
                if (options == null || Run((stop, sink) => client.Connect(options, stop, sink)) == null)
                {
                    client.Dispose();
                    return;
                }
            }

            MSCommerceSession.Replace(client);
            WriteHostLine("Connection established successfully");
        }

        /// <summary>How this parameter set signs in; null (with the error written) when its certificate cannot be had.</summary>
        private SignInOptions? SignInOptions(CoreClient client)
        {
            var options = new SignInOptions { TenantId = TenantId, Resource = Resource };
            switch (ParameterSetName)
            {
                case InteractiveSet:
                case DeviceCodeSet:
                    options.Flow = ParameterSetName == DeviceCodeSet ? SignInFlow.DeviceCode : SignInFlow.Browser;
                    options.ClientId = ClientId;
                    options.RedirectUri = ParameterSetName == InteractiveSet ? RedirectUri.AbsoluteUri : null;
                    options.LoginHint = LoginHint;
                    options.ContextScope = ContextScope;
                    return options;
                case ClientSecretSet:
                    options.Flow = SignInFlow.ClientSecret;
                    options.ClientId = ClientSecretCredential!.UserName;
                    options.ClientSecret = ClientSecretCredential.GetNetworkCredential().Password;
                    return options;
                case IdentitySet:
                    options.Flow = SignInFlow.ManagedIdentity;
                    options.ClientId = MyInvocation.BoundParameters.ContainsKey(nameof(ClientId)) ? ClientId : null;
                    return options;
                case EnvironmentVariableSet:
                    options.Flow = SignInFlow.Environment;
                    return EnvironmentCertificate(options) ? options : null;
                default:
                    options.Flow = SignInFlow.Certificate;
                    options.ClientId = ClientId;
                    options.Certificate = StoreCertificate();
                    return options.Certificate == null ? null : options;
            }
        }

        /// <summary>-Certificate, or the store's certificate of -CertificateThumbprint or -CertificateName; null (with the error written) when the stores hold none.</summary>
        private X509Certificate2? StoreCertificate()
        {
            if (ParameterSetName == CertificateSet)
            {
                return Certificate;
            }

            var byThumbprint = ParameterSetName == CertificateThumbprintSet;
            var wanted = byThumbprint ? CertificateThumbprint! : CertificateName!;
            var found = byThumbprint ? CertificateStores.FindByThumbprint(wanted) : CertificateStores.FindBySubject(wanted);
            if (found == null)
            {
                var message = "Unable to establish connection: no certificate with the " + (byThumbprint ? "thumbprint " : "subject ") + wanted + " is in " + CertificateStores.Searched + ". Nothing was sent.";
                WriteError(new ErrorRecord(new MSCommerceException("CertificateNotFound", "ObjectNotFound", false, message), "CertificateNotFound", ErrorCategory.ObjectNotFound, wanted));
            }

            return found;
        }

        /// <summary>
        /// With AZURE_CLIENT_CERTIFICATE_PATH, loads the certificate file (PFX, or PEM where .NET
        /// reads it) for the signer; the core chooses among the variables. False, with the error
        /// written, when the file cannot be loaded.
        /// </summary>
        private bool EnvironmentCertificate(SignInOptions options)
        {
            var path = System.Environment.GetEnvironmentVariable("AZURE_CLIENT_CERTIFICATE_PATH");
            if (string.IsNullOrEmpty(path))
            {
                return true;
            }

            try
            {
                options.Certificate = CertificateFiles.Load(path!, System.Environment.GetEnvironmentVariable("AZURE_CLIENT_CERTIFICATE_PASSWORD"));
                return true;
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException || e is System.IO.IOException || e is UnauthorizedAccessException || e is NotSupportedException)
            {
                var message = "Unable to establish connection: the certificate in AZURE_CLIENT_CERTIFICATE_PATH ('" + path + "') could not be loaded: " + e.Message;
                WriteError(new ErrorRecord(new MSCommerceException("CertificateNotLoaded", "InvalidArgument", false, message), "CertificateNotLoaded", ErrorCategory.InvalidArgument, path));
                return false;
            }
        }

        private static string TokenText(object value)
        {
            var raw = value is PSObject wrapped ? wrapped.BaseObject : value;
            switch (raw)
            {
                case string text when !string.IsNullOrWhiteSpace(text):
                    return text;
                case SecureString secure when secure.Length > 0:
                    var pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
                    try
                    {
                        return Marshal.PtrToStringUni(pointer) ?? string.Empty;
                    }
                    finally
                    {
                        Marshal.ZeroFreeGlobalAllocUnicode(pointer);
                    }

                default:
                    throw new ArgumentException("-AccessToken must be a non-empty string or SecureString.");
            }
        }
    }
}

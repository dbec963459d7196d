using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
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

        /// <summary>The original module's client id.</summary>
        public const string DefaultClientId = CoreDefaults.ClientId;

        /// <summary>
        /// <para type="description">The public client (application) id to sign in with. Default: the original module's.</para>
        /// </summary>
        [Parameter(Position = 0, ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [ValidateNotNullOrEmpty]
        public string ClientId { get; set; } = DefaultClientId;

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
        /// <para type="description">The tenant to sign in to: its id or a domain such as contoso.onmicrosoft.com. Default: organizations (the account's own tenant).</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
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
        [ValidateNotNullOrEmpty]
        public string? Environment { get; set; }

        /// <summary>
        /// <para type="description">The sign-in authority. Default: the environment's; without -Environment, $env:MSCOMMERCE_AUTHORITY_URI, then https://login.microsoftonline.com.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
        [ValidateNotNullOrEmpty]
        public string? AuthorityUri { get; set; }

        /// <summary>
        /// <para type="description">The licensing service to connect to. Default: the environment's; without -Environment, $env:MSCOMMERCE_SERVICE_URI, then https://licensing.m365.microsoft.com.</para>
        /// </summary>
        [Parameter(ParameterSetName = InteractiveSet)]
        [Parameter(ParameterSetName = AccessTokenSet)]
        [Parameter(ParameterSetName = DeviceCodeSet)]
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
                var options = new SignInOptions
                {
                    Flow = ParameterSetName == DeviceCodeSet ? SignInFlow.DeviceCode : SignInFlow.Browser,
                    TenantId = TenantId,
                    ClientId = ClientId,
                    Resource = Resource,
                    RedirectUri = ParameterSetName == InteractiveSet ? RedirectUri.AbsoluteUri : null,
                    LoginHint = LoginHint,
                    ContextScope = ContextScope,
                };
                if (Run((stop, sink) => client.Connect(options, stop, sink)) == null)
                {
                    client.Dispose();
                    return;
                }
            }

            MSCommerceSession.Replace(client);
            WriteHostLine("Connection established successfully");
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

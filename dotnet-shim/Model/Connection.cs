using System;
using MSCommerce.Interop;

namespace MSCommerce
{
    /// <summary>
    /// The connection of this PowerShell session (Get-MSCommerceConnection): who, which tenant,
    /// which service and authority, and until when the access token is valid. Never a token.
    /// </summary>
    public sealed class Connection
    {
        /// <summary>The signed-in account (its user principal name), when known; none for an application.</summary>
        public string? Account { get; set; }

        /// <summary>Delegated (a user signed in), AppOnly (an application's certificate or secret), ManagedIdentity or WorkloadIdentity.</summary>
        public string? AuthType { get; set; }

        /// <summary>The application (client) id the tokens are issued to.</summary>
        public string? AppId { get; set; }

        /// <summary>The thumbprint of the certificate an application signs in with.</summary>
        public string? CertificateThumbprint { get; set; }

        /// <summary>The account's tenant id, when known.</summary>
        public string? TenantId { get; set; }

        /// <summary>The account's own tenant, which the token cache keys it by; differs from TenantId when a partner's account is connected to a customer's tenant.</summary>
        public string? HomeTenantId { get; set; }

        /// <summary>The tenants this connection holds tokens for (their ids), its own first; -TenantId on the other cmdlets adds to it.</summary>
        public string[] Tenants { get; set; } = new string[0];

        /// <summary>How the session was made: Browser, DeviceCode, TokenCache (silently, from an earlier sign-in), AccessToken; AppOnly or WorkloadIdentity for an application, or the managed identity's source (AppService, AzureArc, Imds, ...); null when not connected.</summary>
        public string? Flow { get; set; }

        /// <summary>The cloud: Public, or Custom for other endpoints (such as the emulator).</summary>
        public string? Environment { get; set; }

        /// <summary>CurrentUser when the sign-in is kept for later sessions, Process when not.</summary>
        public string? ContextScope { get; set; }

        /// <summary>Where the sign-in is kept: the OS secret store's name, or the file folder.</summary>
        public string? TokenCache { get; set; }

        /// <summary>The licensing service.</summary>
        public string? ServiceUri { get; set; }

        /// <summary>The sign-in authority, for sessions signed in through one.</summary>
        public string? AuthorityUri { get; set; }

        /// <summary>When the current access token expires (it is refreshed before then).</summary>
        public DateTimeOffset? ExpiresOn { get; set; }

        /// <summary>True once Connect-MSCommerce has succeeded in this session.</summary>
        public bool Connected { get; set; }

        /// <summary>The account, or a note that there is no connection.</summary>
        public override string ToString() => Connected ? (Account ?? AppId ?? "(connected)") : "(not connected)";

        internal static Connection FromWire(ConnectionWire wire) => new Connection
        {
            Account = wire.Account,
            AuthType = wire.AuthType,
            AppId = wire.AppId,
            CertificateThumbprint = wire.CertificateThumbprint,
            TenantId = wire.TenantId,
            HomeTenantId = wire.HomeTenantId,
            Tenants = wire.Tenants ?? new string[0],
            Flow = wire.Flow,
            Environment = wire.Environment,
            ContextScope = wire.ContextScope,
            TokenCache = wire.TokenCache,
            ServiceUri = wire.ServiceUri,
            AuthorityUri = wire.AuthorityUri,
            ExpiresOn = wire.ExpiresOn is ulong seconds ? DateTimeOffset.FromUnixTimeSeconds((long)seconds) : (DateTimeOffset?)null,
            Connected = wire.Connected,
        };
    }
}

using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets the policies of the licensing service.</para>
    /// <para type="description">Lists every policy, such as AllowSelfServicePurchase, with its description and default value.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Get-MSCommercePolicies
    /// </code>
    /// <para>Lists the policies of the connected tenant with their descriptions and default values.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Get-MSCommercePolicies -Token $token | Select-Object PolicyId, DefaultValue
    /// </code>
    /// <para>Uses a token obtained elsewhere instead of the connection, as automation does.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MSCommercePolicies", DefaultParameterSetName = DefaultParameterSet)]
    [OutputType(typeof(Policy), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class GetMSCommercePoliciesCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 0, ParameterSetName = DefaultParameterSet)]
        public string? Token { get; set; }

        /// <summary>
        /// <para type="description">The tenants to work in, by id or domain (one or several): a partner's customers, reached through delegated admin relationships (GDAP) with the account that connected, or the tenants a multi-tenant application is consented in. The connection's own tenant unless given. Several tenants run concurrently; each output object names its tenant (TenantId), and a tenant that cannot be reached is one error aimed at it while the others go on.</para>
        /// </summary>
        [Parameter(ParameterSetName = DefaultParameterSet)]
        [ValidateCount(1, 1000)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (TenantId != null)
            {
                WriteTenantResults((client, stop, sink) => client.InTenants(CoreRequest.GetPolicies(Token), TenantId, stop, sink));
                return;
            }

            WriteResult((client, stop, sink) => client.GetPolicies(Token, stop, sink));
        }
    }
}

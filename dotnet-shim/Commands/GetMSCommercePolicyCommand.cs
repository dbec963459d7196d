using System.Management.Automation;
using MSCommerce.Interop;
using MSCommerce.Completion;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets one policy of the licensing service.</para>
    /// <para type="description">Gets the policy with the given id, with its description and default value.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Get-MSCommercePolicy -PolicyId AllowSelfServicePurchase
    /// </code>
    /// <para>Shows the description of AllowSelfServicePurchase and its default value for the tenant.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MSCommercePolicy", DefaultParameterSetName = DefaultParameterSet)]
    [OutputType(typeof(Policy), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class GetMSCommercePolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>The only parameter set.</summary>
        public const string DefaultParameterSet = "Default";

        /// <summary>
        /// <para type="description">The policy's id, such as AllowSelfServicePurchase.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = DefaultParameterSet)]
        [ArgumentCompleter(typeof(PolicyIdCompleter))]
        public string PolicyId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 1, ParameterSetName = DefaultParameterSet)]
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
                WriteTenantResults((client, stop, sink) => client.InTenants(CoreRequest.GetPolicy(PolicyId, Token), TenantId, stop, sink));
                return;
            }

            WriteResult((client, stop, sink) => client.GetPolicy(PolicyId, Token, stop, sink));
        }
    }
}

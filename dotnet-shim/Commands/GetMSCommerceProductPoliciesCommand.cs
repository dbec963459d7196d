using System.Management.Automation;
using MSCommerce.Completion;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Lists the products (or offer types) a policy applies to, with each one's value.</para>
    /// <para type="description">Without -Scope, lists the Microsoft products and whether self-service purchase is Enabled, Disabled or OnlyTrialsWithoutPaymentMethod for each. With -Scope OfferType, lists the third-party offer types instead.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase
    /// </code>
    /// <para>Lists every product available for self-service purchase and whether it is enabled.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -Scope OfferType
    /// </code>
    /// <para>Lists the third-party offer types (SaaS, POWERBIVISUALS, DYNAMICSCE, DYNAMICSBC) and their values.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | Where-Object { $_.PolicyValue -eq 'Disabled' }
    /// </code>
    /// <para>Lists the products whose self-service purchase is blocked.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase -TenantId adatum.onmicrosoft.com, litware.onmicrosoft.com | Export-Csv ./customers.csv
    /// </code>
    /// <para>A partner lists the products of two customers' tenants (through delegated admin relationships, with no new sign-in); each row names its TenantId.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MSCommerceProductPolicies", DefaultParameterSetName = DefaultParameterSet)]
    [OutputType(typeof(ProductPolicy), typeof(ScopePolicy), ParameterSetName = new[] { DefaultParameterSet })]
    public sealed class GetMSCommerceProductPoliciesCommand : MSCommerceCmdletBase
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
        /// <para type="description">What to list: product (the default) or OfferType.</para>
        /// </summary>
        [Parameter(Position = 1, ParameterSetName = DefaultParameterSet)]
        public string? Scope { get; set; }

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 2, ParameterSetName = DefaultParameterSet)]
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
                WriteTenantResults((client, stop, sink) => client.InTenants(CoreRequest.GetProductPolicies(PolicyId, Scope, Token), TenantId, stop, sink));
                return;
            }

            WriteResult((client, stop, sink) => client.GetProductPolicies(PolicyId, Scope, Token, stop, sink));
        }
    }
}

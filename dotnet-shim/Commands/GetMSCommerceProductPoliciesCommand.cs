using System.Management.Automation;
using MSCommerce.Completion;

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

        /// <inheritdoc />
        protected override void ProcessRecord() =>
            WriteResult((client, stop, sink) => client.GetProductPolicies(PolicyId, Scope, Token, stop, sink));
    }
}

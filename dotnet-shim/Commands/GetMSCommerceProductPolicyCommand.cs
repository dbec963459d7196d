using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets a policy's value for one product or one third-party offer type.</para>
    /// <para type="description">With -ProductId, gets the value for one Microsoft product; with -OfferType, for one third-party offer type such as SaaS.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N
    /// </code>
    /// <para>Gets the setting for one product (Power Automate per user, by its older id; the service answers with the current id).</para>
    /// </example>
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS
    /// </code>
    /// <para>Gets the setting for third-party software-as-a-service offers.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MSCommerceProductPolicy", DefaultParameterSetName = ProductSet)]
    [OutputType(typeof(ProductPolicy), ParameterSetName = new[] { ProductSet })]
    [OutputType(typeof(ScopePolicy), ParameterSetName = new[] { OfferTypeSet })]
    public sealed class GetMSCommerceProductPolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>One product, by -ProductId (the default).</summary>
        public const string ProductSet = "Product";

        /// <summary>One offer type, by -OfferType.</summary>
        public const string OfferTypeSet = "OfferType";

        /// <summary>
        /// <para type="description">The policy's id, such as AllowSelfServicePurchase.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeSet)]
        public string PolicyId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The product's id, such as CFQ7TTC0KP0N (Get-MSCommerceProductPolicies lists them).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductSet)]
        public string ProductId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The third-party offer type: SaaS, POWERBIVISUALS, DYNAMICSCE or DYNAMICSBC.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = OfferTypeSet)]
        public string OfferType { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 2, ParameterSetName = ProductSet)]
        [Parameter(Position = 2, ParameterSetName = OfferTypeSet)]
        public string? Token { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var item = ParameterSetName == OfferTypeSet ? PolicyItem.OfferTypeOf(OfferType) : PolicyItem.Product(ProductId);
            WriteResult((client, stop, sink) => client.GetProductPolicy(PolicyId, item, Token, stop, sink));
        }
    }
}

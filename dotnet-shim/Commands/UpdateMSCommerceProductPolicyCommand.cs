using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Allows or blocks self-service purchase (and trials) of one product or one third-party offer type.</para>
    /// <para type="description">Sets the policy's value for one product (-ProductId) or offer type (-OfferType), either with -Value (Enabled, Disabled, or OnlyTrialsWithoutPaymentMethod for products that offer a trial without a payment method) or with -Enabled $true/$false. The change affects only later purchases and trials. Prints "Update policy product success" and outputs the updated item.</para>
    /// </summary>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0KP0N -Enabled $False
    /// </code>
    /// <para>Blocks self-service purchase of one product; -Enabled $True allows it again.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId CFQ7TTC0HD33 -Value OnlyTrialsWithoutPaymentMethod
    /// </code>
    /// <para>Allows only trials that need no payment method for Visio Plan 1; users cannot buy it.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -OfferType SaaS -Value Disabled
    /// </code>
    /// <para>Blocks self-service purchase of third-party SaaS offers.</para>
    /// </example>
    /// <example>
    /// <code>
    /// Import-Module -Name MSCommerce
    /// Connect-MSCommerce #sign-in with your global or billing administrator account when prompted
    /// $product = Get-MSCommerceProductPolicies -PolicyId AllowSelfServicePurchase | where {$_.ProductName -match 'Power Automate per user'}
    /// Update-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductId $product.ProductID -Value "Disabled"
    /// </code>
    /// <para>The documentation's example script: find Power Automate per user and disable self-service purchase for it.</para>
    /// </example>
    [Cmdlet(VerbsData.Update, "MSCommerceProductPolicy", DefaultParameterSetName = ProductEnumSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ProductPolicy), ParameterSetName = new[] { ProductEnumSet, ProductToggleSet })]
    [OutputType(typeof(ScopePolicy), ParameterSetName = new[] { OfferTypeEnumSet, OfferTypeToggleSet })]
    public sealed class UpdateMSCommerceProductPolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>A product, with -Value (the default).</summary>
        public const string ProductEnumSet = "ProductEnum";

        /// <summary>A product, with -Enabled.</summary>
        public const string ProductToggleSet = "ProductToggle";

        /// <summary>An offer type, with -Value.</summary>
        public const string OfferTypeEnumSet = "OfferTypeEnum";

        /// <summary>An offer type, with -Enabled.</summary>
        public const string OfferTypeToggleSet = "OfferTypeToggle";

        /// <summary>
        /// <para type="description">The policy's id, such as AllowSelfServicePurchase.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductEnumSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductToggleSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeToggleSet)]
        public string PolicyId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The product's id, such as CFQ7TTC0KP0N (Get-MSCommerceProductPolicies lists them).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductEnumSet)]
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductToggleSet)]
        public string ProductId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The third-party offer type: SaaS, POWERBIVISUALS, DYNAMICSCE or DYNAMICSBC.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Mandatory = true, Position = 1, ParameterSetName = OfferTypeToggleSet)]
        public string OfferType { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The new value: Enabled, Disabled, or OnlyTrialsWithoutPaymentMethod (products whose trial needs no payment method; offer types take only Enabled or Disabled).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = ProductEnumSet)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = OfferTypeEnumSet)]
        [ValidateSet("Enabled", "Disabled", "OnlyTrialsWithoutPaymentMethod")]
        public string Value { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">$true to enable, $false to disable (a string, as in the original module: "True" and "false" bind too).</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = ProductToggleSet)]
        [Parameter(Mandatory = true, Position = 2, ParameterSetName = OfferTypeToggleSet)]
        [ValidateEnabled]
        public string Enabled { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 3, ParameterSetName = ProductEnumSet)]
        [Parameter(Position = 3, ParameterSetName = ProductToggleSet)]
        [Parameter(Position = 3, ParameterSetName = OfferTypeEnumSet)]
        [Parameter(Position = 3, ParameterSetName = OfferTypeToggleSet)]
        public string? Token { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            var offerType = ParameterSetName == OfferTypeEnumSet || ParameterSetName == OfferTypeToggleSet;
            var toggle = ParameterSetName == ProductToggleSet || ParameterSetName == OfferTypeToggleSet;
            var item = offerType ? PolicyItem.OfferTypeOf(OfferType) : PolicyItem.Product(ProductId);
            var change = toggle ? PolicyChange.ToEnabled(Enabled) : PolicyChange.ToValue(Value);
            var newValue = toggle ? "Enabled " + Enabled : Value;

            if (!ShouldProcess(item.Id, "Set " + PolicyId + " to " + newValue))
            {
                WriteHostLine("Updating product policy aborted");
                return;
            }

            WriteResult(
                (client, stop, sink) => client.UpdateProductPolicy(PolicyId, item, change, Token, stop, sink),
                beforeOutput: () => WriteHostLine("Update policy product success"));
        }
    }
}

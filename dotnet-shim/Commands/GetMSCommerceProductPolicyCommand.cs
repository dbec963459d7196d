using System;
using System.Management.Automation;
using MSCommerce.Completion;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets a policy's value for one product or one third-party offer type.</para>
    /// <para type="description">With -ProductId, gets the value for Microsoft products by id; with -ProductName, by name (wildcards allowed); with -OfferType, for third-party offer types such as SaaS. Ids bind from piped objects (ProductId, or ScopeId for offer types), and each id that fails is one non-terminating error.</para>
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
    /// <example>
    /// <code>
    /// Get-MSCommerceProductPolicy -PolicyId AllowSelfServicePurchase -ProductName 'Visio*'
    /// </code>
    /// <para>Gets the settings of every product whose name starts with Visio.</para>
    /// </example>
    [Cmdlet(VerbsCommon.Get, "MSCommerceProductPolicy", DefaultParameterSetName = ProductSet)]
    [OutputType(typeof(ProductPolicy), ParameterSetName = new[] { ProductSet, ProductNameSet })]
    [OutputType(typeof(ScopePolicy), ParameterSetName = new[] { OfferTypeSet })]
    public sealed class GetMSCommerceProductPolicyCommand : MSCommerceCmdletBase
    {
        /// <summary>Products by -ProductId (the default).</summary>
        public const string ProductSet = "Product";

        /// <summary>Offer types by -OfferType.</summary>
        public const string OfferTypeSet = "OfferType";

        /// <summary>Products by -ProductName.</summary>
        public const string ProductNameSet = "ProductName";

        /// <summary>
        /// <para type="description">The policy's id, such as AllowSelfServicePurchase.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductSet)]
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeSet)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ProductNameSet)]
        [ArgumentCompleter(typeof(PolicyIdCompleter))]
        public string PolicyId { get; set; } = string.Empty;

        /// <summary>
        /// <para type="description">The product's id, such as CFQ7TTC0KP0N (Get-MSCommerceProductPolicies lists them), or several.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = ProductSet)]
        [ArgumentCompleter(typeof(ProductIdCompleter))]
        public string[] ProductId { get; set; } = Array.Empty<string>();

        /// <summary>
        /// <para type="description">The third-party offer type: SaaS, POWERBIVISUALS, DYNAMICSCE or DYNAMICSBC, or several. Binds ScopeId from piped offer-type items.</para>
        /// </summary>
        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = OfferTypeSet)]
        [Alias("ScopeId")]
        [ArgumentCompleter(typeof(OfferTypeCompleter))]
        public string[] OfferType { get; set; } = Array.Empty<string>();

        /// <summary>
        /// <para type="description">Products by name instead of id; wildcards (* ? [a-z]) allowed. A name that matches no product is an error.</para>
        /// </summary>
        [Parameter(Mandatory = true, ParameterSetName = ProductNameSet)]
        [ArgumentCompleter(typeof(ProductNameCompleter))]
        public string[] ProductName { get; set; } = Array.Empty<string>();

        /// <summary>
        /// <para type="description">An access token to use instead of the connection made by Connect-MSCommerce.</para>
        /// </summary>
        [Parameter(Position = 2, ParameterSetName = ProductSet)]
        [Parameter(Position = 2, ParameterSetName = OfferTypeSet)]
        [Parameter(ParameterSetName = ProductNameSet)]
        public string? Token { get; set; }

        /// <summary>
        /// <para type="description">The tenants to work in, by id or domain (one or several): a partner's customers, reached through delegated admin relationships (GDAP) with the account that connected, or the tenants a multi-tenant application is consented in. The connection's own tenant unless given. Several tenants run concurrently; each output object names its tenant (TenantId), and a tenant that cannot be reached is one error aimed at it while the others go on.</para>
        /// </summary>
        [Parameter(ParameterSetName = ProductSet)]
        [Parameter(ParameterSetName = OfferTypeSet)]
        [Parameter(ParameterSetName = ProductNameSet)]
        [ValidateCount(1, 1000)]
        [ValidateNotNullOrEmpty]
        public string[]? TenantId { get; set; }

        /// <inheritdoc />
        protected override void ProcessRecord()
        {
            if (TenantId != null)
            {
                if (ParameterSetName == ProductNameSet)
                {
                    WriteTenantResults((client, stop, sink) => client.InTenants(CoreRequest.SelectItems(PolicyId, "Product", false, ProductName, null, Token), TenantId, stop, sink));
                    return;
                }

                var inOfferTypes = ParameterSetName == OfferTypeSet;
                foreach (var id in inOfferTypes ? OfferType : ProductId)
                {
                    var item = inOfferTypes ? PolicyItem.OfferTypeOf(id) : PolicyItem.Product(id);
                    WriteTenantResults((client, stop, sink) => client.InTenants(CoreRequest.GetProductPolicy(PolicyId, item, Token), TenantId, stop, sink));
                }

                return;
            }

            if (ParameterSetName == ProductNameSet)
            {
                var client = Client();
                var selection = Run((stop, sink) => client.SelectItems(PolicyId, "Product", false, ProductName, null, Token, stop, sink));
                if (selection != null)
                {
                    foreach (var error in selection.Errors)
                    {
                        WriteError(ToErrorRecord(error));
                    }

                    WriteObject(selection.Items, enumerateCollection: true);
                }

                return;
            }

            var offerType = ParameterSetName == OfferTypeSet;
            foreach (var id in offerType ? OfferType : ProductId)
            {
                var item = offerType ? PolicyItem.OfferTypeOf(id) : PolicyItem.Product(id);
                WriteResult((client, stop, sink) => client.GetProductPolicy(PolicyId, item, Token, stop, sink));
            }
        }
    }
}
